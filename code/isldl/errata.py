"""The errata page (`errata.qmd`): known errata and differences, read from `errata.yml`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import yaml

from .paths import BOOK_ROOT
from .chapter import markdown_table

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
