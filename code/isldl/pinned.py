"""Pinned results: train an expensive model once, commit the small result, load it afterwards.

`pinned_fit(name, model, x, y, test_data=(x_test, y_test), **settings)` fits `model` with
`isldl.fit(model, x, y, **settings)`, or loads the fit committed under `results/<name>/`, and
scores it on the test data with `isldl.evaluate`. What it does depends on the chapter's *mode*,
set once per chapter run (`isldl.start_chapter`; see `isldl.state`):

- `load` (renders, tests): load the pinned fit. A missing, stale or damaged pin is a
  `PinError` that names the fit, what differs, and the command that trains it again.
- `retrain`: train at the chapter's budget and save the result.
- `update`: load the pins that are current, retrain and save the others (missing, stale or
  damaged): what to run after changing the code that trains some of them.
- `missing`: train and save only the fits recorded as missing (below), load the others as
  `load` does (a stale or damaged pin is still an error): what `make pins` runs.
- `fast`: train (on the chapter's small budget) and save nothing.

A pin is stale when its *key* differs: the model's architecture and initial weights, the code
that trains it (the module `isldl.train` and the classes of the model's own layers, as Python
reads them: without docstrings and comments, so that a documentation edit keeps every pin), the
settings as passed to `fit`, and the data (a hash of every array). `pin.json` keeps each part,
so the error says which part changed, and the SHA-256 of each file it pins. Its readable
settings must hash to its key's: a pin.json edited by hand is an error, not loaded. The initial weights
are kept as a fingerprint compared with a tolerance, not as a hash: the orthogonal matrices of
a recurrent layer come out different in their last bits with one thread or two.

A fit whose data could not be had where the pins were made has no pin: its chapter ran on
stand-in data. Retraining there leaves `results/<name>/missing.json` instead, which says why
and how long the fit takes. In `load` mode such a fit is a `PinError` that names `make pins`,
the explicit step (part of `make book`) that runs its chapter in `missing` mode where its data
can now be had, announcing the fit, why and about how long, with a progress bar.

`pinned_result(name, function, *args, **settings)` does the same for an expensive computation
that is not a network's fit, such as the lasso's path of penalties: its result, a dataclass of
arrays, is pinned as `result.npz`, and its key hashes the function's module, the settings and
the data.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import hashlib
import importlib
import inspect
import io
import json
import platform
import sys
import textwrap
import tokenize
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from . import state
from . import train as training
from .data.files import atomic_write, file_hash
from .paths import relative, results_root
from .state import WRITING_MODES

MISSING = "missing.json"
"""The file that stands for a pin whose data could not be had where the pins were made."""
TRAIN_MISSING = "make pins"
"""The command that trains each missing pin once (`python -m isldl_book.train_missing`)."""


class PinError(RuntimeError):
    """A pinned result is missing, stale or damaged; the message names the fit and the fix."""


@dataclass
class Fit:
    """A trained model with its history and test metrics, trained now or loaded."""

    model: nn.Module
    history: pd.DataFrame
    metrics: dict[str, float]
    loaded: bool
    train_seconds: float
    recorded: dict  # pin.json: as saved by `retrain`, or as it would be saved


# ------------------------------------------------------------------------------------- key


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def data_hash(*arrays) -> str:
    """A hash of the values, dtypes and shapes of arrays, tensors, sparse matrices and frames
    (tuples and lists are walked), so that the same data gives the same hash anywhere."""
    digest = hashlib.sha256()

    def add(a):
        if a is None:
            digest.update(b"none")
        elif isinstance(a, (tuple, list)):
            for item in a:
                add(item)
        elif sp.issparse(a):
            a = a.tocsr()
            for part in (a.data, a.indices, a.indptr, np.asarray(a.shape)):
                add(part)
        elif isinstance(a, (pd.DataFrame, pd.Series)):
            add(a.to_numpy())
        else:
            a = a.detach().cpu().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
            digest.update(f"{a.dtype}{a.shape}".encode())
            digest.update(np.ascontiguousarray(a).tobytes())

    add(arrays)
    return digest.hexdigest()


def code_text(source: str) -> str:
    """Python source as the interpreter reads it: its tokens, without comments, blank lines
    and docstrings. Tokens, not `ast.unparse`, whose output changes from one Python to the
    next; an f-string is kept as written (Python 3.12 splits it into several tokens)."""
    source = textwrap.dedent(source)
    docstrings = {(node.body[0].lineno, node.body[0].col_offset)
                  for node in ast.walk(ast.parse(source))
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)
                  and isinstance(node.body[0].value.value, str)}
    lines = source.splitlines(keepends=True)
    f_start, f_end = (getattr(tokenize, name, None) for name in ("FSTRING_START", "FSTRING_END"))
    words, open_fstrings, after_docstring = [], [], False
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == f_start:
            open_fstrings.append(token.start)
        elif token.type == f_end:
            start = open_fstrings.pop()
            if not open_fstrings:
                words.append(_text_between(lines, start, token.end))
        elif open_fstrings or token.type in _UNREAD:
            continue
        elif token.type == tokenize.STRING and token.start in docstrings:
            after_docstring = True
        elif token.type == tokenize.NEWLINE and after_docstring:
            after_docstring = False  # the docstring's own line
        else:
            after_docstring = False
            words.append(_MARKERS.get(token.type, token.string))
    return " ".join(words)


_UNREAD = {tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER}
_MARKERS = {tokenize.NEWLINE: "<newline>", tokenize.INDENT: "<indent>",
            tokenize.DEDENT: "<dedent>"}


def _text_between(lines: list[str], start: tuple[int, int], end: tuple[int, int]) -> str:
    (first, column), (last, end_column) = start, end
    if first == last:
        return lines[first - 1][column:end_column]
    return (lines[first - 1][column:] + "".join(lines[first:last - 1])
            + lines[last - 1][:end_column])


def _code_of(model: nn.Module) -> str:
    """The code of `isldl.train` and of every isldl class among model's layers (a
    `KerasSimpleRNN` inside an `nn.Sequential` counts), as `code_text` reads it."""
    classes = {type(m) for m in model.modules() if type(m).__module__.startswith("isldl")}
    return code_text(inspect.getsource(training)) + "".join(
        code_text(inspect.getsource(cls)) for cls in sorted(classes,
                                                            key=lambda cls: cls.__qualname__))


FINGERPRINT_VALUES = 16  # evenly spaced values of each tensor


def weights_fingerprint(model: nn.Module) -> dict[str, list[float]]:
    """Each tensor of model's state, by name: its size, norm, and 16 evenly spaced values."""
    fingerprint = {}
    for name, tensor in model.state_dict().items():
        values = tensor.detach().cpu().double().flatten()
        picked = values[torch.linspace(0, len(values) - 1, FINGERPRINT_VALUES).long()]
        fingerprint[name] = [len(values), values.norm().item(), *picked.tolist()]
    return fingerprint


