"""Pinned results: train an expensive model once, commit the small result, load it afterwards.

`pinned_fit(name, model, x, y, test_data=(x_test, y_test), **settings)` fits `model` with
`isldl.fit(model, x, y, **settings)`, or loads the fit committed under `results/<name>/`, and
scores it on the test data with `isldl.evaluate`. What it does depends on the chapter's *mode*,
set once per chapter run (`isldl.start_chapter`; see `isldl.state`):

- `load` (renders, tests): load the pinned fit. A missing, stale or damaged pin is a
  `PinError` that names the fit, what differs, and the command that trains it again.
- `retrain`: train as the page says and save the result.
- `update`: load the pins that are current, retrain and save the others (missing, stale or
  damaged): what to run after changing the code that trains some of them.
- `missing`: train and save only the fits recorded as missing (`isldl.missing`), load the
  others as `load` does (a stale or damaged pin is still an error): what `make pins` runs.
- `rekey`: load each pin whose key differs in its code part alone, after writing today's code
  part into its pin.json, and train the pins that are missing: what to run after a change to
  what the key covers, never after a change to what a fit computes (delete the pins whose
  computation changed first).
- `fast`: train, with the fewer epochs and examples of `isldl.fast`, and save nothing.

A pin is stale when its key differs (`isldl.keys`: architecture, initial weights, the code
that the training reaches, settings, data). `pin.json` keeps each part, the SHA-256 of each
file it pins, and the arithmetic it was computed in (`isldl.machine.arithmetic`): loaded on
another processor, a fit's metrics are recomputed and must reproduce the recorded ones, bit
for bit where the arithmetic is the same, else within `isldl.machine`'s tolerances.

`pinned_result(name, function, *args, **settings)` does the same for an expensive computation
that is not a network's fit, such as the lasso's path of penalties: its result, a dataclass of
arrays, is pinned as `result.npz`, and its key hashes the code that the function reaches, the
settings and the data.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch
from torch import nn

from . import fast, state
from . import train as training
from .data.files import atomic_write, file_hash
from .keys import changed_parts, fit_key, result_key, settings_hash
from .machine import arithmetic, metrics_reproduced, run_facts, same_arithmetic
from .missing import MISSING, TRAIN_MISSING, announce, read_missing, record_missing
from .paths import relative, results_root
from .state import WRITING_MODES


class PinError(RuntimeError):
    """A pinned result is missing, stale or damaged; the message names the fit and the fix."""


@dataclass
class Fit:
    """A trained model with its history and test metrics, trained now or loaded; where and how
    it was trained (`processor`, `device`, `precision`: bfloat16 or float32)."""

    model: nn.Module
    history: pd.DataFrame
    metrics: dict[str, float]
    loaded: bool
    train_seconds: float
    processor: str
    device: str
    precision: str


class Pin:
    """One pinned result, `results/<name>/`: its pin.json, the files it lists, and the
    checks that it is current (its key is today's) and intact (each file has its SHA-256).
    Each file is read and hashed at most once."""

    def __init__(self, name: str, files: tuple[str, ...], results: Path | None = None):
        self.name, self.files = name, files
        self.folder = (results or results_root()) / name
        self._checked: dict | None = None

    def chapter(self) -> str:
        """The chapter that makes this pin: the one that runs now, else its record's."""
        if state.chapter():
            return state.chapter()
        for file in ("pin.json", MISSING):
            if (self.folder / file).exists():
                return json.loads((self.folder / file).read_text()).get("chapter", "<chapter>")
        return "<chapter>"

    def retrain_command(self) -> str:
        """How to train this pin again: its chapter, in retrain mode (in a notebook, or with
        the book's chapter runner in a checkout)."""
        chapter = f"chapters/{self.chapter()}.qmd"
        return (f"python -m isldl_book.run {chapter} -p mode retrain (in a notebook: set "
                f'mode = "retrain" in the parameters cell of {chapter})')

    def restore_hint(self) -> str:
        return (f"restore it with `git checkout {relative(self.folder)}` or "
                f"{self.retrain_command()}")

    def missing(self) -> dict | None:
        """missing.json, where the fit's data could not be had when the pins were made."""
        return read_missing(self.folder)

    def record(self) -> dict:
        """pin.json, or a PinError that says what is wrong and what to do."""
        path = self.folder / "pin.json"
        if not path.exists():
            missing = self.missing()
            if missing:
                raise PinError(f"no pinned result for the fit {self.name!r}: {missing['why']} "
                               f"where the pins were made. Where it can be had, train it once "
                               f"with `{TRAIN_MISSING}` (in a notebook: set mode = \"missing\" "
                               f"in the parameters cell), then render again.")
            raise PinError(f"no pinned result for the fit {self.name!r} ({relative(path)} is "
                           f"missing). Train it: {self.retrain_command()}")
        try:
            return json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise PinError(f"{relative(path)} is not valid JSON ({err}); "
                           f"{self.restore_hint()}") from None

    def current(self, parts: dict) -> dict:
        """pin.json, after checking that its key is `parts` and every file intact."""
        if self._checked is not None:
            return self._checked
        record = self.record()
        changed = changed_parts(record.get("parts", {}), parts)
        if changed:
            raise PinError(f"the pinned fit {self.name!r} is stale: its {', '.join(changed)} "
                           f"changed since it was trained. Train it again: "
                           f"{self.retrain_command()}")
        if settings_hash(record.get("settings")) != record["parts"]["settings"]:
            raise PinError(f"{relative(self.folder / 'pin.json')}: its settings "
                           f"{record.get('settings')} are not those its key was made from "
                           f"(edited by hand?); {self.restore_hint()}")
        checksums = record.get("files", {})
        if set(checksums) != set(self.files):
            raise PinError(f"{relative(self.folder / 'pin.json')} lists no checksums for its "
                           f"files; {self.retrain_command()}")
        for file, expected in checksums.items():
            path = self.folder / file
            if not path.exists() or file_hash(path) != expected:
                what = ("is missing" if not path.exists()
                        else "does not match its SHA-256 in pin.json")
                raise PinError(f"{relative(path)} {what} (truncated or altered?); "
                               f"{self.restore_hint()}")
        self._checked = record
        return record

    def loads(self, parts: dict) -> bool:
        """Whether this run loads the pin: always in `load` mode (a bad pin is then an error),
        in `missing` mode unless it is recorded as missing, in `update` mode when it is current
        and intact, in `rekey` mode when it exists (after re-keying it)."""
        mode = state.mode()
        if mode == "rekey":
            if not (self.folder / "pin.json").exists():
                return False
            self.rekey(parts)
            return True
        if mode == "missing":
            return (self.folder / "pin.json").exists() or self.missing() is None
        if mode != "update":
            return mode == "load"
        try:
            self.current(parts)
        except PinError:
            return False
        return True

    def rekey(self, parts: dict) -> None:
        """Write today's code part of the key into pin.json, where it is the only part that
        differs (the key's definition changed, not the fit), and the arithmetic as far as the
        record knows it (pins trained before it was recorded: torch and the device)."""
        record = self.record()
        changed = set(changed_parts(record.get("parts", {}), parts)) - {"code"}
        if changed:
            raise PinError(f"the pinned fit {self.name!r} cannot be re-keyed: its "
                           f"{', '.join(sorted(changed))} changed too. Train it again: "
                           f"{self.retrain_command()}")
        record["parts"]["code"] = parts["code"]
        record.setdefault("arithmetic", {**dict.fromkeys(arithmetic()), "torch": record["torch"],
                                         "device": record["device"]})
        atomic_write(self.folder / "pin.json",
                     lambda tmp: tmp.write_text(json.dumps(record, indent=2)))

    def read(self, reader: Callable[[Path], object]):
        """`reader(folder)`, its failure a PinError that says how to restore the pin."""
        try:
            return reader(self.folder)
        except Exception as err:
            raise PinError(f"the pinned result {self.name!r} cannot be read ({err}); "
                           f"{self.restore_hint()}") from err

    def save(self, writers: dict[str, Callable[[Path], None]], record: dict) -> None:
        """Write each file with its writer, then pin.json with their checksums; a missing.json
        that stood for this pin goes."""
        for file, write in writers.items():
            atomic_write(self.folder / file, write)
        record["files"] = {file: file_hash(self.folder / file) for file in writers}
        # pin.json last: it holds the key, so a fit is only "pinned" once everything is
        # written. A setting that is an object (an optimizer) is written as its repr.
        atomic_write(self.folder / "pin.json",
                     lambda tmp: tmp.write_text(json.dumps(record, indent=2, default=str)))
        (self.folder / MISSING).unlink(missing_ok=True)


# --------------------------------------------------------------------------------- the fit


def pinned_fit(name: str, model: nn.Module, x, y, *, test_data: tuple,
               results: Path | None = None, **settings) -> Fit:
    """Fit `model` with `isldl.fit(model, x, y, **settings)`, or load the pinned fit `name`.

    The fit is scored on `test_data`, (x_test, y_test), by `isldl.evaluate` with the fit's
    loss and metrics, afresh after loading too: its metrics are `test_loss` and `test_` and
    each metric's name. Under the chapter runner the outcome is recorded as `pin:<name>`
    (loaded or not, metrics now and as saved, whether they reproduce), which the tests check.
    """
    x, y, test_data, settings = fast.fit_inputs(name, x, y, test_data, settings)
    pin = Pin(name, ("model.pt", "history.csv"), results)
    data = (x, y, settings.get("validation_data"))
    recorded_settings = {k: v for k, v in settings.items() if k != "validation_data"}
    parts = fit_key(model, data, recorded_settings)
    if pin.loads(parts):
        record = pin.current(parts)

        def read(folder: Path) -> pd.DataFrame:
            model.load_state_dict(torch.load(folder / "model.pt", map_location="cpu",
                                             weights_only=True))
            return pd.read_csv(folder / "history.csv", index_col="epoch")

        history = pin.read(read)
        model.to(training.default_device()).eval()
        metrics = _test_metrics(model, test_data, settings)
        _record_pin(pin, True, metrics, record, test_data[0].shape[0])
        return Fit(model, history, metrics, True, record["train_seconds"],
                   record["processor"], record["device"], record["precision"])
    # a missing pin trained at last: say so, with a progress bar
    announced = state.mode() in WRITING_MODES and announce(pin.folder, x, settings)
    with training.Timer() as timer:
        history = training.fit(model, x, y, **({**settings, "verbose": True} if announced
                                               else settings))
    metrics = _test_metrics(model, test_data, settings)
    record = {"name": name, "chapter": state.chapter(), "parts": parts,
              "settings": recorded_settings, "metrics": metrics,
              "precision": history.attrs["precision"],
              **run_facts(timer.seconds, history.attrs["device"])}
    stand_in = state.stand_in()
    if state.mode() in WRITING_MODES:
        weights = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        pin.save({"model.pt": lambda tmp: torch.save(weights, tmp),
                  "history.csv": lambda tmp: history.to_csv(tmp, float_format="%.8g")},
                 record)
    elif stand_in and stand_in["writing"] and not (pin.folder / "pin.json").exists():
        record_missing(pin.folder, model, x, y, settings)
    _record_pin(pin, False, metrics, record, test_data[0].shape[0])
    return Fit(model, history, metrics, False, timer.seconds, record["processor"],
               record["device"], record["precision"])


def _test_metrics(model: nn.Module, test_data: tuple, settings: dict) -> dict[str, float]:
    """`isldl.evaluate` on the test data, with the fit's loss, metrics and precision."""
    x_test, y_test = test_data
    scores = training.evaluate(model, x_test, y_test, loss=settings["loss"],
                               metrics=settings.get("metrics", ()),
                               mixed_precision=settings.get("mixed_precision", False))
    return {f"test_{name}": value for name, value in scores.items()}


def _record_pin(pin: Pin, loaded: bool, metrics: dict, record: dict, n_examples: int) -> None:
    """What became of the pin, for the tests: `pin:<name>` in the chapter's metrics, with
    whether its metrics now reproduce those recorded at training (`isldl.machine`)."""
    now = arithmetic(record["device"])
    same = same_arithmetic(record.get("arithmetic"), now)
    state.record(**{f"pin:{pin.name}": {
        "loaded": loaded, "metrics": metrics, "recorded": record["metrics"],
        "same_arithmetic": same, "pin_arithmetic": record.get("arithmetic"),
        "arithmetic": now, "test_examples": n_examples,
        "reproduced": metrics_reproduced(record["metrics"], metrics, n_examples, same),
        "train_seconds": record["train_seconds"]}})


def pinned_result(name: str, function: Callable, *args, results: Path | None = None,
                  **settings):
    """`function(*args, **settings)`, an expensive computation whose result is a dataclass of
    arrays, or its result pinned under `results/<name>/result.npz` (see the module)."""
    args = fast.result_args(name, args)
    pin = Pin(name, ("result.npz",), results)
    parts = result_key(function, args, settings)
    if pin.loads(parts):
        record = pin.current(parts)
        module, _, kind = record["type"].rpartition(".")

        def read(folder: Path):
            with np.load(folder / "result.npz") as arrays:
                return getattr(importlib.import_module(module), kind)(**arrays)

        result = pin.read(read)
        _record_pin(pin, True, {}, record, 0)
        return result
    with training.Timer() as timer:
        result = function(*args, **settings)
    record = {
        "name": name, "chapter": state.chapter(), "parts": parts, "settings": settings,
        "type": f"{type(result).__module__}.{type(result).__qualname__}", "metrics": {},
        **run_facts(timer.seconds),
    }
    if state.mode() in WRITING_MODES:
        arrays = dataclasses.asdict(result)
        pin.save({"result.npz": lambda tmp: np.savez_compressed(tmp, **arrays)}, record)
    _record_pin(pin, False, {}, record, 0)
    return result
