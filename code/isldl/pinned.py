"""Pinned results: train an expensive model once, commit the small result, load it afterwards.

`pinned(name, model, train, config, evaluate=…)` looks in `results/<name>/` for a fit made by
the same code with the same configuration: the *key* hashes the model's architecture, initial
weights and code, the training loop's code, and `config` (data, hyper-parameters, seed). If it
finds one, it loads the weights; otherwise (or when `retrain` is true) it trains and, if `save`,
writes the weights, the history and the test metrics there. Fast or test runs pass
`save=False` and never touch the committed results.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd
import torch
from torch import nn

from . import chapter
from . import train as training
from .data.files import atomic_write
from .paths import RESULTS


@dataclass
class Fit:
    """A trained model with its history and test metrics, trained now or loaded."""

    model: nn.Module
    history: pd.DataFrame
    metrics: dict[str, float]
    loaded: bool
    train_seconds: float
    recorded: dict  # pin.json as saved at training time


def pin_key(model: nn.Module, config: dict) -> str:
    """A hash of everything that changes a fit: architecture, initial weights, model and loop
    code, and `config` (data, hyper-parameters, seed)."""
    weights = hashlib.sha256()
    for tensor in model.state_dict().values():
        weights.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    parts = {
        "config": config,
        "architecture": repr(model),
        "initial_weights": weights.hexdigest(),
        "loop": "".join(inspect.getsource(code) for code in
                        (training._run_epoch, training.fit, training.KerasRMSprop)),
    }
    if type(model).__module__.startswith("isldl"):
        parts["model_code"] = inspect.getsource(type(model))
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def pinned(name: str, model: nn.Module, train: Callable[[nn.Module], pd.DataFrame],
           config: dict, *, evaluate: Callable[[nn.Module], dict], retrain: bool = False,
           save: bool = True, results: Path = RESULTS) -> Fit:
    """Load the pinned fit `name` if its key matches, else `train(model)` (and save if `save`).

    `train(model)` fits the model in place and returns its history; `evaluate(model)` returns the
    test metrics, computed afresh after loading too. Under `isldl.run` the fit's outcome is
    recorded as `pin:<name>` (loaded or not, metrics now and as saved), which the tests check.
    """
    fit = _load(name, model, config, evaluate, results) if not retrain else None
    if fit is None:
        fit = _train(name, model, train, config, evaluate)
        if save:
            _save(results / name, fit.model, fit.history, fit.recorded)
    chapter.record(**{f"pin:{name}": {
        "loaded": fit.loaded, "metrics": fit.metrics,
        "recorded": fit.recorded["metrics"], "train_seconds": fit.train_seconds}})
    return fit


def _load(name, model, config, evaluate, results) -> Fit | None:
    """The pinned fit, if one was saved with this key."""
    folder = results / name
    record = _read_record(folder)
    if record.get("key") != pin_key(model, config):
        return None
    state = torch.load(folder / "model.pt", map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    model.to(training.default_device()).eval()
    history = pd.read_csv(folder / "history.csv", index_col="epoch")
    return Fit(model, history, evaluate(model), True, record["train_seconds"], record)


def _train(name, model, train, config, evaluate) -> Fit:
    key = pin_key(model, config)  # before training changes the weights
    with training.Timer() as timer:
        history = train(model)
    metrics = evaluate(model)
    record = {
        "key": key, "name": name, "config": config, "metrics": metrics,
        "train_seconds": round(timer.seconds, 1), "device": str(training.default_device()),
        "torch": torch.__version__, "machine": platform.machine(),
    }
    return Fit(model, history, metrics, False, timer.seconds, record)


def _read_record(folder: Path) -> dict:
    path = folder / "pin.json"
    return json.loads(path.read_text()) if path.exists() else {}


def _save(folder: Path, model: nn.Module, history: pd.DataFrame, record: dict) -> None:
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    atomic_write(folder / "model.pt", lambda tmp: torch.save(state, tmp))
    atomic_write(folder / "history.csv", lambda tmp: history.to_csv(tmp, float_format="%.8g"))
    # pin.json last: it holds the key, so a fit is only "pinned" once everything is written.
    atomic_write(folder / "pin.json", lambda tmp: tmp.write_text(json.dumps(record, indent=2)))
