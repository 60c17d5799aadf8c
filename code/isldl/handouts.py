"""Course handouts: a PDF and a practice notebook per chapter, built without Quarto.

    python -m isldl.handouts pdf       # handouts/NN-topic.pdf, from each chapter run pinned
    python -m isldl.handouts practice  # practice/NN-topic.ipynb, exercises in place of code

A handout is the chapter executed by `isldl.run` with its pinned results, then turned into
plain notebook Markdown (Quarto's cross-references numbered, citations written out, figure
and table captions placed, cell options dropped) and printed by nbconvert's LaTeX route. A
practice notebook keeps the prose and replaces each code cell marked `#| practice: "…"` with
that prompt. The exercises' worked solutions (`::: {.solution}` divs) go to the end of a
handout, under "Solutions"; a practice notebook keeps the exercises and drops the solutions.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import nbformat
import yaml

from .book import CITATION, REFERENCE, book_files, labels_in
from .data.files import atomic_write
from .paths import BOOK_ROOT
from .run import ChapterError, cell_options, qmd_to_notebook, run_chapter

OPTION_LINE = re.compile(r"^#\|.*\n?", re.M)
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*(\{[^}]*\})?\s*$", re.M)
_CALLOUT = re.compile(r"^::: \{\.callout-\w+\}\n(?:## ([^\n]*)\n)?(.*?)\n:::\s*$", re.S | re.M)


# ------------------------------------------------------------------------ cross-references


def chapters(root: Path = BOOK_ROOT) -> list[Path]:
    """The book's numbered chapters, in order."""
    return [p for p in book_files(root) if p.parent.name == "chapters"]


def book_labels(root: Path = BOOK_ROOT) -> dict[str, str]:
    """What Quarto would print for each `@label` of the book: "Figure 2.1", "Section 1.3", …"""
    config = yaml.safe_load((root / "_quarto.yml").read_text())["crossref"]
    prefixes = {kind: config.get(f"{kind}-prefix", kind.title())
                for kind in ("fig", "tbl", "sec", "eq")}
    labels = {}
    for number, chapter in enumerate(chapters(root), start=1):
        labels[chapter_label(chapter)] = f"Chapter {number}"
        text = chapter.read_text(encoding="utf-8")
        counters = {"fig": 0, "tbl": 0, "eq": 0}
        sections = [0, 0, 0]
        for match in re.finditer(r"^(#{1,3}) .*?\{#(sec-[\w-]+)|#\| label: ((?:fig|tbl)-[\w-]+)"
                                 r"|\{#(eq-[\w-]+)\}|^(#{2,3}) ", text, flags=re.M):
            if match[1] or match[5]:  # a heading, labelled or not, advances the numbering
                level = len(match[1] or match[5])
                if level == 1:  # the chapter itself: "Chapter N", above
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
    """Quarto Markdown → Markdown that nbconvert (pandoc) prints as Quarto would."""
    def equation(match):
        return f"$$\n{match[1].strip()}\n\\tag{{{labels[match[2]].split()[-1]}}}\n$$"

    text = re.sub(r"\$\$\n(.*?)\n\$\$ \{#(eq-[\w-]+)\}", equation, text, flags=re.S)
    text = re.sub(r"\[((?:@[\w:-]+(?:; )?)+)\]", lambda m: "(" + "; ".join(
        citations.get(k, k) for k in re.findall(r"@([\w:-]+)", m[1])) + ")", text)
    text = REFERENCE.sub(lambda m: labels.get(m[1], m[1]), text)
    text = CITATION.sub(lambda m: citations.get(m[1], m[1]), text)
    text = _CALLOUT.sub(_quoted_callout, text)
    return _HEADING.sub(lambda m: f"{m[1]} {m[2]}", text)  # {#sec-…} {.unnumbered}


def _quoted_callout(match) -> str:
    """A callout as a block quote: its title in bold, then every paragraph of its text."""
    lines = [f"**{match[1] or 'Note'}**", "", *match[2].strip().splitlines()]
    return "\n".join(f"> {line}".rstrip() for line in lines)


# ---------------------------------------------------------------------------------- PDFs


