"""The source's reported numbers, and the "source vs this book" tables that set ours beside
them.

The numbers live in `source.yaml`, each typed once with a note of where the source gives it and
of what kind it is: printed by the lab, a setting of its code, stated in the lab's text, given
by the ISLR2 book outside the lab, or computed.
A page writes the source's settings as the lab does (`epochs=600`), and its comparison table
sets what the fit did (`len(fit.history)`) beside the source's number; what a fast run trains
instead is `isldl.fast`'s.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

import yaml

from . import state

KINDS = ("printed", "code", "text", "book", "computed")
# How a comparison table marks a source value that the lab did not print, and the note for it.
MARKS = {"printed": "", "code": "^c^", "text": "^t^", "book": "^b^", "computed": "^\\*^"}
NOTES = {"code": "^c^ a setting of the lab's code", "text": "^t^ stated in the text, not printed",
         "book": "^b^ from the ISLR2 book, not from its lab",
         "computed": "^\\*^ computed from the lab's code, printed nowhere"}


@cache
def registry(name: str = "source.yaml") -> dict:
    """One of the package's YAML registries (source.yaml, islp.yaml, fast.yaml, …), read once."""
    return yaml.safe_load(files(__package__).joinpath(name).read_text(encoding="utf-8"))


def _named(file: str, key: str, what: str) -> dict:
    """The entry `key` of a registry that lists its entries by name, or a KeyError that
    names the registry and what it has."""
    entries = registry(file)
    if key not in entries:
        raise KeyError(f"{file} has no {what} {key!r}; it has {', '.join(entries)}")
    return entries[key]


def _entry(key: str) -> dict:
    chapter, name = key.split(".")
    try:
        return registry()[chapter][name]
    except KeyError:
        raise KeyError(f"the source registry (source.yaml) has no number {key!r}") from None


def source_value(key: str):
    """The source's number for `key`, written "chapter.name", e.g. "hitters.lm_test_mae"."""
    value = _entry(key)["value"]
    return float(value) if isinstance(value, str) else value


def source_kind(key: str) -> str:
    """What the source's number is: printed, code (a setting), text, book (ISLR2 outside
    its lab) or computed."""
    return _entry(key)["kind"]


def source_text(key: str) -> str:
    """The source's number as the source writes it: its digits, thousands separated."""
    value = _entry(key)["value"]
    return value if isinstance(value, str) else f"{value:,}"


def source_history(key: str):
    """The training history that the source prints for the fit `key` ("hitters.nn"), as a
    data frame like `isldl.fit`'s (one row per epoch, our column names; NaN where the seed's
    text lost a value), with `attrs["where"]`. The histories live in `histories.yaml`,
    read from the seed by `python -m isldl_book.source_histories`."""
    import pandas as pd

    entry = _named("histories.yaml", key, "history")
    frame = pd.DataFrame(entry["columns"], dtype=float,
                         index=pd.RangeIndex(1, entry["epochs"] + 1, name="epoch"))
    frame.attrs["where"] = entry["where"]
    return frame


ISLP = f"ISLP {registry('islp.yaml')['tag']}"
"""The heading of the official Python lab's column: "ISLP" and the tag of `islp.yaml`."""


def islp_value(key: str) -> str | None:
    """The official Python lab's printed number for the row `key`, as its registry gives it
    (`islp.yaml`: ISLP_labs at tag v2.2.3), or None where it reports none."""
    entry = registry("islp.yaml")["values"].get(key)
    return entry["value"] if entry else None


def islp_printed(key: str) -> float | None:
    """The number that the official Python lab printed for the row `key`, to all its digits
    (the last number of its printed text in `islp.yaml`), or None where it reports none."""
    entry = registry("islp.yaml")["values"].get(key)
    return float(entry["printed"].split()[-1]) if entry else None


def islp_settings() -> dict[str, dict]:
    """ISLP's epochs, batch size and learning rate for each fit, each with the notebook's cell
    and line of code that sets it (`islp.yaml`)."""
    return registry("islp.yaml")["settings"]


def comparison_table(rows: list[tuple]) -> str:
    """A Markdown table of (quantity, source key, our value[, ISLP key]): the source's number
    as it gives it, marked by kind, the official Python lab's (ISLP, by the ISLP key, which
    defaults to the source key), and ours with as many decimals as the source's; a note under
    the table explains the marks. A key or our value may be None (a dash); our value may be a
    string."""
    header = f"| Quantity | Source | {ISLP} | {state.results_label()} |"
    lines, kinds = [header, "|:--|--:|--:|--:|"], set()
    for label, key, ours, *islp_key in rows:
        theirs = "—"
        if key:
            kinds.add(source_kind(key))
            theirs = source_text(key) + MARKS[source_kind(key)]
        islp = islp_value(islp_key[0] if islp_key else key) if (islp_key or key) else None
        lines.append(f"| {label} | {theirs} | {islp or '—'} | {_format(ours, key)} |")
        # The tests check each row against the registries, and read our values from it.
        state.record_comparison_row(label=label, key=key, source=theirs, islp=islp,
                                    ours=ours)
    notes = [NOTES[kind] for kind in KINDS if kind in kinds and kind in NOTES]
    notes.append(f"{ISLP}: the official Python lab's printed result, on its own splits "
                 "and budgets (@sec-coming-from-islp)")
    return "\n".join(lines) + "\n\n" + "; ".join(notes) + "."


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
