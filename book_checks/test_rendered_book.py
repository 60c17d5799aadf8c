"""Checks of the book as Quarto rendered it (`make book`, then `make check-book`): the HTML
pages in _book/, the PDF, and Quarto's log in build/render.log.

The expected numbers come from the sources (`isldl_book.markdown.book_labels`: what each `@label`
must read), so a chapter out of order, a double title or a broken reference fails here.
"""

import re
import subprocess
from collections import Counter
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from isldl_book.markdown import appendices, book_labels, chapter_label, chapter_title, chapters
from isldl_book.structure import output_dir, quarto_config

ROOT = Path(__file__).resolve().parents[1]
BOOK = output_dir(ROOT)
# Folders of a build machine that must never show in a page.
MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|home|tmp|root|Users|private|var/folders)/\S+")


def chapter_pages():
    return [BOOK / qmd.relative_to(ROOT).with_suffix(".html") for qmd in chapters(ROOT)]


def appendix_pages():
    return [BOOK / qmd.relative_to(ROOT).with_suffix(".html") for qmd in appendices(ROOT)]


def soup(page: Path) -> BeautifulSoup:
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


def main_text(page: Path) -> str:
    return soup(page).find("main").get_text(" ")


@pytest.fixture(scope="module")
def pdf_text():
    pdfs = list(BOOK.glob("*.pdf"))
    assert len(pdfs) == 1, pdfs
    return subprocess.run(["pdftotext", "-layout", str(pdfs[0]), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_the_html_book_has_preface_chapters_and_references_in_order():
    config = quarto_config(ROOT)
    listed = [Path(entry).with_suffix(".html")
              for entry in config["book"]["chapters"] + config["book"].get("appendices", [])]
    assert all((BOOK / page).exists() for page in listed), listed
    sidebar = soup(BOOK / "index.html").find(id="quarto-sidebar")
    links = [a["href"].lstrip("./") for a in sidebar.select("a.sidebar-item-text")
             if a.get("href")]  # not the "Appendices" heading
    assert links == [str(page) for page in listed]
    for number, page in enumerate(chapter_pages(), start=1):
        titles = soup(page).find_all("h1")
        assert len(titles) == 1, f"{page.name}: {len(titles)} level-1 headings"
        assert titles[0].find(class_="chapter-number").get_text() == str(number), page.name
        title = chapter_title(ROOT / "chapters" / page.with_suffix(".qmd").name)
        assert title in " ".join(titles[0].get_text().split()), page.name


def test_sections_figures_tables_and_equations_carry_their_chapter_number():
    for number, page in enumerate(chapter_pages(), start=1):
        html = soup(page)
        sections = [s.get_text() for s in html.select("h2 .header-section-number, "
                                                       "h3 .header-section-number")]
        assert sections and all(s.startswith(f"{number}.") for s in sections), (page.name,
                                                                              sections)
        captions = re.findall(r"(Figure|Table)\s(\d+)\.\d+", " ".join(
            c.get_text(" ") for c in html.select("figcaption")))
        assert all(int(chapter) == number for _, chapter in captions), (page.name, captions)
        equations = re.findall(r"\\tag\{(\d+)\.\d+\}", page.read_text(encoding="utf-8"))
        assert all(int(chapter) == number for chapter in equations), page.name


def test_every_cross_reference_reads_as_its_target():
    expected, checked = book_labels(ROOT), 0
    # A reference to a whole chapter links to its page, with no fragment; in a table the HTML
    # book writes it as the chapter's number and title ("1 A single-layer network…").
    chapter_of_page = {qmd.stem: chapter_label(qmd) for qmd in chapters(ROOT)}
    long_form = {chapter_label(qmd): f"{number} {chapter_title(qmd)}"
                 for number, qmd in enumerate(chapters(ROOT), start=1)}
    # An appendix reads "Appendix A — Errata".
    chapter_of_page.update({qmd.stem: chapter_label(qmd) for qmd in appendices(ROOT)})
    long_form.update({chapter_label(qmd): f"Appendix {chr(ord('A') + i)} — {chapter_title(qmd)}"
                      for i, qmd in enumerate(appendices(ROOT))})
    for page in [BOOK / "index.html", *chapter_pages()]:
        for link in soup(page).select("a.quarto-xref"):
            target, _, fragment = link["href"].partition("#")
            label = fragment or chapter_of_page[Path(target).stem]
            text = " ".join(link.get_text().split())
            assert text in (expected.get(label), long_form.get(label)), (page.name, label, text)
            checked += 1
        assert "?@" not in main_text(page), page.name
    assert checked >= 20


def test_no_page_shows_fences_stderr_or_a_machine_path():
    for page in [BOOK / "index.html", BOOK / "references.html", *chapter_pages(),
                 *appendix_pages()]:
        text, html = main_text(page), soup(page)
        assert ":::" not in text, page.name
        assert not html.select(".cell-output-stderr"), page.name
        assert not MACHINE_PATH.search(text), (page.name, MACHINE_PATH.search(text)[0])
        assert "Injected Parameters" not in text and "write_record(" not in text, page.name
        assert "np.float64(" not in text and not re.search(r"Name: \w+, dtype: \w+", text), \
            page.name


def test_every_figure_has_its_image_and_alt_text():
    figures = 0
    for page in chapter_pages():
        for figure in soup(page).select("div.quarto-float figure, figure.figure"):
            for image in figure.find_all("img"):
                assert (page.parent / image["src"]).exists(), (page.name, image["src"])
                assert image.get("alt", "").strip(), (page.name, image["src"])
                figures += 1
    assert figures >= 14


def test_the_pdf_has_the_chapters_numbered_and_every_reference_resolved(pdf_text):
    toc, entries = pdf_contents(pdf_text)
    titles = [chapter_title(qmd) for qmd in chapters(ROOT)]
    assert [int(n) for n, _, _ in entries] == list(range(1, len(titles) + 1)), entries
    assert [" ".join(t.split()) for _, t, _ in entries] == titles
    assert re.search(r"^Preface\s", toc, flags=re.M) and re.search(r"^References\s", toc,
                                                                    flags=re.M)
    after_references = pdf_text.split("Table of contents", 1)[1][len(toc):]
    for letter, qmd in zip("ABCDEFGH", appendices(ROOT)):  # the appendices, after References
        assert re.search(rf"^\s*{letter}\s+{re.escape(chapter_title(qmd))}\s",
                         after_references, flags=re.MULTILINE), f"appendix {letter} ({qmd.name})"
    assert "?@" not in pdf_text and ":::" not in pdf_text
    assert not MACHINE_PATH.search(pdf_text), MACHINE_PATH.search(pdf_text)[0]
    assert "Total mult-adds" not in pdf_text and "Units.MEGABYTES" not in pdf_text


def test_quarto_logged_no_warning():
    log = (ROOT / "build" / "render.log").read_text()
    warnings = [line for line in log.splitlines()
                if re.search(r"WARN|\[WARNING\]|eavesdropping", line)]
    assert warnings == []
    assert "Output created: _book/index.html" in log


def test_each_page_was_executed_once_for_every_format():
    """`make book` (isldl_book.render) executes each page with code once, and each format of
    each edition rendered (PDF, EPUB, HTML) is rendered once and reads every one of them from
    the execution cache."""
    from isldl_book.render import (
        CACHE,
        EXECUTE_LOG,
        FORMATS,
        LOG,
        READ_FROM_CACHE,
        executed_pages,
    )

    pages = executed_pages(ROOT)
    executed = re.findall(r"^Executing '([^']+)\.quarto_ipynb'",
                          (ROOT / EXECUTE_LOG).read_text(), flags=re.M)
    assert sorted(executed) == sorted(page.stem for page in pages)
    log = (ROOT / LOG).read_text()
    assert "Executing '" not in log
    renders = [(to, edition or "instructor") for to, edition in re.findall(
        r"^==== quarto render --to (\w+)(?:.* --profile (\w+))?", log, flags=re.M)]
    editions = {edition for _, edition in renders}
    assert Counter(renders) == {(to, edition): 1 for to in FORMATS for edition in editions}
    assert log.count(READ_FROM_CACHE) == len(renders) * len(pages)
    assert not (ROOT / CACHE).exists()  # emptied after the render


def pdf_contents(pdf_text):
    """The table of contents' chapter lines: (number, title, page)."""
    after = pdf_text.split("Table of contents", 1)[1]
    toc = after[:re.search(r"^References\s+\d+$", after, flags=re.M).end()]
    return toc, re.findall(r"^(\d+) (\S.*?)\s{2,}(\d+)$", toc, flags=re.M)


def test_the_pdf_contents_give_the_pages_the_chapters_start_on(pdf_text):
    pages = pdf_text.split("\f")
    for number, title, page in pdf_contents(pdf_text)[1]:
        # the chapter's heading, on a page whose printed number (its last line) is `page`
        found = [text for text in pages
                 if re.search(rf"^\s*{number}\s+{re.escape(title[:25])}", text, flags=re.M)
                 and text.strip().splitlines()[-1].strip() == page]
        assert found, f"chapter {number} ({title}) does not start on page {page}"


# ------------------------------------------------------------------------ the PDF's pages


def the_pdf() -> Path:
    pdfs = list(BOOK.glob("*.pdf"))
    assert len(pdfs) == 1, pdfs
    return pdfs[0]


def pdf_words():
    """Every word of the PDF's text layer: (page, x_min, x_max, text), pages from 1."""
    layout = subprocess.run(["pdftotext", "-bbox", str(the_pdf()), "-"], capture_output=True,
                            text=True, check=True).stdout
    words = []
    for page, body in enumerate(re.split(r"<page [^>]*>", layout)[1:], start=1):
        for x_min, x_max, text in re.findall(
                r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)" yMax="[\d.]+">(.*?)</word>',
                body):
            words.append((page, float(x_min), float(x_max), text))
    return words


def test_nothing_in_the_pdf_runs_past_the_right_margin():
    """No word of prose, code, output or table crosses the text block's right edge: the
    edge where justified prose lines end (the most common right end of a word, rounded)."""
    words = pdf_words()
    ends = [round(x_max) for _, _, x_max, _ in words]
    right_edge = max(set(ends), key=ends.count)
    left_edge = min(x_min for _, x_min, _, _ in words)
    # (a full stop at the end of a justified line may hang 2.2 pt past the edge)
    over = [(page, text) for page, x_min, x_max, text in words if x_max > right_edge + 3]
    assert right_edge > left_edge + 300 and over == [], over[:10]


def captions(pdf_text):
    """(kind, chapter, number, page) of every "Figure N.k:" and "Table N.k:" caption."""
    found = []
    for page, text in enumerate(pdf_text.split("\f"), start=1):
        for kind, chapter, number in re.findall(r"^\s*(Figure|Table) (\d+)\.(\d+):", text,
                                                flags=re.M):
            found.append((kind, int(chapter), int(number), page))
    return found


def test_pdf_figure_and_table_numbers_run_on_without_gaps(pdf_text):
    """Within each chapter, figures and tables number 1, 2, 3, … with nothing skipped, and
    there are as many as the sources label."""
    expected = book_labels(ROOT)
    for kind in ("Figure", "Table"):
        for number, qmd in enumerate(chapters(ROOT), start=1):
            found = [n for k, c, n, _ in captions(pdf_text) if k == kind and c == number]
            labelled = [v for v in expected.values() if v.startswith(f"{kind} {number}.")]
            assert found == list(range(1, len(labelled) + 1)), (kind, qmd.name, found)


def test_every_pdf_caption_is_on_the_page_of_its_figure_or_table(pdf_text):
    """A figure's caption shares its page with a drawing (an image or a vector figure); a
    table's caption (above the table) is followed on its page by the table's rows."""
    from pypdf import PdfReader

    reader = PdfReader(the_pdf())
    pages = pdf_text.split("\f")
    for kind, chapter, number, page in captions(pdf_text):
        if kind == "Figure":
            resources = reader.pages[page - 1].get("/Resources") or {}
            drawings = resources.get("/XObject") or {}
            assert len(drawings) > 0, f"Figure {chapter}.{number}: no figure on page {page}"
        else:
            lines = [line for line in pages[page - 1].splitlines() if line.strip()]
            at = next(i for i, line in enumerate(lines)
                      if re.match(rf"\s*Table {chapter}\.{number}:", line))
            # after the caption: the heading row, a row, and the page number at least
            assert len(lines) - at >= 4, f"Table {chapter}.{number} alone at the foot of {page}"


def test_no_pdf_output_shows_numpy_wrappers_or_warnings(pdf_text):
    assert "np.float64(" not in pdf_text and "np.int64(" not in pdf_text
    assert not re.search(r"Name: \w+, dtype: \w+", pdf_text)
    assert not re.search(r"\w+Warning:", pdf_text) and "Traceback" not in pdf_text
