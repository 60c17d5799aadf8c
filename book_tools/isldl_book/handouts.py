"""Course handouts: one PDF per chapter, cut from the book's PDF that Quarto rendered.

    python -m isldl_book.handouts [--editions instructor student] [--out handouts]

Writes handouts/<edition>/<chapter>.pdf from each edition's PDF: the instructor's with the
chapter's worked solutions, the student's without (its PDF has none).

Quarto renders the book once, with its numbering, its citations and its Lua filters (the
worked solutions moved to the appendix "Solutions"). A handout is that PDF's pages of one
chapter, then the pages of that chapter's solutions, then the references: the same numbers
("Figure 2.1", "Section 6.3"), the same citations and the same solutions as the book, from
one implementation of each. The pages are found from the PDF's outline (its bookmarks).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from isldl.data.files import atomic_write

from . import BOOK_ROOT
from .markdown import chapter_title, chapters
from .structure import EDITIONS, rendered

SOLUTIONS, REFERENCES = "Solutions", "References"


@dataclass
class Entry:
    """A bookmark of the PDF: its title, its depth (0 for a chapter), its first page (0-based),
    whether it starts at the top of that page, and the first page after it."""

    title: str
    depth: int
    start: int
    at_top: bool = True
    end: int = 0


def outline(reader) -> list[Entry]:
    """The PDF's bookmarks in order, each with its pages: up to the next bookmark at its
    depth or above, or to the end."""
    entries = []

    def walk(items, depth):
        for item in items:
            if isinstance(item, list):
                walk(item, depth + 1)
            else:
                page = reader.get_destination_page_number(item)
                entries.append(Entry(item.title.strip(), depth, page,
                                     _at_top(item, reader.pages[page])))

    walk(reader.outline, 0)
    for i, entry in enumerate(entries):
        later = [e for e in entries[i + 1:] if e.depth <= entry.depth]
        # a section that starts lower on a page shares that page with the one before it
        entry.end = (later[0].start + (not later[0].at_top)) if later else len(reader.pages)
    return entries


def _at_top(item, page) -> bool:
    """Whether a bookmark points at the top of its page (the upper eighth), as a new
    chapter does; one without a position counts as at the top."""
    top = getattr(item, "top", None)
    try:
        return top is None or float(top) >= 0.875 * float(page.mediabox.height)
    except (TypeError, ValueError):
        return True


def _titled(entries: list[Entry], title: str, depth: int | None = None) -> Entry | None:
    """The bookmark whose title is `title`, or ends with it ("1 Hitters", "A Solutions")."""
    for entry in entries:
        if (depth is None or entry.depth == depth) and (
                entry.title == title or entry.title.endswith(" " + title)):
            return entry
    return None


def handout_pages(entries: list[Entry], title: str) -> dict[str, range]:
    """The pages of the chapter `title`'s handout, by part: the chapter, its solutions (its
    section of the appendix "Solutions"), the references."""
    chapter = _titled([e for e in entries if e.depth <= 1], title)
    if chapter is None:
        raise ValueError(f"the book's PDF has no chapter {title!r} in its outline")
    parts = {title: range(chapter.start, chapter.end)}
    solutions = _titled(entries, SOLUTIONS)
    if solutions is not None:
        inside = [e for e in entries if solutions.start <= e.start < solutions.end
                  and e.depth > solutions.depth]
        own = _titled(inside, title)
        if own is not None:
            parts[SOLUTIONS] = range(own.start, own.end)
    references = _titled(entries, REFERENCES)
    if references is not None:
        parts[REFERENCES] = range(references.start, references.end)
    return parts


def write_handout(reader, parts: dict[str, range], target: Path, title: str) -> Path:
    """The pages of each part as one PDF, each part bookmarked at its first page."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for name, pages in parts.items():
        first = len(writer.pages)
        for number in pages:
            writer.add_page(reader.pages[number])
        writer.add_outline_item(title=name, page_number=first)
    writer.add_metadata({"/Title": title})
    atomic_write(target, lambda tmp: writer.write(tmp))
    return target


def write_handouts(book_pdf: Path, out: Path, root: Path = BOOK_ROOT) -> list[Path]:
    """handouts/<chapter>.pdf for each chapter of the book's PDF."""
    from pypdf import PdfReader

    if not book_pdf.exists():
        raise FileNotFoundError(f"{book_pdf} is missing: render the book first (make book)")
    reader = PdfReader(book_pdf)
    entries = outline(reader)
    return [write_handout(reader, handout_pages(entries, chapter_title(qmd)),
                          out / f"{qmd.stem}.pdf", chapter_title(qmd))
            for qmd in chapters(root)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl_book.handouts",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--editions", nargs="+", choices=EDITIONS, default=list(EDITIONS))
    parser.add_argument("--out", type=Path, default=BOOK_ROOT / "handouts")
    args = parser.parse_args(argv)
    try:
        paths = [path for edition in args.editions for path in write_handouts(
            rendered(BOOK_ROOT, edition, "pdf"), args.out / edition)]
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
