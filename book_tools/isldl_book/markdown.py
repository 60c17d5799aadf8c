"""The book's Quarto Markdown as plain notebook Markdown, for the notebooks a reader downloads
or opens in Colab, which no Quarto renders: its cross-references numbered as Quarto numbers
them, its citations written out, its callouts as quoted notes, and its exercises' worked
solutions (`::: {.solution}` divs) found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import BOOK_ROOT
from .structure import CITATION, REFERENCE, book_files, quarto_config

OPTION_LINE = re.compile(r"^#\|.*\n?", re.M)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(\{[^}]*\})?\s*$", re.M)
_SPAN = re.compile(r"\[([^\]]+)\]\{\.[\w-]+\}")
# A callout, its title an attribute (as `isldl.callout` writes it) or a `##` heading inside.
_CALLOUT = re.compile(r'^::: \{\.callout-\w+(?: title="(?P<attribute>[^"]*)")?\}\n'
                      r"(?:## (?P<heading>[^\n]*)\n)?(?P<text>.*?)\n:::\s*$", re.S | re.M)


# ------------------------------------------------------------------------ cross-references


def chapters(root: Path = BOOK_ROOT) -> list[Path]:
    """The book's numbered chapters, in order."""
    return [p for p in book_files(root) if p.parent.name == "chapters"]


def appendices(root: Path = BOOK_ROOT) -> list[Path]:
    """The book's appendices, in order: lettered A, B, …"""
    return [root / entry for entry in quarto_config(root)["book"].get("appendices", [])]


def book_labels(root: Path = BOOK_ROOT) -> dict[str, str]:
    """What Quarto would print for each `@label` of the book: "Figure 2.1", "Section 1.3",
    "Section A.3" in an appendix, …"""
    config = quarto_config(root)["crossref"]
    prefixes = {kind: config.get(f"{kind}-prefix", kind.title())
                for kind in ("fig", "tbl", "sec", "eq")}
    numbered = [(f"Chapter {n}", str(n)) for n in range(1, len(chapters(root)) + 1)]
    numbered += [(f"Appendix {chr(ord('A') + i)}", chr(ord("A") + i))
                 for i in range(len(appendices(root)))]
    labels = {}
    for (name, number), chapter in zip(numbered, chapters(root) + appendices(root)):
        labels[chapter_label(chapter)] = name
        text = chapter.read_text(encoding="utf-8")
        counters = {"fig": 0, "tbl": 0, "eq": 0}
        sections = [0, 0, 0]
        for match in re.finditer(r"^(#{1,3}) .*?\{#(sec-[\w-]+)|#\| label: ((?:fig|tbl)-[\w-]+)"
                                 r"|\{#(eq-[\w-]+)\}|^(#{2,3}) ", text, flags=re.M):
            if match[1] or match[5]:  # a heading, labelled or not, advances the numbering
                level = len(match[1] or match[5])
                if level == 1:  # the chapter itself: "Chapter N" or "Appendix X", above
                    continue
                sections[level - 2] += 1
                sections[level - 1:] = [0] * (3 - level + 1)
                if match[2]:
                    digits = [number] + [s for s in sections[:level - 1]]
                    labels[match[2]] = f"{prefixes['sec']} {'.'.join(map(str, digits))}"
                continue
            label = match[3] or match[4]
            kind = label.split("-")[0]
            counters[kind] += 1
            labels[label] = f"{prefixes[kind]} {number}.{counters[kind]}"
    return labels


def bibliography(root: Path = BOOK_ROOT) -> dict[str, str]:
    """key → "Author et al. Year", from references.bib."""
    entries = {}
    for key, body in re.findall(r"^@\w+\{([^,\s]+),(.*?)^\}", (root / "references.bib").read_text(),
                                flags=re.M | re.S):
        authors = re.search(r"author\s*=\s*\{(.*?)\},?\s*$", body, flags=re.M | re.S)[1]
        year = re.search(r"year\s*=\s*\{(\d{4})\}", body)[1]
        surnames = [a.split(",")[0].strip("{} \n") for a in authors.split(" and ")]
        if surnames[-1] == "others" or len(surnames) > 2:  # BibTeX's "and others" too
            who = f"{surnames[0]} et al."
        else:
            who = " and ".join(surnames)
        entries[key] = f"{who} {year}"
    return entries


