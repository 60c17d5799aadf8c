"""CIFAR-100 from the official python pickles (`cifar-100-python.tar.gz`)."""

from __future__ import annotations

import pickle
import tarfile
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .files import REGISTRY, DataError, data_root, expected_hash, fetch, verify

# md5 of the three pickles inside the official tarball.
CIFAR100_PARTS = {
    "train": "md5:16019d7e3df5f24257cddd939b257f8d",
    "test": "md5:f0ef6b0ae62326f3e7ffdfab6717acfc",
    "meta": "md5:7973b15100ade9c7d40fb424638fde48",
}


class Cifar100(NamedTuple):
    """Images (N, 32, 32, 3) uint8, fine labels (0..99), coarse labels (0..19) and names."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    coarse_train: np.ndarray
    coarse_test: np.ndarray
    fine_names: list[str]
    coarse_names: list[str]


ARCHIVE = "cifar-100-python.tar.gz"


def _unpickle(path) -> dict:
    if not path.exists():
        raise DataError(f"{path} is missing: an extracted CIFAR-100 holds train, test and meta; "
                        "delete the folder and extract the archive again.", file=ARCHIVE)
    try:
        with open(path, "rb") as f:
            return pickle.load(f, encoding="latin1")
    except Exception as err:  # truncated or foreign files raise many different errors
        raise DataError(f"{path} is not a readable CIFAR-100 pickle: {err}",
                        file=ARCHIVE) from err


def read_cifar100(folder) -> Cifar100:
    """Read an extracted `cifar-100-python/` folder (files `train`, `test`, `meta`)."""
    folder = Path(folder)
    train, test, meta = (_unpickle(folder / part) for part in ("train", "test", "meta"))

    def images(batch: dict) -> np.ndarray:
        planes = np.asarray(batch["data"], dtype=np.uint8).reshape(-1, 3, 32, 32)
        return planes.transpose(0, 2, 3, 1)  # each row holds the red, green, blue planes

    def labels(batch: dict, key: str) -> np.ndarray:
        return np.asarray(batch[key], dtype=np.int64)

    try:
        return Cifar100(
            images(train), labels(train, "fine_labels"), images(test), labels(test, "fine_labels"),
            labels(train, "coarse_labels"), labels(test, "coarse_labels"),
            list(meta["fine_label_names"]), list(meta["coarse_label_names"]),
        )
    except (KeyError, ValueError) as err:
        raise DataError(f"{folder} is not CIFAR-100's python version: expected pickles with "
                        "'data' rows of 3,072 bytes, 'fine_labels', 'coarse_labels' and the label "
                        f"names ({type(err).__name__}: {err})", file=ARCHIVE) from err


def load_cifar100() -> Cifar100:
    """CIFAR-100: 50,000 training and 10,000 test images; extracted once under the data root."""
    folder = data_root() / "cifar-100-python"
    if not folder.exists():
        with tarfile.open(fetch(ARCHIVE)) as tar:
            tar.extractall(data_root(), filter="data")
    for part, checksum in CIFAR100_PARTS.items():
        if not (folder / part).exists():
            raise DataError(f"{folder / part} is missing; delete {folder} and fetch "
                            f"{REGISTRY[ARCHIVE].url} again.", file=ARCHIVE)
        try:
            verify(folder / part, expected_hash(f"{folder.name}/{part}", checksum))
        except DataError as err:
            raise DataError(str(err), file=ARCHIVE) from None
    return read_cifar100(folder)


def cifar100_stand_in(n_train: int = 512, n_test: int = 256, seed: int = 0) -> Cifar100:
    """Random images and labels with CIFAR-100's shapes and types: *not* CIFAR-100.

    Only for checking that the CIFAR chapter runs where the real data cannot be had (the
    tests); anything learned from it is noise.
    """
    rng = np.random.default_rng(seed)

    def images(n):
        return rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)

    def labels(n, k):
        return rng.integers(0, k, n, dtype=np.int64)

    return Cifar100(images(n_train), labels(n_train, 100), images(n_test), labels(n_test, 100),
                    labels(n_train, 20), labels(n_test, 20),
                    [f"class {i}" for i in range(100)], [f"superclass {i}" for i in range(20)])