def handout_notebook(executed: nbformat.NotebookNode, qmd: Path,
                     labels: dict[str, str], citations: dict[str, str]):
    """The executed chapter as a notebook ready for nbconvert: plain Markdown, captions.

    A reference to another chapter reads as the book's ("Section 6.3.1 of the book")."""
    title = chapter_title(qmd)
    number = labels[chapter_label(qmd)].split()[-1]
    own = labels_in(qmd.read_text(encoding="utf-8"))
    labels = {label: text if label in own else f"{text} of the book"
              for label, text in labels.items()}
    # The chapter's title is the document's; its sections are numbered N.1, N.2, … as in the book.
    cells = [nbformat.v4.new_markdown_cell(
        f"\\renewcommand{{\\thesection}}{{{number}.\\arabic{{section}}}}")]
    for cell in executed.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            source = re.sub(r"^# .*\n", "", cell.source)
            source = re.sub(r"^#(#+) ", r"\1 ", source, flags=re.M)  # one level up
            cells.append(nbformat.v4.new_markdown_cell(plain_markdown(source, labels, citations)))
            continue
        options = cell_options(cell.source)
        if options.get("include") is False:
            continue
        if options.get("echo") is False:  # as Quarto shows it: the output alone
            cell.metadata.setdefault("tags", []).append("remove_input")
        for output in cell.get("outputs", []):  # a callout shown by `isldl.callout`
            if "text/markdown" in output.get("data", {}):
                output["data"]["text/markdown"] = plain_markdown(
                    output["data"]["text/markdown"], labels, citations)
        cell.source = OPTION_LINE.sub("", cell.source).strip()
        cells.append(cell)
        caption = options.get("fig-cap") or options.get("tbl-cap")
        if caption:
            caption = f"{labels[options['label']]}: {plain_markdown(caption, labels, citations)}"
            cells.extend(_captioned(cell, caption, figure="fig-cap" in options))
    cells.append(nbformat.v4.new_markdown_cell(reference_list(_cited_keys(qmd))))
    notebook = nbformat.v4.new_notebook(cells=cells, metadata=executed.metadata)
    notebook.metadata["title"] = title
    notebook.metadata["authors"] = [{"name": "isldl: Deep Learning with ISLR2, in Python"}]
    # the book's date: the chapter's last change, written as Quarto writes `last-modified`
    notebook.metadata["date"] = date.fromtimestamp(qmd.stat().st_mtime).isoformat()
    return notebook


def _captioned(cell, caption: str, figure: bool) -> list:
    """Take a figure's image or a table out of the cell's outputs and return it as Markdown
    with its caption, which LaTeX then keeps on the same page: a figure with its caption
    below, a table with its caption above and room for all its rows."""
    kind = "image/png" if figure else "text/markdown"
    found = [o for o in cell.get("outputs", []) if kind in o.get("data", {})]
    if not found:
        return [nbformat.v4.new_markdown_cell(f"*{caption}*")]
    cell.outputs = [o for o in cell.outputs if o is not found[0]]
    data = found[0]["data"][kind]
    if figure:
        name = f"{cell.get('id', 'figure')}.png"
        markdown = nbformat.v4.new_markdown_cell(f"![{caption}](attachment:{name})")
        markdown.attachments = {name: {"image/png": data}}
        return [markdown]
    table, _, note = data.partition("\n\n")
    rows = table.count("\n") + 4
    return [nbformat.v4.new_markdown_cell(
        f"\\needspace{{{rows}\\baselineskip}}\n\n: {caption}\n\n{table}"
        + (f"\n\n{note}" if note else ""))]


def _cited_keys(qmd: Path) -> list[str]:
    known = bibliography()
    return sorted({m[1] for m in CITATION.finditer(qmd.read_text(encoding="utf-8"))
                   if m[1] in known})


def reference_list(keys: list[str], root: Path = BOOK_ROOT) -> str:
    """The cited entries of references.bib as a Markdown reference list, formatted by
    pandoc's citeproc in the book's (Chicago author-date) style."""
    if not keys:
        return ""
    document = "---\nnocite: |\n  " + ", ".join(f"@{k}" for k in keys) + "\n---\n"
    listing = subprocess.run(
        ["pandoc", "--citeproc", "--bibliography", str(root / "references.bib"),
         "--to", "markdown-citations", "--wrap=none"],
        input=document, capture_output=True, text=True, check=True).stdout
    # citeproc's entries come as a div of divs; the handout keeps their text
    entries = [line for line in listing.splitlines() if line and not line.startswith(":::")]
    return "# References {-}\n\n" + "\n\n".join(entries)


def chapter_label(qmd: Path) -> str:
    """The label of the chapter's level-1 heading, `sec-…`."""
    return re.search(r"^# .*\{#(sec-[\w-]+)", qmd.read_text(encoding="utf-8"), flags=re.M)[1]


def chapter_title(qmd: Path) -> str:
    """The text of the chapter's level-1 heading: its title."""
    return re.search(r"^# (.*?)\s*\{#sec-", qmd.read_text(encoding="utf-8"), flags=re.M)[1]