def same_weights(saved: dict, now: dict) -> bool:
    """Whether two fingerprints agree to float32 rounding (rtol 1e-5, atol 1e-6)."""
    return isinstance(saved, dict) and saved.keys() == now.keys() and all(
        len(saved[k]) == len(now[k]) and np.allclose(saved[k], now[k], rtol=1e-5, atol=1e-6)
        for k in now)


def settings_hash(settings: dict) -> str:
    """The key's hash of settings; an object among them (an optimizer) counts by its repr."""
    return _sha(json.dumps(settings, sort_keys=True, default=str).encode())


def key_parts(model: nn.Module, data: tuple, settings: dict) -> dict:
    """Each part of a fit's key: what the model is, how it is trained, on what."""
    return {
        "architecture": _sha(repr(model).encode()),
        "initial_weights": weights_fingerprint(model),
        "code": _sha(_code_of(model).encode()),
        "settings": settings_hash(settings),
        "data": data_hash(*data),
    }


def changed_parts(saved: dict, now: dict) -> list[str]:
    """The parts of a key that differ between pin.json's `saved` and `now`."""
    return [part for part, value in now.items()
            if not (same_weights(saved.get(part), value) if part == "initial_weights"
                    else saved.get(part) == value)]


# ------------------------------------------------------------------------------------ a pin


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
        and intact."""
        mode = state.mode()
        if mode == "missing":
            return (self.folder / "pin.json").exists() or self.missing() is None
        if mode != "update":
            return mode == "load"
        try:
            self.current(parts)
        except PinError:
            return False
        return True

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
    (loaded or not, metrics now and as saved), which the tests check.
    """
    pin = Pin(name, ("model.pt", "history.csv"), results)
    data = (x, y, settings.get("validation_data"))
    recorded_settings = {k: v for k, v in settings.items() if k != "validation_data"}
    parts = key_parts(model, data, recorded_settings)
    if pin.loads(parts):
        record = pin.current(parts)

        def read(folder: Path) -> pd.DataFrame:
            model.load_state_dict(torch.load(folder / "model.pt", map_location="cpu",
                                             weights_only=True))
            return pd.read_csv(folder / "history.csv", index_col="epoch")

        history = pin.read(read)
        model.to(training.default_device()).eval()
        fit = Fit(model, history, _test_metrics(model, test_data, settings), True,
                  record["train_seconds"], record)
    else:
        # a missing pin trained at last: say so, with a progress bar
        announced = state.mode() in WRITING_MODES and _announce(pin, x, settings)
        with training.Timer() as timer:
            history = training.fit(model, x, y, **({**settings, "verbose": True} if announced
                                                   else settings))
        metrics = _test_metrics(model, test_data, settings)
        record = {"name": name, "chapter": state.chapter(), "parts": parts,
                  "settings": recorded_settings, "metrics": metrics,
                  "precision": history.attrs["precision"],
                  **_run_facts(timer.seconds, history.attrs["device"])}
        fit = Fit(model, history, metrics, False, timer.seconds, record)
        stand_in = state.stand_in()
        if state.mode() in WRITING_MODES:
            weights = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            pin.save({"model.pt": lambda tmp: torch.save(weights, tmp),
                      "history.csv": lambda tmp: history.to_csv(tmp, float_format="%.8g")},
                     record)
        elif stand_in and stand_in["writing"] and not (pin.folder / "pin.json").exists():
            _record_missing(pin, model, x, y, settings)
    _record_pin(name, fit.loaded, fit.metrics, fit.recorded, fit.train_seconds)
    return fit


