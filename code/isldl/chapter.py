"""What a chapter says about its own run: its mode, notices to the reader, and its key results.

`start_chapter(mode)` sets the mode of the run (`load`, `retrain` or `fast`; see
`isldl.pinned`) and, in fast mode, says at the top of the page that its numbers are not the
book's. `load_or_stand_in` does the same where a data set cannot be had. `record(name=value,
…)` keeps the key results for the tests: when `isldl.run` executes a chapter it names a
metrics file in the environment, and `record` merges the values into it (under Quarto there is
no such file and `record` does nothing).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from .data.files import DataError, atomic_write

METRICS_ENV = "ISLDL_METRICS"
_not_results: list[str] = []  # why this run's numbers are not the book's results, if they are not


def record(**metrics) -> dict:
    """Record a chapter's key results: written to the metrics file when run by `isldl.run`."""
    path = os.environ.get(METRICS_ENV)
    if path:
        path = Path(path)
        current = json.loads(path.read_text()) if path.exists() else {}
        current.update({k: _plain(v) for k, v in metrics.items()})
        atomic_write(path, lambda tmp: tmp.write_text(json.dumps(current, indent=2)))
    return metrics


def _plain(value):
    """NumPy and torch values as plain Python numbers and lists, inside lists and dicts too,
    for JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value.tolist() if hasattr(value, "tolist") else value


def callout(kind: str, title: str, text: str) -> None:
    """Show a Quarto callout (`note`, `warning`, …) in the page, as Markdown output."""
    from IPython.display import Markdown, display

    text = _without_machine_paths(text)
    display(Markdown(f"::: {{.callout-{kind}}}\n## {title}\n\n{text}\n:::"))


def start_chapter(mode: str) -> bool:
    """Set the chapter's mode for the whole run; return whether it is the fast mode."""
    from . import pinned

    pinned.set_mode(mode)
    _numbers_as_printed()
    _not_results.clear()
    record(mode=mode, not_the_books_results=[])
    if mode == "fast":
        _not_book_results("fast mode")
        callout("warning", "Fast run: these are not the book's results",
                "This page was run in fast mode: smaller budgets (fewer epochs, fewer "
                "examples), freshly trained and never pinned. It checks that the chapter runs; "
                "its numbers are not the book's.")
    return mode == "fast"


def _numbers_as_printed() -> None:
    """Numbers in cell outputs as a page should show them: four decimals, and NumPy scalars
    without their `np.float64(…)` wrapper."""
    import numpy as np
    import pandas as pd
    from IPython import get_ipython

    np.set_printoptions(precision=4, suppress=True, legacy="1.25")
    pd.set_option("display.precision", 4)
    shell = get_ipython()
    if shell is not None:
        shell.display_formatter.formatters["text/plain"].float_precision = "%.4f"


def load_or_stand_in(load: Callable, stand_in: Callable):
    """`load()`, or, when its data cannot be had, `stand_in()` with a warning at the top of the
    page and the rest of the run in fast mode. Returns the data and whether it is a stand-in."""
    from . import pinned

    try:
        return load(), False
    except DataError as err:
        pinned.set_mode("fast")
        _not_book_results("stand-in data")
        record(data_error=_without_machine_paths(str(err)))
        callout("warning",
                "The data could not be had: random stand-in data, not the book's results",
                f"{err}\n\nSo that the rest of the book renders, this chapter "
                "runs on random data of the same shapes, with the fast budgets. Every number "
                "and figure below is that of noise; none is the book's result.")
        return stand_in(), True


def _without_machine_paths(text: str) -> str:
    # The machine's own folders are nobody else's business in a published page.
    from .data.files import data_root

    return text.replace(str(data_root()), "$ISLDL_DATA").replace(str(Path.home()), "~")


def _not_book_results(reason: str) -> None:
    _not_results.append(reason)
    record(not_the_books_results=list(_not_results))


def results_label() -> str:
    """The heading of our column in a comparison table: "This book", or why it is not."""
    if not _not_results:
        return "This book"
    return f"This run ({', '.join(_not_results)}: not the book's results)"
