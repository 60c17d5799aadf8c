"""The source's reported numbers, and the "source vs this book" tables that set ours beside them.

The numbers live in `source.yaml`, each typed once with a note of where the source gives it and
of what kind it is: printed by the lab, a setting of its code, stated in the text, or computed.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from .chapter import record, results_label

KINDS = ("printed", "code", "text", "computed")
# How a comparison table marks a source value that the lab did not print, and the note for it.
MARKS = {"printed": "", "code": "^c^", "text": "^t^", "computed": "^\\*^"}
NOTES = {"code": "^c^ a setting of the lab's code", "text": "^t^ stated in the text, not printed",
         "computed": "^\\*^ computed from the lab's code, printed nowhere"}


_comparison_rows: list[dict] = []  # every row of this run's comparison tables


@cache
def _registry() -> dict:
    return yaml.safe_load((Path(__file__).with_name("source.yaml")).read_text())


def _entry(key: str) -> dict:
    chapter, name = key.split(".")
    try:
        return _registry()[chapter][name]
    except KeyError:
        raise KeyError(f"the source registry (source.yaml) has no number {key!r}") from None


def source_value(key: str):
    """The source's number for `key`, written "chapter.name", e.g. "hitters.lm_test_mae"."""
    value = _entry(key)["value"]
    return float(value) if isinstance(value, str) else value


def source_kind(key: str) -> str:
    """What the source's number is: printed, code (a setting), text or computed."""
    return _entry(key)["kind"]


def source_text(key: str) -> str:
    """The source's number as the source writes it: its digits, thousands separated."""
    value = _entry(key)["value"]
    return value if isinstance(value, str) else f"{value:,}"


def comparison_table(rows: list[tuple[str, str | None, object]]) -> str:
    """A Markdown table of (quantity, source key, our value): the source's number as it gives
    it, marked by kind, and ours with as many decimals; a note under the table explains the
    marks. A source key or our value may be None (a dash); our value may be a string."""
    header = f"| Quantity | Source | {results_label()} |"
    lines, kinds = [header, "|:--|--:|--:|"], set()
    for label, key, ours in rows:
        theirs = "—"
        if key:
            kinds.add(source_kind(key))
            theirs = source_text(key) + MARKS[source_kind(key)]
        lines.append(f"| {label} | {theirs} | {_format(ours, key)} |")
        _comparison_rows.append({"label": label, "key": key, "source": theirs, "ours": ours})
    # The tests check each row against source.yaml (`comparison_rows` of the metrics file).
    record(comparison_rows=_comparison_rows)
    notes = [NOTES[kind] for kind in KINDS if kind in kinds and kind in NOTES]
    return "\n".join(lines) + ("\n\n" + "; ".join(notes) + "." if notes else "")


def _decimals(key: str | None) -> int | None:
    """The decimals the source gives for `key` (None for an integer or no source value)."""
    if key is None:
        return None
    text = source_text(key)
    return len(text.split(".")[1]) if "." in text else None


def _format(value, key: str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    decimals = _decimals(key)
    if decimals is not None:
        return f"{value:,.{decimals}f}"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4f}" if abs(value) >= 1 else f"{value:.4g}"
