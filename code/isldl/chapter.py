"""What a chapter says about its own run: its mode, notices to the reader, and its key results.

`start_chapter(mode)` sets the mode of the run (`load`, `retrain`, `update` or `fast`; see
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
from .paths import METRICS_ENV

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
    import matplotlib
    import numpy as np
    import pandas as pd
    from IPython import get_ipython

    np.set_printoptions(precision=4, suppress=True, legacy="1.25")
    pd.set_option("display.precision", 4)
    # TrueType fonts in the PDF's figures, not Type 3 bitmaps.
    matplotlib.rcParams["pdf.fonttype"] = 42
    shell = get_ipython()
    if shell is not None:
        formatters = shell.display_formatter.formatters
        formatters["text/plain"].float_precision = "%.4f"
        # A data frame as a Markdown table: numbers right-aligned in both HTML and PDF, where
        # pandas' HTML table would reach the PDF with every column left-aligned.
        formatters["text/markdown"].for_type(pd.DataFrame, markdown_table)
        formatters["text/html"].for_type(pd.DataFrame, lambda frame: None)
        formatters["text/markdown"].for_type(pd.Series, lambda s: markdown_table(s.to_frame()))


def markdown_table(frame, index: bool = True) -> str:
    """A data frame as a Markdown table: the index first (its name as its heading) unless
    `index` is False, numbers right-aligned with at most four decimals, trailing zeros shared
    by a column dropped."""
    if index and frame.index.nlevels > 1:  # a column for each level
        frame, index = frame.reset_index(), False
    columns = [frame.index.to_series(name=frame.index.name or "")] if index else []
    columns += [frame[c] for c in frame.columns]
    header = [_escaped(str(c.name)) for c in columns]
    cells = [[_escaped(text) for text in _column_text(c)] for c in columns]
    align = ["--:" if _numeric(c) else ":--" for c in columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in zip(*cells)]
    return "\n".join(lines)


def _numeric(column) -> bool:
    """Numbers, or text that reads as numbers ("4.0e-16", "1,024"; a dash, "—", is an empty
    cell): right-aligned."""
    import pandas as pd

    if pd.api.types.is_bool_dtype(column) or pd.api.types.is_numeric_dtype(column):
        return not pd.api.types.is_bool_dtype(column)
    try:
        [float(str(v).replace(",", "")) for v in column if str(v) != "—"]
    except ValueError:
        return False
    return True


def _escaped(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _column_text(column) -> list[str]:
    import numpy as np
    import pandas as pd

    if not pd.api.types.is_float_dtype(column):
        return [str(v) for v in column]
    finite = column[np.isfinite(column)].abs()
    if len(finite) and finite.max() >= 1e6:  # a diverging loss: 5.332e+75, not 76 digits
        return ["NaN" if np.isnan(v) else f"{v:.4g}" for v in column]
    text = [f"{v:.4f}" for v in column]
    numbers = [t for t in text if t != "nan"]
    # drop the decimals' trailing zeros that every value shares, keeping one decimal
    for _ in range(3):
        if not numbers or not all(t.endswith("0") for t in numbers):
            break
        numbers = [t[:-1] for t in numbers]
        text = [t if t == "nan" else t[:-1] for t in text]
    return ["NaN" if t == "nan" else t for t in text]


def load_or_stand_in(load: Callable, stand_in: Callable):
    """`load()`, or, when its data cannot be had, `stand_in()` with a warning at the top of the
    page and the rest of the run in fast mode. Returns the data and whether it is a stand-in."""
    from . import pinned

    try:
        return load(), False
    except DataError as err:
        pinned.use_stand_in(err)
        _not_book_results("stand-in data")
        record(data_error=_without_machine_paths(str(err)))
        callout("warning",
                "The data could not be had: random stand-in data, not the book's results",
                f"{err}\n\nSo that the rest of the book renders, this chapter "
                "runs on random data of the same shapes, with the fast budgets. Every number "
                "and figure below is that of noise; none is the book's result.")
        return stand_in(), True


def saved_benchmark(name: str) -> tuple[str, str, str]:
    """The table that `benchmarks/<name>.py` saved, as three pieces of Markdown: the line that
    says how it was measured, the table itself (for a captioned cell), and the lines under it."""
    from .paths import BOOK_ROOT

    lines = (BOOK_ROOT / "benchmarks" / f"{name}.md").read_text().splitlines()
    rows = [i for i, line in enumerate(lines) if line.startswith("|")]
    return ("\n".join(lines[:rows[0]]).strip(), "\n".join(lines[rows[0]:rows[-1] + 1]),
            "\n".join(lines[rows[-1] + 1:]).strip())


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
