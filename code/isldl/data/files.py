"""Where the data lives, how it is fetched and how it is checked.

Every file the book reads is listed in `REGISTRY` with its checksum and, where one exists, its
official address. `fetch(name)` returns the path of a verified local copy: it looks under the
data root (`data_root`: `ISLDL_DATA`, else the checkout's `data/` or the user's cache),
downloads the official file with pooch when it is missing (pooch writes to a temporary file,
checks the hash, then moves it into place, so an interrupted download never leaves a file that
looks valid), and raises `DataError` with a message that names the file when it can be neither
found nor fetched.

Two settings of the environment change this, both documented in CONTRIBUTING.md:

- `ISLDL_OFFLINE=1`: never download; a missing file is a `DataError` at once, as on a machine
  without a network.
- `ISLDL_TEST_CHECKSUMS=<file.json>`, for the tests only: a JSON object {path under the data
  root: "md5:…" or "sha256:…"} whose checksums replace the registry's for those paths, so
  that a synthetic archive in a data set's exact format (a few hundred CIFAR-100 images, say)
  is accepted as that data set. The code's own checksums are never edited for a test.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..paths import installed_checkout


class DataError(RuntimeError):
    """A data file is missing, corrupt or unreadable; the message says which and what to do.
    `file` is the registry's name of the file, where one is concerned."""

    def __init__(self, message: str, file: str | None = None):
        super().__init__(message)
        self.file = file


@dataclass(frozen=True)
class RemoteFile:
    """One file of the book's data: its path under the data root, checksum and origin."""

    path: str
    hash: str  # "md5:…" or "sha256:…"
    url: str | None = None
    origin: str = ""


_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
_KERAS_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

REGISTRY: dict[str, RemoteFile] = {
    f.path: f
    for f in [
        RemoteFile("MNIST/raw/train-images-idx3-ubyte.gz", "md5:f68b3c2dcbeaaa9fbdd348bbdeb94873",
                   _MNIST_URL + "train-images-idx3-ubyte.gz", "the MNIST database (LeCun et al.)"),
        RemoteFile("MNIST/raw/train-labels-idx1-ubyte.gz", "md5:d53e105ee54ea40749a09fcbcd1e9432",
                   _MNIST_URL + "train-labels-idx1-ubyte.gz", "the MNIST database (LeCun et al.)"),
        RemoteFile("MNIST/raw/t10k-images-idx3-ubyte.gz", "md5:9fb629c4189551a2d022fa330f9573f3",
                   _MNIST_URL + "t10k-images-idx3-ubyte.gz", "the MNIST database (LeCun et al.)"),
        RemoteFile("MNIST/raw/t10k-labels-idx1-ubyte.gz", "md5:ec29112dd5afa0611ce80d1b7f02629c",
                   _MNIST_URL + "t10k-labels-idx1-ubyte.gz", "the MNIST database (LeCun et al.)"),
        RemoteFile("cifar-100-python.tar.gz", "md5:eb9058c3a382ffc7106e4002c42a8d85",
                   "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
                   "CIFAR-100 (Krizhevsky 2009)"),
        RemoteFile("imdb/aclImdb_v1.tar.gz", "md5:7c2ac02c03563afcf9b574c7e56c153a",
                   "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
                   "the Large Movie Review Dataset (Maas et al. 2011)"),
        # The labelled reviews alone, repacked; it has no download address of its own.
        RemoteFile("imdb/aclImdb_labelled.tar.xz",
                   "sha256:3f55b630f40e5f7c3a673eaa747b6288d4a135f15aea75c49a7e4033d4a97404",
                   None, "the labelled reviews of aclImdb_v1.tar.gz, repacked"),
        RemoteFile("imdb/imdb_word_index.json", "md5:bfafd718b763782e994055a2d397834f",
                   _KERAS_URL + "imdb_word_index.json", "Keras' IMDb word index"),
        RemoteFile("torch/mobilenet_v2_quantized_qnnpack.pt",
                   "sha256:2778381c5eb7639a2229bc39567cf644226e5aa3d3a1d46dfcee70b373738498",
                   None, "torchvision's quantized MobileNetV2 in TorchScript, from "
                   "pytorch/ios-demo-app"),
    ]
}