def build_pdf(qmd: Path, out: Path, work: Path) -> Path:
    """Execute the chapter with its pinned results and print it to `out/<chapter>.pdf`; a
    chapter that ran on stand-in data (its data cannot be had) is a ChapterError."""
    metrics = run_chapter(qmd, {}, work)
    if metrics.get("not_the_books_results"):
        raise ChapterError(f"{qmd.name} ran on stand-in data: {metrics.get('data_error')}")
    return print_pdf(work / f"{qmd.stem}.ipynb", qmd, out)


def print_pdf(executed_path: Path, qmd: Path, out: Path) -> Path:
    """nbconvert's LaTeX route, without prompts, from the chapter as `isldl.run` executed it."""
    from nbconvert import PDFExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    executed = solutions_at_end(nbformat.read(executed_path, as_version=4))
    notebook = handout_notebook(executed, qmd, book_labels(), bibliography())
    exporter = PDFExporter(exclude_input_prompt=True, exclude_output_prompt=True,
                           template_file=str(Path(__file__).parent / "templates" /
                                             "handout.tex.j2"))
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={"remove_input"}),
                                   enabled=True)
    pdf, _ = exporter.from_notebook_node(notebook)
    target = out / f"{qmd.stem}.pdf"
    atomic_write(target, lambda tmp: tmp.write_bytes(pdf))
    return target


# ---------------------------------------------------------------------------------- solutions

_SOLUTION_OPEN = re.compile(r"^:{3,}\s*\{\.solution\b[^}]*\}\s*$")
_DIV_OPEN = re.compile(r"^:{3,}\s*(\{[^}]*\}|[\w-]+)\s*$")
_DIV_CLOSE = re.compile(r"^:{3,}\s*$")
_EXERCISE = re.compile(r"^#{2,6}\s+(.*?)\s*(?:\{#(sec-[\w-]+)[^}]*\})?\s*$")
SOLUTION_PROMPT = "# Your turn: solve the exercise above.\n"


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


def solutions_at_end(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with its worked solutions moved to the end, under "Solutions", each under
    the title of its exercise and a reference to it; where each was, a line that says so."""
    cells, moved = [], []
    for item in split_solutions(notebook.cells):
        if isinstance(item, Solution):
            moved.append(item)
            item = nbformat.v4.new_markdown_cell(
                "*Solution: see Solutions, at the end of this handout.*")
        cells.append(item)
    if moved:
        cells.append(nbformat.v4.new_markdown_cell("## Solutions"))
    for solution in moved:
        reference = f" (@{solution.label})" if solution.label else ""
        cells.append(nbformat.v4.new_markdown_cell(
            f"### {solution.heading or 'Exercise'}{reference}"))
        cells.extend(solution.cells)
    result = nbformat.from_dict(notebook)
    result.cells = cells
    return result


def without_solutions(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with each worked solution replaced by an empty cell for the reader's."""
    result = nbformat.from_dict(notebook)
    result.cells = [nbformat.v4.new_code_cell(SOLUTION_PROMPT, metadata={"tags": ["practice"]})
                    if isinstance(item, Solution) else item
                    for item in split_solutions(notebook.cells)]
    return result


# ------------------------------------------------------------------------- practice notebooks


def practice_notebook(qmd: Path) -> nbformat.NotebookNode:
    """The chapter with its prose, no outputs, each `#| practice` cell replaced by a prompt,
    and each exercise's worked solution by an empty cell for the reader's own."""
    notebook = without_solutions(qmd_to_notebook(qmd))
    labels, citations = book_labels(), bibliography()
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(cell.source, labels, citations)
            continue
        prompt = cell_options(cell.source).get("practice")
        cell.source = OPTION_LINE.sub("", cell.source).strip()
        if prompt:
            notebook.cells[index] = nbformat.v4.new_code_cell(
                f"# Your turn: {prompt}\n", metadata={"tags": ["practice"]})
    return notebook


def build_practice(qmd: Path, out: Path) -> Path:
    target = out / f"{qmd.stem}.ipynb"
    notebook = practice_notebook(qmd)
    nbformat.validate(notebook)
    atomic_write(target, lambda tmp: nbformat.write(notebook, tmp))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl.handouts",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("kind", choices=["pdf", "practice"])
    parser.add_argument("--out", type=Path, help="default: handouts/ or practice/")
    args = parser.parse_args(argv)
    out = args.out or BOOK_ROOT / ("handouts" if args.kind == "pdf" else "practice")
    out.mkdir(parents=True, exist_ok=True)
    for qmd in chapters():
        try:
            if args.kind == "pdf":
                path = build_pdf(qmd, out, BOOK_ROOT / "build" / "handouts")
            else:
                path = build_practice(qmd, out)
            print(path.relative_to(BOOK_ROOT) if path.is_relative_to(BOOK_ROOT) else path)
        except ChapterError as err:  # a chapter whose data cannot be had here: say so, go on
            print(f"skipped {qmd.name}: {err}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
