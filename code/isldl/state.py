"""The state of one chapter's run: which chapter, in which mode, why its numbers are not the
book's (if they are not), and what it records for the tests.

The lowest of isldl's modules: the others read the run's state from here, and it imports
none of them but the data files' atomic write. `isldl.start_chapter` begins a run; the rest
of the run asks `mode()`, `is_fast()` and `chapter()`.

The modes (see `isldl.pinned` for what each does with pinned results):

- `load` (renders, tests): the book's budgets, pinned results loaded;
- `retrain`, `update`, `missing`, `rekey`: the book's budgets, pins written
  (`WRITING_MODES`; `rekey` writes today's key into pins that differ in its code part alone);
- `fast`: small budgets, trained afresh, nothing saved; a chapter whose data cannot be had
  runs in fast mode on stand-in data from that point on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .data.files import atomic_write

MODES = ("load", "retrain", "update", "missing", "rekey", "fast")
WRITING_MODES = ("retrain", "update", "missing", "rekey")


@dataclass
class Run:
    chapter: str | None = None  # its file's stem, "01-hitters"
    mode: str = "load"
    not_results: list[str] = field(default_factory=list)  # why its numbers are not the book's
    stand_in: dict | None = None  # why its data is a stand-in (see `use_stand_in`)
    comparison_rows: list[dict] = field(default_factory=list)  # of its comparison tables
    recorded: dict = field(default_factory=dict)  # what `record` kept, for the tests


_run = Run()


def begin(chapter: str | None, mode: str) -> None:
    """Begin a chapter's run in `mode`; in fast mode its numbers are not the book's."""
    global _run
    if mode not in MODES:
        raise ValueError(f"mode must be one of {', '.join(MODES)}; got {mode!r}")
    _run = Run(chapter, mode)
    record(mode=mode, not_the_books_results=[])
    if mode == "fast":
        not_the_books_results("fast mode")


def mode() -> str:
    return _run.mode


def is_fast() -> bool:
    """Whether this run trains on the small budgets (fast mode, or stand-in data)."""
    return _run.mode == "fast"


def chapter() -> str | None:
    """The chapter that runs, as its file's stem ("01-hitters"); None outside a chapter."""
    return _run.chapter


def stand_in() -> dict | None:
    """Why this run's data is a stand-in, and whether the run was to write pins; or None."""
    return _run.stand_in


def use_stand_in(why: str, data: list[str]) -> None:
    """The chapter's data could not be had (`why`; the registry's `data` files): the rest of
    the run is in fast mode, and a run that was to write pins records them as missing."""
    _run.stand_in = {"writing": _run.mode in WRITING_MODES, "why": why, "data": data}
    _run.mode = "fast"
    not_the_books_results("stand-in data")


def not_the_books_results(reason: str) -> None:
    _run.not_results.append(reason)
    record(not_the_books_results=list(_run.not_results))


def results_label() -> str:
    """The heading of our column in a comparison table: "This book", or why it is not."""
    if not _run.not_results:
        return "This book"
    return f"This run ({', '.join(_run.not_results)}: not the book's results)"


def record_comparison_row(**row) -> None:
    """One row of a comparison table, for the tests: `comparison_rows` in the metrics file."""
    _run.comparison_rows.append(row)
    record(comparison_rows=_run.comparison_rows)


def record(**values) -> dict:
    """Keep values of the run for the tests, which the chapter runner writes out at the end
    of the run (`write_record`); under Quarto nobody does, and they are only kept."""
    _run.recorded.update({k: plain(v) for k, v in values.items()})
    return values


def recorded() -> dict:
    """What the run has recorded so far (a copy)."""
    return dict(_run.recorded)


def write_record(path: str | Path, **values) -> None:
    """Write what the run recorded, and `values`, to the JSON file `path` (whole, or not at
    all): the chapter runner's last cell."""
    record(**values)
    atomic_write(Path(path), lambda tmp: tmp.write_text(json.dumps(_run.recorded, indent=2)))


def plain(value):
    """NumPy and torch values as plain Python numbers and lists, inside lists and dicts too,
    for JSON."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value.tolist() if hasattr(value, "tolist") else value
