"""Checks of the book's sources that need no Quarto: chapters, cross-references, citations.

`problems(root)` lists everything Quarto would complain about (or render wrongly) that can be
found by reading the files: a chapter listed in `_quarto.yml` that does not exist, an `@fig-…`
reference with no such label, a citation with no entry in `references.bib`, a chapter without
a parameters cell, an absolute path in a chapter.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from .run import parameters_of, qmd_to_notebook

_XREF_KINDS = ("fig", "tbl", "sec", "eq")
# `@fig-…` and friends, and `@key2021` citations, as Quarto reads them (the notebooks'
# Markdown reuses them).
REFERENCE = re.compile(r"(?<![\w.])@((?:fig|tbl|sec|eq)-[\w-]*\w)")
CITATION = re.compile(r"(?<![\w.@])@([A-Za-z][\w:]*\d{4}[\w]*)")
_LABEL_OPTION = re.compile(r"^#\|\s*label:\s*((?:fig|tbl|sec|eq)-[\w-]+)\s*$", re.M)
_LABEL_ATTRIBUTE = re.compile(r"\{#((?:fig|tbl|sec|eq)-[\w-]+)[\s}]")
_BIB_KEY = re.compile(r"^@\w+\{([^,\s]+),", re.M)
_ABSOLUTE_PATH = re.compile(r"""["'](/(?:home|Users|work|tmp|root)/[^"']*|[A-Z]:\\[^"']*)["']""")


def quarto_config(root: Path) -> dict:
    """`_quarto.yml`, the book's project file, as a dictionary: the one place that reads it."""
    return yaml.safe_load((root / "_quarto.yml").read_text(encoding="utf-8"))


EDITIONS = ("instructor", "student")
"""The book's editions: the instructor's, with the worked solutions (the default profile), and
the student's, without them (`--profile student`, `_quarto-student.yml`)."""


def output_dir(root: Path, edition: str = "instructor") -> Path:
    """Where Quarto renders an edition: `project: output-dir` of its profile, or the book's."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {', '.join(EDITIONS)}; got {edition!r}")
    config = quarto_config(root)
    if edition != "instructor":
        profile = yaml.safe_load((root / f"_quarto-{edition}.yml").read_text(encoding="utf-8"))
        config["project"] |= profile.get("project", {})
    return root / config["project"]["output-dir"]


def rendered(root: Path, edition: str, kind: str) -> Path:
    """The edition's book as `kind` ("pdf", "epub") in its output folder, named after the
    book's title; a FileNotFoundError that says how to render it."""
    out = output_dir(root, edition)
    found = sorted(out.glob(f"*.{kind}"))
    if not found:
        command = "make book" if edition == "instructor" else "make student"
        raise FileNotFoundError(f"{out.name}/ has no {kind.upper()} of the {edition} edition: "
                                f"render it first ({command})")
    return found[0]


def profile_args(edition: str) -> list[str]:
    """Quarto's arguments that select an edition's profile."""
    return [] if edition == "instructor" else ["--profile", edition]


def book_files(root: Path) -> list[Path]:
    """The .qmd files that `_quarto.yml` lists, in order (parts included), then its
    appendices."""
    config = quarto_config(root)
    entries = []
    for item in config["book"]["chapters"] + config["book"].get("appendices", []):
        if isinstance(item, dict):
            entries += item.get("chapters", [])
            if "part" in item and str(item["part"]).endswith(".qmd"):
                entries.append(item["part"])
        else:
            entries.append(item)
    return [root / e for e in entries]


def _strip_code(text: str) -> str:
    """Markdown without its code cells and inline code, where @ means something else."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M)
    return re.sub(r"`[^`\n]*`", "", text)


def labels_in(text: str) -> set[str]:
    return set(_LABEL_OPTION.findall(text)) | set(_LABEL_ATTRIBUTE.findall(text))


def references_in(text: str) -> set[str]:
    return set(REFERENCE.findall(_strip_code(text)))


def citations_in(text: str) -> set[str]:
    stripped = _strip_code(text)
    return {key for key in CITATION.findall(stripped) if not key.startswith(_XREF_KINDS)}


def bib_keys(bib: Path) -> set[str]:
    return set(_BIB_KEY.findall(bib.read_text()))


def problems(root: Path) -> list[str]:
    """Everything wrong with the book's sources that can be seen without rendering."""
    found = []
    files = book_files(root)
    missing = [f for f in files if not f.exists()]
    found += [f"{f.relative_to(root)} is listed in _quarto.yml but does not exist" for f in missing]
    files = [f for f in files if f.exists()]
    texts = {f: f.read_text(encoding="utf-8") for f in files}
    labels = set().union(*(labels_in(t) for t in texts.values()))
    keys = bib_keys(root / "references.bib")
    for path, text in texts.items():
        name = path.relative_to(root)
        found += [f"{name}: @{r} has no label" for r in sorted(references_in(text) - labels)]
        found += [f"{name}: citation @{c} is not in references.bib"
                  for c in sorted(citations_in(text) - keys)]
        found += [f"{name}: absolute path {p}" for p in _ABSOLUTE_PATH.findall(text)]
        if path.parent.name == "chapters":
            try:
                parameters_of(qmd_to_notebook(path))
            except Exception as err:
                found.append(f"{name}: {err}")
    return found
