"""Keras' `dataset_imdb`, rebuilt exactly from the raw reviews of the Large Movie Review Dataset.

The recipe (checked against every IMDb figure the source prints): reviews in file-name order,
positives then negatives; Keras' `text_to_word_sequence`; index = rank in Keras' word index + 3,
with 1 = start of review, 2 = out of vocabulary; then shuffled with `RandomState(113)`. The
tokenised result is cached (keyed by the source files' checksums), so only the first load reads
the 50,000 text files.
"""

from __future__ import annotations

import hashlib
import json
import re
import tarfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.sparse as sp

from .files import REGISTRY, DataError, atomic_write, cache_root, data_root, expected_hash, fetch

START, OOV, INDEX_FROM = 1, 2, 3
_REVIEW = re.compile(r"aclImdb/(train|test)/(pos|neg)/(\d+_\d+\.txt)$")
# Keras' default `filters`: each of these becomes a word boundary.
_KERAS_FILTERS = str.maketrans({c: " " for c in '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'})


class Imdb(NamedTuple):
    """Reviews as lists of word indices, and labels (1 positive, 0 negative)."""

    x_train: list[np.ndarray]
    y_train: np.ndarray
    x_test: list[np.ndarray]
    y_test: np.ndarray


def text_to_word_sequence(text: str) -> list[str]:
    """Keras' tokeniser: lower-case, punctuation to spaces, split on spaces."""
    return [w for w in text.lower().translate(_KERAS_FILTERS).split(" ") if w]


def load_word_index() -> dict[str, int]:
    """Keras' IMDb word index: word → frequency rank (1 = "the")."""
    path = fetch("imdb/imdb_word_index.json")
    try:
        index = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise DataError(f"{path} is not Keras' word index (JSON): {err}; delete it and fetch "
                        "it again.") from err
    if not isinstance(index, dict) or not all(isinstance(v, int) for v in index.values()):
        raise DataError(f"{path} is not Keras' word index: expected a JSON object of word → rank.")
    return index


def _review_source() -> Path:
    """The reviews: the repacked labelled tarball, an extracted folder, or the official tarball."""
    root = data_root() / "imdb"
    if (root / "aclImdb_labelled.tar.xz").exists():
        return fetch("imdb/aclImdb_labelled.tar.xz")
    if (root / "aclImdb").is_dir():
        return root / "aclImdb"
    return fetch("imdb/aclImdb_v1.tar.gz")


def _read_reviews(source: Path) -> dict[tuple[str, str], dict[str, str]]:
    """{(split, label): {file name: text}} for the 50,000 labelled reviews."""
    reviews: dict[tuple[str, str], dict[str, str]] = {
        (split, label): {} for split in ("train", "test") for label in ("pos", "neg")}
    try:
        if source.is_dir():
            for path in source.glob("*/*/*.txt"):
                match = _REVIEW.search(path.as_posix())
                if match:
                    reviews[match[1], match[2]][match[3]] = path.read_text(encoding="utf-8")
        else:
            with tarfile.open(source) as tar:
                for member in tar:
                    match = _REVIEW.search(member.name)
                    if match and member.isfile():
                        text = tar.extractfile(member).read().decode("utf-8")
                        reviews[match[1], match[2]][match[3]] = text
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as err:
        raise DataError(f"{source} could not be read as the IMDb reviews: {err}") from err
    counts = {key: len(texts) for key, texts in reviews.items()}
    if any(n != 12_500 for n in counts.values()):
        raise DataError(f"{source} should hold 12,500 reviews per split and label, found {counts}.")
    return reviews


def _tokenise(texts: list[str], word_index: dict[str, int]) -> list[np.ndarray]:
    def encode(text: str) -> np.ndarray:
        words = text_to_word_sequence(text)
        return np.array([START] + [word_index.get(w, OOV - INDEX_FROM) + INDEX_FROM for w in words],
                        dtype=np.int32)

    return [encode(t) for t in texts]


