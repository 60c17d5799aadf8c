"""The source's reported numbers, and the "source vs this book" tables that set ours beside them.

The numbers live in `source.yaml`, each typed once with a note of where the source prints it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from .chapter import results_label


@cache
def _registry() -> dict:
    return yaml.safe_load((Path(__file__).with_name("source.yaml")).read_text())


def source_value(key: str) -> float:
    """The source's number for `key`, written "chapter.name", e.g. "hitters.lm_test_mae"."""
    chapter, name = key.split(".")
    try:
        return _registry()[chapter][name]["value"]
    except KeyError:
        raise KeyError(f"the source registry (source.yaml) has no number {key!r}") from None


def comparison_table(rows: list[tuple[str, str, object]], digits: int = 4) -> str:
    """A Markdown table of (quantity, source key, our value): what the source printed and ours.

    A source key or our value may be None (nothing to show: a dash); our value may be a string.
    """
    lines = [f"| Quantity | Source | {results_label()} |", "|:--|--:|--:|"]
    for label, key, ours in rows:
        theirs = source_value(key) if key else None
        lines.append(f"| {label} | {_format(theirs, digits)} | {_format(ours, digits)} |")
    return "\n".join(lines)


def _format(value, digits: int) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if float(value).is_integer() and abs(value) >= 1:
        return f"{int(value):,}"
    return f"{value:.{digits}f}" if abs(value) >= 1 else f"{value:.{digits + 3}g}"
