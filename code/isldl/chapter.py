"""What a chapter shows about its own run: its notices to the reader, and its tables.

`start_chapter(chapter, mode)` begins the run (`isldl.state`) and, in fast mode, says at the
top of the page that its numbers are not the book's. `load_or_stand_in` does the same where a
data set cannot be had. `markdown_table` is how every data frame of a page is printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from . import state
from .data.files import REGISTRY, DataError, data_root
from .paths import NoBookError, book_root


def callout(kind: str, title: str, text: str) -> None:
    """Show a Quarto callout (`note`, `warning`, …) in the page, as Markdown output. Its title
    is the callout's attribute: a `## title` inside it would be a numbered section of the
    PDF, and shift the numbers of every section after it."""
    from IPython.display import Markdown, display

    text = _without_machine_paths(text)
    title = title.replace('"', "'")
    display(Markdown(f'::: {{.callout-{kind} title="{title}"}}\n{text}\n:::'))


def start_chapter(chapter: str, mode: str) -> None:
    """Begin the run of `chapter` (its file's stem, "01-hitters") in `mode` (see
    `isldl.state`): the pins it makes know their chapter, and `isldl.budget` the mode. Run
    from the book's chapters (as Quarto and the chapter runner run them), it must name one."""
    try:
        chapters = book_root() / "chapters"
    except NoBookError:  # a notebook outside a checkout: nothing to check against
        chapters = None
    if chapters == Path.cwd().resolve() and not (chapters / f"{chapter}.qmd").exists():
        stems = ", ".join(sorted(p.stem for p in chapters.glob("*.qmd")))
        raise ValueError(f"start_chapter: {chapter!r} names no chapter of this book "
                         f"(chapters/{chapter}.qmd does not exist; they are {stems})")
    state.begin(chapter, mode)
    _numbers_as_printed()
    if mode == "fast":
        callout("warning", "Fast run: these are not the book's results",
                "This page was run in fast mode: smaller budgets (fewer epochs, fewer "
                "examples), freshly trained and never pinned. It checks that the chapter runs; "
                "its numbers are not the book's.")


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
    if frame.columns.nlevels > 1:  # one heading per column: its levels, joined
        frame = frame.set_axis([", ".join(map(str, c)) for c in frame.columns], axis=1)
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
    page and the rest of the run in fast mode (`isldl.state.use_stand_in`)."""
    try:
        data = load()
    except DataError as err:
        origin = REGISTRY[err.file].origin if err.file in REGISTRY else "its data"
        state.use_stand_in(f"{origin} could not be had", [err.file] if err.file else [])
        state.record(stand_in=True, data_error=_without_machine_paths(str(err)))
        callout("warning",
                "The data could not be had: random stand-in data, not the book's results",
                f"{err}\n\nSo that the rest of the book renders, this chapter "
                "runs on random data of the same shapes, with the fast budgets. Every number "
                "and figure below is that of noise; none is the book's result.")
        return stand_in()
    state.record(stand_in=False)
    return data


def table_frame(table: str):
    """A Markdown table (as `saved_benchmark` returns it) as a data frame of its cells, as
    text, with the header's names as columns."""
    import pandas as pd

    header, _, *body = [[cell.strip() for cell in line.strip().strip("|").split("|")]
                        for line in table.splitlines()]
    return pd.DataFrame(body, columns=header)


def saved_benchmark(name: str) -> tuple[str, str, str]:
    """The table that `benchmarks/<name>.py` saved, as three pieces of Markdown: the line that
    says how it was measured, the table itself (for a captioned cell), and the lines under it."""
    lines = (book_root() / "benchmarks" / f"{name}.md").read_text().splitlines()
    rows = [i for i, line in enumerate(lines) if line.startswith("|")]
    return ("\n".join(lines[:rows[0]]).strip(), "\n".join(lines[rows[0]:rows[-1] + 1]),
            "\n".join(lines[rows[-1] + 1:]).strip())


def _without_machine_paths(text: str) -> str:
    # The machine's own folders are nobody else's business in a published page.
    return text.replace(str(data_root()), "$ISLDL_DATA").replace(str(Path.home()), "~")