def _test_metrics(model: nn.Module, test_data: tuple, settings: dict) -> dict[str, float]:
    """`isldl.evaluate` on the test data, with the fit's loss, metrics and precision."""
    x_test, y_test = test_data
    scores = training.evaluate(model, x_test, y_test, loss=settings["loss"],
                               metrics=settings.get("metrics", ()),
                               mixed_precision=settings.get("mixed_precision", False))
    return {f"test_{name}": value for name, value in scores.items()}


def _examples(x, settings: dict) -> int:
    """How many examples a fit passes over: its rows times its epochs."""
    return x.shape[0] * settings.get("epochs", 1)


def _record_missing(pin: Pin, model: nn.Module, x, y, settings: dict) -> None:
    """Write missing.json: the fit could not be pinned here, since its data could not be had;
    with its speed on the stand-in data, to estimate the real fit's time. The speed is that of
    a second fit, on a copy of the model: the first paid for one-off set-up."""
    with training.Timer() as timer:
        training.fit(copy.deepcopy(model), x, y, **settings)
    record = {"name": pin.name, "why": state.stand_in()["why"],
              "data": state.stand_in()["data"], "chapter": state.chapter(),
              "seconds_per_example": timer.seconds / _examples(x, settings),
              **_run_facts(timer.seconds)}
    del record["train_seconds"]
    atomic_write(pin.folder / MISSING,
                 lambda tmp: tmp.write_text(json.dumps(record, indent=2)))


