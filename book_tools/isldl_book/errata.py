"""The errata page (`errata.qmd`): known errata and differences, read from `errata.yml`, and
what a retraining of the pins changed (`results/changes/`, written by `isldl_book.pin_changes`)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from isldl.chapter import markdown_table

from . import BOOK_ROOT

KINDS = ("difference", "erratum")
FIELDS = ("where", "kind", "what", "status")


def read_errata(path: Path = BOOK_ROOT / "errata.yml") -> list[dict]:
    """The entries of errata.yml, each checked: every field present, a known kind."""
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    for number, entry in enumerate(entries, start=1):
        missing = [f for f in FIELDS if not str(entry.get(f, "")).strip()]
        if missing:
            raise ValueError(f"{path.name}: entry {number} lacks {', '.join(missing)}")
        if entry["kind"] not in KINDS:
            raise ValueError(f"{path.name}: entry {number} has kind {entry['kind']!r}, "
                             f"not one of {', '.join(KINDS)}")
    return entries


def errata_table(entries: list[dict]) -> str:
    """A Markdown table; `where` is a cross-reference (`@sec-…`) unless it is "book"."""
    return markdown_table(pd.DataFrame([{
        "Where": f"@{e['where']}" if str(e["where"]).startswith("sec-") else e["where"],
        "Kind": e["kind"], "What": " ".join(str(e["what"]).split()), "Status": e["status"],
    } for e in entries]), index=False)


def changes_table(path: Path) -> str:
    """A Markdown table of a retraining's changes: each fit's test metric before and after,
    with the processor that computed each."""
    record = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for fit, change in record["fits"].items():
        old = change["before"]["metrics"] if change["before"] else {}
        new = change["after"]["metrics"]
        # the metric that the chapter reports (not the loss beside it), and any that the
        # pin reported before and no longer does
        names = [m for m in new if m != "test_loss" or len(new) == 1]
        names += [m for m in old if m not in names]
        for metric in names:
            before, after = old.get(metric), new.get(metric)
            rows.append({"fit": fit, "metric": metric.removeprefix("test_"),
                         "before": _number(before), "after": _number(after),
                         "change": "—" if None in (before, after) else f"{after - before:+.4f}"})
    processors = sorted({c["before"]["processor"] for c in record["fits"].values()
                         if c["before"]} | {c["after"]["processor"]
                                             for c in record["fits"].values()})
    return (markdown_table(pd.DataFrame(rows), index=False) + "\n\n"
            + f"{record['why']} Before: the pins of commit {record['before'][:7]}; "
            f"processors, before and after: {', '.join(processors)}.")


def array_changes_table(path: Path) -> str:
    """A Markdown table of a recomputed result's changes: the largest absolute change of each
    of its arrays."""
    record = json.loads(path.read_text(encoding="utf-8"))
    rows = [{"result": name, "array": array, "largest change": f"{change:.1e}"}
            for name, fit in record["fits"].items()
            for array, change in fit.get("arrays", {}).items()]
    return (markdown_table(pd.DataFrame(rows), index=False) + "\n\n"
            + f"{record['why']} Before: the pins of commit {record['before'][:7]}.")


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.4f}"
