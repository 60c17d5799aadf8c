"""What a fast run shrinks: the pages show the source's numbers, and the work shrinks here.

A fast run (`isldl.state.is_fast()`: the tests' check that a chapter runs, or a chapter on
stand-in data) must take seconds, yet a page should read as the lab does, `epochs=600` and
all 25,000 reviews. So the page never asks for a budget: the functions that do the work,
`pinned_fit`, `pinned_result` and `double_descent`, ask this module what to do instead in a
fast run, by the fit's name (`fast.yaml`), and do as the page says otherwise.
"""

from __future__ import annotations

from fnmatch import fnmatch
from functools import cache
from importlib.resources import files

import yaml

from . import state


@cache
def _plan() -> dict:
    return yaml.safe_load(files(__package__).joinpath("fast.yaml").read_text(encoding="utf-8"))


def _entry(name: str) -> dict:
    """The fast run's entry for the fit `name`: the first pattern of `fast.yaml` it matches."""
    return next((entry for pattern, entry in _plan()["fits"].items()
                 if fnmatch(name, pattern)), {})


def fit_inputs(name: str, data: dict, settings: dict) -> tuple[dict, dict]:
    """The data and settings of the fit `name`: as given, or in a fast run with fewer epochs
    and the first examples. `data` maps "x", "y" (training) and "validation_data",
    "test_data" (pairs, or None) to arrays."""
    entry = _entry(name) if state.is_fast() else {}
    if "epochs" in entry:
        settings = {**settings, "epochs": entry["epochs"]}
    sizes = {"x": entry.get("examples"), "y": entry.get("examples"),
             "validation_data": entry.get("test_examples"),
             "test_data": entry.get("test_examples")}
    return {key: _first(value, sizes[key]) for key, value in data.items()}, settings


def result_args(name: str, args: tuple) -> tuple:
    """The arrays of the computation `name`: as given, or in a fast run their first rows."""
    n = _entry(name).get("examples") if state.is_fast() else None
    return tuple(_first(arg, n) for arg in args)


def draws(reps: int) -> int:
    """The number of draws of a simulation: `reps`, or in a fast run at most a few."""
    return min(reps, _plan()["double_descent_draws"]) if state.is_fast() else reps


def _first(value, n: int | None):
    if n is None or value is None:
        return value
    if isinstance(value, tuple):
        return tuple(_first(part, n) for part in value)
    return value[:n]
