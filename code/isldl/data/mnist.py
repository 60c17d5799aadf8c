"""MNIST, read whole from the four official IDX files (torchvision's `MNIST/raw` layout)."""

from __future__ import annotations

import gzip
from typing import NamedTuple

import numpy as np

from .files import DataError, fetch


class Split(NamedTuple):
    """A data set's arrays: training inputs and labels, test inputs and labels."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def read_idx(path) -> np.ndarray:
    """Read a gzipped IDX file (the MNIST format) into one uint8 array, no per-item loop."""
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as err:
        raise DataError(f"{path} is not a readable gzip file: {err}") from err
    if len(raw) < 4:
        raise DataError(f"{path} is empty or cut short ({len(raw)} bytes): not an IDX file; "
                        "delete it and fetch it again.")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    if raw[:2] != b"\0\0" or raw[2] != 0x08 or len(raw) != offset + int(np.prod(shape)):
        raise DataError(f"{path} is not an IDX file of unsigned bytes with shape {shape}.")
    return np.frombuffer(raw, dtype=np.uint8, offset=offset).reshape(shape)


def load_mnist() -> Split:
    """The 60,000 training and 10,000 test digits: images (N, 28, 28) uint8, labels int64."""
    def part(stem: str) -> np.ndarray:
        return read_idx(fetch(f"MNIST/raw/{stem}-ubyte.gz"))

    return Split(
        part("train-images-idx3"), part("train-labels-idx1").astype(np.int64),
        part("t10k-images-idx3"), part("t10k-labels-idx1").astype(np.int64),
    )
