"""The book's structure, checked without Quarto."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

from isldl_book.structure import (
    book_files,
    citations_in,
    labels_in,
    problems,
    quarto_config,
    references_in,
)


def test_the_book_has_no_problems(root):
    assert problems(root) == []


def test_every_chapter_file_is_listed(root):
    listed = {p.name for p in book_files(root)}
    assert {p.name for p in (root / "chapters").glob("*.qmd")} <= listed


def test_quarto_config_has_what_the_book_needs(root):
    config = quarto_config(root)
    assert config["project"]["type"] == "book"
    assert config["execute"]["freeze"] is False  # see _quarto.yml: never reuse a fast run
    assert config["quarto-required"] == ">=1.6.34"
    assert set(config["format"]) == {"html", "pdf", "epub"}
    assert config["book"]["downloads"] == ["pdf", "epub"]
    from isldl_book.render import FORMATS

    assert set(FORMATS) == set(config["format"]) and FORMATS[-1] == "html"  # rendered last
    assert config["bibliography"] == "references.bib"


def test_a_broken_reference_or_citation_is_caught(root, tmp_path):
    for name in ("_quarto.yml", "index.qmd", "references.qmd", "references.bib"):
        (tmp_path / name).write_text((root / name).read_text())
    (tmp_path / "chapters").mkdir()
    for chapter in (root / "chapters").glob("*.qmd"):
        (tmp_path / "chapters" / chapter.name).write_text(chapter.read_text())
    first = sorted((tmp_path / "chapters").glob("*.qmd"))[0]
    first.write_text(first.read_text() + "\nSee @fig-nowhere and [@nobody2024].\n"
                     "```{python}\nopen('/home/me/data.csv')\n```\n")
    found = "\n".join(problems(tmp_path))
    assert "@fig-nowhere has no label" in found
    assert "@nobody2024 is not in references.bib" in found
    assert "absolute path /home/me/data.csv" in found


def test_labels_references_and_citations_are_parsed():
    text = ("See @fig-a, @tbl-b and @sec-c [@james2023islr; @lecun1998mnist].\n"
            "## Title {#sec-c}\n$$x$$ {#eq-d}\n```{python}\n#| label: fig-a\nx @ y\n```\n")
    assert references_in(text) == {"fig-a", "tbl-b", "sec-c"}
    assert labels_in(text) == {"fig-a", "sec-c", "eq-d"}
    assert citations_in(text) == {"james2023islr", "lecun1998mnist"}


def test_figures_have_captions(root):
    for chapter in (root / "chapters").glob("*.qmd"):
        for cell in re.findall(r"```\{python\}\n(.*?)```", chapter.read_text(), flags=re.S):
            if "#| label: fig-" in cell:
                assert "#| fig-cap:" in cell, f"{chapter.name}: a figure without a caption"
                assert "#| fig-alt:" in cell, f"{chapter.name}: a figure without alt text"


def panache_lint(*paths):
    panache = shutil.which("panache") or str(Path(sys.executable).with_name("panache"))
    return subprocess.run([panache, "lint", *map(str, paths)], capture_output=True, text=True)


def test_panache_finds_nothing_in_the_book(root):
    """panache, a Quarto-aware linter, where Quarto itself cannot run."""
    files = book_files(root) + [root / "tests" / "fixtures" / "chapter.qmd"]
    result = panache_lint(*files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_panache_catches_a_broken_reference(tmp_path):
    bad = tmp_path / "bad.qmd"
    bad.write_text("See @fig-nowhere.\n")
    result = panache_lint(bad)
    assert result.returncode != 0 and "fig-nowhere" in result.stdout + result.stderr


MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|home|tmp|root|Users)/[\w.-]+")


def test_no_committed_file_names_a_folder_of_the_machine_that_made_it(root):
    tracked = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True,
                             check=True).stdout.split()
    found = []
    for name in tracked:
        path = root / name
        if path.suffix in {".pt", ".jpg", ".jpeg", ".png", ".gz"} or not path.is_file():
            continue
        for match in MACHINE_PATH.finditer(path.read_text(encoding="utf-8", errors="ignore")):
            found.append(f"{name}: {match[0]}")
    # This file names such a folder on purpose, as an example of what to catch.
    assert [f for f in found if not f.startswith("tests/test_book.py")] == []


CODE_WIDTH = 76
"""Characters of code that an HTML code block shows at a 1280-pixel window (longer lines
scroll out of sight); the PDF, which wraps at 80 with ↪, takes them too."""


def test_chapter_code_fits_the_html_code_block_and_the_printed_page(root):
    long = []
    for chapter in (root / "chapters").glob("*.qmd"):
        for cell in re.findall(r"^```\{python\}\n(.*?)^```", chapter.read_text(), re.S | re.M):
            long += [f"{chapter.name}: {line}" for line in cell.splitlines()
                     if len(line) > CODE_WIDTH and not line.startswith("#|")]
    assert long == []
