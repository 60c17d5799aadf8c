"""What a fast run shrinks: the pages show the source's numbers, and the work shrinks here.

A fast run (`isldl.state.is_fast()`: the tests' check that a chapter runs, or a chapter on
stand-in data) must take seconds, yet a page should read as the lab does, `epochs=600` and
all 25,000 reviews. So the page never asks for a budget: the functions that do the work,
`pinned_fit`, `pinned_result` and `double_descent`, ask this module what to do instead in a
fast run, by the fit's name (`fast.yaml`), and do as the page says otherwise.
"""

from __future__ import annotations

from fnmatch import fnmatch

from . import state
from .source import registry


def _entry(name: str) -> dict:
    """The fast run's entry for the fit `name`: the first pattern of `fast.yaml` it matches."""
    return next((entry for pattern, entry in registry("fast.yaml")["fits"].items()
                 if fnmatch(name, pattern)), {})


def fit_inputs(name: str, x, y, test_data: tuple, settings: dict):
    """(x, y, test_data, settings) of the fit `name`: as given, or in a fast run with fewer
    epochs, the first `examples` training examples and the first `test_examples` validation
    and test examples."""
    if not state.is_fast():
        return x, y, test_data, settings
    entry = _entry(name)
    n, n_test = entry.get("examples"), entry.get("test_examples")
    settings = dict(settings)  # the caller's are left as they are
    if "epochs" in entry:
        settings["epochs"] = entry["epochs"]
    if settings.get("validation_data") is not None:
        settings["validation_data"] = _first(settings["validation_data"], n_test)
    return _first(x, n), _first(y, n), _first(test_data, n_test), settings


def result_args(name: str, args: tuple) -> tuple:
    """The arrays of the computation `name`: as given, or in a fast run their first rows."""
    n = _entry(name).get("examples") if state.is_fast() else None
    return tuple(_first(arg, n) for arg in args)


def draws(reps: int) -> int:
    """The number of draws of a simulation: `reps`, or in a fast run at most a few."""
    return min(reps, registry("fast.yaml")["double_descent_draws"]) if state.is_fast() else reps


def _first(value, n: int | None):
    """The first `n` rows of an array, or of each array of a pair; all of it if `n` is None."""
    if n is None or value is None:
        return value
    if isinstance(value, tuple):
        return tuple(_first(part, n) for part in value)
    return value[:n]
