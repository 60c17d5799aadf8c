"""The training histories that the source prints, read from its text into the registry.

    python -m isldl_book.source_histories [../shared/seed/islr2-ch10-deep-learning-lab-R.txt]

The seed prints whole histories in two forms: R's print of `history$metrics` (`$loss`, then
`[1] v v …`, `[9] …`, each line starting with the index of its first value) and Keras' verbose
lines (`375/375 - 1s - loss: 0.6660 - accuracy: 0.8329 - val_loss: …`), with the marks of its
conversion to text (a `- ` before a line, `\\$` for `$`, a stray `$\\hbox{\\tt [1]}`, "val loss"
for "val_loss"). `FITS` names, for each fit, the seed's lines that hold its history; this
module reads them, checks that the indices run on without a gap and that every quantity has
one value per epoch, and writes `isldl/histories.yaml`, which `isldl.source_history` reads.
The tests read the seed again and compare.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from isldl.data.files import atomic_write

from . import BOOK_ROOT

SEED = BOOK_ROOT.parent / "shared" / "seed" / "islr2-ch10-deep-learning-lab-R.txt"
REGISTRY = BOOK_ROOT / "code" / "isldl" / "histories.yaml"


@dataclass(frozen=True)
class PrintedHistory:
    """Where the seed prints one fit's history: its lines (1-based, inclusive), how many
    epochs, and what the fit is."""

    first: int
    last: int
    epochs: int
    what: str


FITS = {
    "hitters.nn": PrintedHistory(
        222, 532, 600, "the Hitters network, fit(epochs = 600, batch_size = 32), with the "
        "test players as validation data: print of history$metrics"),
    "mnist.mlp": PrintedHistory(
        630, 670, 15, "the MNIST network, fit(epochs = 15, batch_size = 128, "
        "validation_split = 0.2): print of history$metrics"),
    "mnist.logistic": PrintedHistory(
        707, 774, 30, "the multiclass logistic regression, fit(epochs = 30, batch_size = 128, "
        "validation_split = 0.2): Keras' verbose output, one line per epoch"),
    "cifar.cnn": PrintedHistory(
        888, 915, 10, "the CIFAR-100 CNN, fit(epochs = 10, batch_size = 128, "
        "validation_split = 0.2): print of history$metrics"),
    "imdb.dense": PrintedHistory(
        2285, 2316, 20, "the IMDb dense network, fit(epochs = 20, batch_size = 512), with the "
        "2,000 held-out reviews as validation data: print of history$metrics"),
    "imdb.dense_continued": PrintedHistory(
        2319, 2350, 20, "the same network's second fit() call, 20 epochs more, with the test "
        "reviews as validation data: print of history$metrics"),
    "imdb.lstm": PrintedHistory(
        2412, 2436, 3, "the IMDb LSTM, fit(epochs = 3, batch_size = 128), with the test "
        "reviews as validation data: print of history$metrics"),
    "nyse.rnn": PrintedHistory(
        2857, 2880, 75, "the NYSE RNN, with the test years as validation data: print of "
        "history$metrics"),
    "nyse.nonlinear_ar": PrintedHistory(
        3051, 3080, 30, "the nonlinear AR network, fit(epochs = 30, batch_size = 32), with "
        "the test years as validation data: print of history$metrics"),
}

# The source's names of the quantities, as ours (isldl.fit's history columns).
NAMES = {"loss": "loss", "accuracy": "accuracy", "acc": "accuracy",
         "mean_absolute_error": "mae", "val_loss": "val_loss", "val_accuracy": "val_accuracy",
         "val_acc": "val_accuracy", "val_mean_absolute_error": "val_mae"}
_HEADER = re.compile(r"^[-\s]*\\?\$\s*(val[ _])?(\w+)\s*$")
_NUMBER = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"
# a run of values after the index of its first: "[9] 0.42 0.45"; a line may hold several runs
_RUN = re.compile(rf"\[(\d+)\]((?:\s+{_NUMBER})+)")
_RUNS = re.compile(rf"^(?:\s*\[\d+\](?:\s+{_NUMBER})+)+\s*$")
_KERAS = re.compile(r"(val[ _])?(loss|accuracy): (\d+\.\d+)")
_CONVERSION_MARKS = re.compile(r"\$|\\hbox\{\\tt|\}|\\ ")


def _r_vectors(lines: list[str]) -> dict[str, list[float | None]]:
    """R's printed vectors: {name: values}, each run of values at the index it starts with.
    Where the seed's text lost lines, the epochs between are None; an index that goes back is
    an error."""
    columns: dict[str, list[float]] = {}
    name = None
    for line in lines:
        header = _HEADER.match(line)
        if header:
            name = NAMES.get(("val_" if header[1] else "") + header[2])
            if name is not None:
                columns[name] = []
            continue
        text = _CONVERSION_MARKS.sub(" ", line.strip().removeprefix("- ")).strip()
        if name is None or not _RUNS.match(text):
            continue
        for index, values in _RUN.findall(text):
            if int(index) <= len(columns[name]):
                raise ValueError(f"{name}: [{index}] follows {len(columns[name])} values")
            columns[name] += [None] * (int(index) - 1 - len(columns[name]))
            columns[name] += [float(v) for v in values.split()]
    return columns


def _keras_lines(lines: list[str]) -> dict[str, list[float]]:
    """Keras' verbose lines: one epoch per line that reports a loss."""
    columns: dict[str, list[float]] = {}
    for line in lines:
        for val, name, value in _KERAS.findall(line):
            columns.setdefault(("val_" if val else "") + name, []).append(float(value))
    return columns