def data_root() -> Path:
    """The folder that holds the downloaded data: `$ISLDL_DATA`; else the `data/` folder of
    the book's checkout that this package was installed from (`make book`, `make test`: the
    book's layout, its contents ignored by git, listed in `data/README.md`); else, for a
    package installed from a wheel (pip, Colab), `~/.cache/isldl`."""
    if os.environ.get("ISLDL_DATA"):
        return Path(os.environ["ISLDL_DATA"]).expanduser()
    checkout = installed_checkout()
    return checkout / "data" if checkout else Path.home() / ".cache" / "isldl"


def cache_root() -> Path:
    """A writable folder for derived files (tokenised text, …), never inside the data root,
    which may be read-only: `$ISLDL_CACHE`, else `~/.cache/isldl-derived`."""
    default = Path.home() / ".cache" / "isldl-derived"
    return Path(os.environ.get("ISLDL_CACHE") or default).expanduser()


OFFLINE_ENV = "ISLDL_OFFLINE"
TEST_CHECKSUMS_ENV = "ISLDL_TEST_CHECKSUMS"


def offline() -> bool:
    """Whether downloads are switched off (`ISLDL_OFFLINE` set to anything but "" or "0")."""
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0")


def expected_hash(path: str, default: str) -> str:
    """The checksum that the file `path` (under the data root) must have: `default`, unless
    the tests' `$ISLDL_TEST_CHECKSUMS` file names another one for it."""
    overrides = os.environ.get(TEST_CHECKSUMS_ENV)
    if not overrides:
        return default
    try:
        checksums = json.loads(Path(overrides).read_text())
    except (OSError, ValueError) as err:
        checksums = err
    if not isinstance(checksums, dict):
        raise DataError(f"{TEST_CHECKSUMS_ENV}={overrides} is not a readable JSON object of "
                        f"checksums ({checksums})")
    return checksums.get(path, default)


def file_hash(path: Path, algorithm: str = "sha256") -> str:
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(path: Path, expected: str) -> None:
    """Raise `DataError` unless the file's checksum is `expected` ("md5:…" or "sha256:…")."""
    algorithm, want = expected.split(":")
    got = file_hash(path, algorithm)
    if got != want:
        raise DataError(
            f"{path} is corrupt or incomplete: its {algorithm} is {got}, expected {want}. "
            "Delete it and fetch it again (or copy a good one there)."
        )


def fetch(name: str) -> Path:
    """Path of the verified local copy of registry file `name`, downloading it when missing."""
    entry = REGISTRY[name]
    path = data_root() / entry.path
    checksum = expected_hash(entry.path, entry.hash)
    if path.exists():
        try:
            verify(path, checksum)
        except DataError as err:
            raise DataError(str(err), file=name) from None
        return path
    if entry.url is None or offline():
        why = f" (no download: {OFFLINE_ENV} is set)" if entry.url and offline() else ""
        raise DataError(missing_message(path, entry) + why, file=name)
    try:
        _download(entry, path, checksum)
    except Exception as err:  # no network, HTTP error, or a bad hash
        raise DataError(missing_message(path, entry)
                        + f" (the download failed: {_first_line(err)})", file=name) from err
    return path


def _first_line(err: Exception) -> str:
    """The gist of an error: its type and the start of its first line."""
    first = (str(err).strip().splitlines() or [""])[0]
    return f"{type(err).__name__}: {first[:120]}"


def missing_message(path: Path, entry: RemoteFile) -> str:
    where = f"download it from {entry.url}" if entry.url else f"copy it from {entry.origin}"
    return (
        f"{path.name} is missing: the book expects it at {path} "
        f"({entry.origin}); {where}, or point ISLDL_DATA at a folder that holds {entry.path}."
    )


def _download(entry: RemoteFile, path: Path, checksum: str) -> None:
    import pooch  # imported here: only a download needs it

    path.parent.mkdir(parents=True, exist_ok=True)
    # pooch announces each download on stderr, which would land in a rendered page: the
    # progress bar shows in a terminal only.
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel("WARNING")
    try:
        pooch.retrieve(entry.url, known_hash=checksum, fname=path.name, path=path.parent,
                       progressbar=sys.stderr.isatty())
    finally:
        logger.setLevel(level)


def atomic_write(path: Path, write) -> None:
    """Call `write(tmp_path)` and move the result to `path` only when it succeeded."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes files private; results and caches are not
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