def _build(source: Path) -> dict[str, np.ndarray]:
    """Tokenise and shuffle every review with the full vocabulary, as flat arrays for caching."""
    reviews, word_index = _read_reviews(source), load_word_index()
    arrays = {}
    rng = np.random.RandomState(113)
    for split in ("train", "test"):
        texts, labels = [], []
        for label, value in (("pos", 1), ("neg", 0)):
            files = reviews[split, label]
            texts += [files[name] for name in sorted(files)]
            labels += [value] * len(files)
        order = np.arange(len(texts))
        rng.shuffle(order)
        sequences = _tokenise([texts[i] for i in order], word_index)
        arrays[f"{split}_tokens"] = np.concatenate(sequences)
        arrays[f"{split}_offsets"] = np.cumsum([len(s) for s in sequences])[:-1]
        arrays[f"{split}_labels"] = np.asarray(labels, dtype=np.int64)[order]
    return arrays


def _cache_path(source: Path) -> Path:
    if source.is_dir():
        identity = "folder:" + str(source.resolve())
    else:
        identity = next(expected_hash(f.path, f.hash) for f in REGISTRY.values()
                        if source.name == Path(f.path).name)
    # The recipe is this module's code: a change to the tokeniser or the shuffle is a new cache.
    recipe = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()
    index = REGISTRY["imdb/imdb_word_index.json"]
    key = f"{identity}|{expected_hash(index.path, index.hash)}|{recipe}"
    return cache_root() / f"imdb-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def load_imdb(num_words: int | None = None) -> Imdb:
    """IMDb as Keras' `dataset_imdb(num_words)` gives it: 25,000 training, 25,000 test reviews.

    Indices ≥ `num_words` become 2 (out of vocabulary), as in Keras.
    """
    source = _review_source()
    cache = _cache_path(source)
    if not cache.exists():
        arrays = _build(source)
        atomic_write(cache, lambda tmp: np.savez(tmp, **arrays))
    try:
        with np.load(cache) as stored:
            arrays = {name: stored[name] for name in stored.files}
    except Exception:  # a damaged cache (an interrupted copy, a full disk): build it again
        arrays = _build(source)
        atomic_write(cache, lambda tmp: np.savez(tmp, **arrays))

    def split(name: str) -> list[np.ndarray]:
        tokens = arrays[f"{name}_tokens"]
        if num_words is not None:
            tokens = np.where(tokens < num_words, tokens, OOV).astype(np.int32)
        return np.split(tokens, arrays[f"{name}_offsets"])

    return Imdb(split("train"), arrays["train_labels"], split("test"), arrays["test_labels"])


def decode_review(sequence, word_index: dict[str, int]) -> str:
    """The words of an encoded review, with Keras' markers <PAD>, <START>, <UNK>, <UNUSED>."""
    words = {rank + INDEX_FROM: word for word, rank in word_index.items()}
    words.update({0: "<PAD>", START: "<START>", OOV: "<UNK>", 3: "<UNUSED>"})
    return " ".join(words.get(int(i), "<UNK>") for i in sequence)


def one_hot(sequences, dim: int) -> sp.csr_matrix:
    """Bag of words: an n × dim sparse 0/1 matrix with a 1 where review i contains word j."""
    rows = np.repeat(np.arange(len(sequences)), [len(s) for s in sequences])
    cols = np.concatenate(sequences)
    keep = cols < dim
    matrix = sp.csr_matrix((np.ones(keep.sum(), dtype=np.float32), (rows[keep], cols[keep])),
                           shape=(len(sequences), dim))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0  # a word that occurs several times still counts once
    return matrix


def pad_sequences(sequences, maxlen: int) -> np.ndarray:
    """Keras' `pad_sequences` defaults: keep the last `maxlen` words, pad with 0 at the front."""
    padded = np.zeros((len(sequences), maxlen), dtype=np.int64)
    for row, seq in zip(padded, sequences):
        tail = seq[-maxlen:]
        if len(tail):
            row[-len(tail):] = tail
    return padded