def missing_fits(results: Path | None = None) -> dict[str, dict]:
    """{fit: its missing.json} for every fit recorded as missing and not pinned since."""
    return {path.parent.name: read_missing(path.parent)
            for path in sorted((results or results_root()).glob(f"*/{MISSING}"))
            if not (path.parent / "pin.json").exists()}


def read_missing(folder: Path) -> dict | None:
    """missing.json of a pin whose data could not be had where the pins were made, if any."""
    path = folder / MISSING
    return json.loads(path.read_text()) if path.exists() else None


def _announce(pin: Pin, x, settings: dict) -> bool:
    """Say which missing pin is trained now, why it was missing and about how long it takes;
    whether it was one."""
    missing = pin.missing()
    if missing is None:
        return False
    minutes = missing["seconds_per_example"] * _examples(x, settings) / 60
    print(f"Training the fit {pin.name!r} once, at its chapter's budget: it has no pin "
          f"because {missing['why']} where the pins were made ({missing['processor']}, "
          f"{missing['date']}). About {max(minutes, 0.1):.1f} minutes at that machine's speed.",
          flush=True)
    return True


def _record_pin(name: str, loaded: bool, metrics: dict, recorded: dict, seconds: float) -> None:
    """What became of the pin, for the tests: `pin:<name>` in the chapter's metrics."""
    # Another processor may round differently: its metrics can differ in the last digits.
    same_processor = (recorded["processor"] == processor_name()
                      and recorded["device"] == str(training.default_device()))
    state.record(**{f"pin:{name}": {
        "loaded": loaded, "metrics": metrics, "recorded": recorded["metrics"],
        "same_processor": same_processor, "train_seconds": seconds}})


def pinned_result(name: str, function: Callable, *args, results: Path | None = None,
                  **settings):
    """`function(*args, **settings)`, an expensive computation whose result is a dataclass of
    arrays, or its result pinned under `results/<name>/result.npz` (see the module)."""
    pin = Pin(name, ("result.npz",), results)
    parts = {
        "code": _sha(code_text(inspect.getsource(sys.modules[function.__module__])).encode()),
        "settings": settings_hash(settings),
        "data": data_hash(*args),
    }
    if pin.loads(parts):
        record = pin.current(parts)
        module, _, kind = record["type"].rpartition(".")

        def read(folder: Path):
            with np.load(folder / "result.npz") as arrays:
                return getattr(importlib.import_module(module), kind)(**arrays)

        result = pin.read(read)
        _record_pin(name, True, {}, record, record["train_seconds"])
        return result
    with training.Timer() as timer:
        result = function(*args, **settings)
    record = {
        "name": name, "chapter": state.chapter(), "parts": parts, "settings": settings,
        "type": f"{type(result).__module__}.{type(result).__qualname__}", "metrics": {},
        **_run_facts(timer.seconds),
    }
    if state.mode() in WRITING_MODES:
        arrays = dataclasses.asdict(result)
        pin.save({"result.npz": lambda tmp: np.savez_compressed(tmp, **arrays)}, record)
    _record_pin(name, False, {}, record, timer.seconds)
    return result


def _run_facts(seconds: float, device: str = "cpu") -> dict:
    """How long a pinned computation took, on which device and processor, and when, for its
    pin.json."""
    return {"train_seconds": round(seconds, 1), "device": device,
            "processor": processor_name(), "torch": torch.__version__,
            "date": date.today().isoformat()}


def processor_name() -> str:
    """The processor that computes here: the GPU's name, or the CPU's model name."""
    device = training.default_device()
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_name()


def cpu_name() -> str:
    """The CPU's model name (`/proc/cpuinfo`), else what the platform says."""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()
