"""What every benchmark does with its table: print it, and save it where the book reads it."""

from __future__ import annotations

from pathlib import Path


def report(lines: list[str], save: Path | None) -> None:
    """Print the table's lines; with `save`, also write them to that file."""
    table = "\n".join(lines) + "\n"
    print(table)
    if save:
        save.write_text(table)
