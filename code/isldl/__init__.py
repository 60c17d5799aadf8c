"""isldl: the helpers of the book *Deep learning with ISLR2, in Python*.

The chapters import what they need from here: the training loop (`fit`, `evaluate`,
`predict`), the lab's networks (`isldl.models`), the data loaders (`isldl.data`), pinned
results (`pinned_fit`), the source's numbers (`source_value`, `comparison_table`), plots, and
`start_chapter`, `load_or_stand_in` and `record` for what a chapter says about its run.
"""

from .chapter import callout, load_or_stand_in, record, start_chapter
from .pinned import Fit, PinError, pinned_fit
from .plots import image_grid, network_diagram, plot_history
from .source import comparison_table, source_value
from .summary import summary
from .train import (
    bf16_is_fast,
    Timer,
    default_device,
    evaluate,
    fit,
    keras_init,
    predict,
    rmsprop,
    set_seed,
    split_validation,
)


def n_parameters(model) -> int:
    """The number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