def plain_markdown(text: str, labels: dict[str, str], citations: dict[str, str]) -> str:
    """Quarto Markdown → plain notebook Markdown that reads as Quarto prints it."""
    def equation(match):
        return f"$$\n{match[1].strip()}\n\\tag{{{labels[match[2]].split()[-1]}}}\n$$"

    text = re.sub(r"\$\$\n(.*?)\n\$\$ \{#(eq-[\w-]+)\}", equation, text, flags=re.S)
    text = re.sub(r"\[((?:@[\w:-]+(?:; )?)+)\]", lambda m: "(" + "; ".join(
        citations.get(k, k) for k in re.findall(r"@([\w:-]+)", m[1])) + ")", text)
    text = REFERENCE.sub(lambda m: labels.get(m[1], m[1]), text)
    text = CITATION.sub(lambda m: citations.get(m[1], m[1]), text)
    text = _CALLOUT.sub(_quoted_callout, text)
    text = _SPAN.sub(lambda m: m[1], text)  # a span's text without its class: […]{.difference}
    return _HEADING.sub(lambda m: f"{m[1]} {m[2]}", text)  # {#sec-…} {.unnumbered}


def _quoted_callout(match) -> str:
    """A callout as a block quote: its title in bold, then every paragraph of its text."""
    title = match["attribute"] or match["heading"] or "Note"
    lines = [f"**{title}**", "", *match["text"].strip().splitlines()]
    return "\n".join(f"> {line}".rstrip() for line in lines)


def chapter_label(qmd: Path) -> str:
    """The label of the chapter's level-1 heading, `sec-…`."""
    return re.search(r"^# .*\{#(sec-[\w-]+)", qmd.read_text(encoding="utf-8"), flags=re.M)[1]


def chapter_title(qmd: Path) -> str:
    """The text of the chapter's level-1 heading: its title."""
    return re.search(r"^# (.*?)\s*\{#sec-", qmd.read_text(encoding="utf-8"), flags=re.M)[1]


# ---------------------------------------------------------------------------------- solutions

_SOLUTION_OPEN = re.compile(r"^:{3,}\s*\{\.solution\b[^}]*\}\s*$")
_DIV_OPEN = re.compile(r"^:{3,}\s*(\{[^}]*\}|[\w-]+)\s*$")
_DIV_CLOSE = re.compile(r"^:{3,}\s*$")
_EXERCISE = re.compile(r"^#{2,6}\s+(.*?)\s*(?:\{#(sec-[\w-]+)[^}]*\})?\s*$")


@dataclass
class Solution:
    """An exercise's worked solution: the cells of its `::: {.solution}` div, and the heading
    (text and label) of the exercise it solves."""

    heading: str | None
    label: str | None
    cells: list = field(default_factory=list)


def split_solutions(cells) -> list:
    """The cells with each worked solution taken out and a `Solution` in its place.

    A solution is a fenced div `::: {.solution}` … `:::`; it may open and close inside
    Markdown cells and hold code cells between. Markdown cells that hold a fence are split
    there, so the text before and after it stays where it was."""
    kept, solution, depth, exercise = [], None, 0, (None, None)
    for cell in cells:
        if cell.cell_type != "markdown":
            (solution.cells if solution is not None else kept).append(cell)
            continue
        lines = []
        for line in cell.source.splitlines():
            if solution is None and _SOLUTION_OPEN.match(line):
                _add_markdown(kept, lines)
                lines, solution, depth = [], Solution(*exercise), 1
                continue
            if solution is None:
                heading = _EXERCISE.match(line)
                exercise = (heading[1], heading[2]) if heading else exercise
            elif _DIV_CLOSE.match(line):
                depth -= 1
                if depth == 0:
                    _add_markdown(solution.cells, lines)
                    kept.append(solution)
                    lines, solution = [], None
                    continue
            elif _DIV_OPEN.match(line):
                depth += 1
            lines.append(line)
        _add_markdown(solution.cells if solution is not None else kept, lines)
    if solution is not None:
        raise ValueError(f"a ::: {{.solution}} div after {solution.heading!r} is not closed")
    return kept


def _add_markdown(cells: list, lines: list[str]) -> None:
    text = "\n".join(lines).strip()
    if text:
        cells.append(nbformat.v4.new_markdown_cell(text))
