"""The handouts of the rendered book (`make handouts` after `make book`): each chapter's pages
of the book's PDF, its solutions' pages and the references, with the book's own numbers."""

import re
import subprocess

import pytest

from isldl_book import BOOK_ROOT, handouts
from isldl_book.markdown import (
    Solution,
    book_labels,
    chapter_label,
    chapter_title,
    chapters,
    split_solutions,
)
from isldl_book.run import qmd_to_notebook
from isldl_book.structure import rendered


@pytest.fixture(scope="module")
def handout_texts(tmp_path_factory):
    """{chapter: the text of its handout, one string per page}."""
    out = tmp_path_factory.mktemp("handouts")
    written = handouts.write_handouts(rendered(BOOK_ROOT, "instructor", "pdf"), out)
    assert [path.stem for path in written] == [qmd.stem for qmd in chapters()]
    return {path.stem: subprocess.run(["pdftotext", "-layout", str(path), "-"],
                                      capture_output=True, text=True,
                                      check=True).stdout.split("\f")
            for path in written}


def flat(text: str) -> str:
    return " ".join(text.split())


def test_each_handout_is_its_chapter_then_its_solutions_then_the_references(handout_texts):
    labels = book_labels()
    for qmd in chapters():
        pages = [flat(page) for page in handout_texts[qmd.stem] if page.strip()]
        number = labels[chapter_label(qmd)].split()[-1]
        assert " ".join(chapter_title(qmd).split()[:3]) in pages[0], qmd.stem
        text = " ".join(pages)
        # the chapter's own figures and tables, numbered as in the book
        assert f"Figure {number}.1" in text or f"Table {number}.1" in text, qmd.stem
        assert "??" not in text and "@fig-" not in text and "@sec-" not in text, qmd.stem
        solutions = [item for item in split_solutions(qmd_to_notebook(qmd).cells)
                     if isinstance(item, Solution)]
        for solution in solutions:  # each exercise's solution, under its title, after it
            assert text.count(solution.heading) >= 2, (qmd.stem, solution.heading)
        assert "References" in pages[-1] or "References" in pages[-2], qmd.stem


def test_a_handout_holds_no_other_chapter(handout_texts):
    titles = {qmd.stem: chapter_title(qmd) for qmd in chapters()}
    for name, pages in handout_texts.items():
        first_lines = [page.strip().splitlines()[0] for page in pages if page.strip()]
        others = [title for other, title in titles.items() if other != name]
        for title in others:  # another chapter's title as the heading of a page
            assert not any(re.search(rf"^\s*\d+\s+{re.escape(title)}\s*$", line)
                           for line in first_lines), (name, title)
