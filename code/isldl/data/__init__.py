"""The book's data sets, each loaded whole in one call (see `files` for where they live)."""

from .cifar import Cifar100, cifar100_stand_in, load_cifar100, read_cifar100
from .files import DataError, cache_root, data_root
from .imdb import decode_review, load_imdb, load_word_index, one_hot, pad_sequences
from .mnist import Split, load_mnist
from .pretrained import Pretrained, load_quantized_mobilenet, load_resnet50, top_classes
from .tables import (
    hitters_cv_folds,
    hitters_model_matrix,
    hitters_test_positions,
    imdb_validation_positions,
    load_hitters,
    load_nyse,
    r_scale,
)