def read_history(seed_lines: list[str], printed: PrintedHistory) -> dict[str, list]:
    """The history that `printed` points at: {our column name: one value per epoch, None
    where the seed's text lost it}."""
    lines = seed_lines[printed.first - 1:printed.last]
    keras = any("Epoch 1/" in line for line in lines)
    columns = _keras_lines(lines) if keras else _r_vectors(lines)
    for values in columns.values():  # lines lost at the end of a quantity
        values += [None] * (printed.epochs - len(values)) if not keras else []
    wrong = {name: len(values) for name, values in columns.items()
             if len(values) != printed.epochs}
    if not columns or wrong:
        raise ValueError(f"lines {printed.first}–{printed.last} of the seed: expected "
                         f"{printed.epochs} values of each quantity, found {wrong or 'none'}")
    return columns


def histories(seed: Path = SEED) -> dict[str, dict]:
    """Every printed history of the seed, as the registry holds it."""
    seed_lines = seed.read_text(encoding="utf-8").splitlines()
    registry = {}
    for key, printed in FITS.items():
        columns = read_history(seed_lines, printed)
        lost = {name: values.count(None) for name, values in columns.items() if None in values}
        registry[key] = {
            "where": f"seed lines {printed.first}–{printed.last}: {printed.what}"
                     + ("; epochs lost in the seed's text: " + ", ".join(
                         f"{n} of {name}" for name, n in lost.items()) if lost else ""),
            "epochs": printed.epochs, "columns": columns}
    return registry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl_book.source_histories",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("seed", type=Path, nargs="?", default=SEED)
    args = parser.parse_args(argv)
    try:
        registry = histories(args.seed)
    except (OSError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    header = ("# The training histories that the source prints, by fit: written by\n"
              "# `python -m isldl_book.source_histories` from the seed, never by hand.\n")
    atomic_write(REGISTRY, lambda tmp: tmp.write_text(
        header + yaml.safe_dump(registry, sort_keys=False, width=100, allow_unicode=True,
                                default_flow_style=None), encoding="utf-8"))
    print(f"wrote {REGISTRY}: {', '.join(registry)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
