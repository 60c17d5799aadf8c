"""Course handouts (`make handouts`: pages of the book's PDF, cut by its outline) and
practice notebooks (`make practice`), and the plain Markdown of the notebooks a reader
downloads. The handouts of the rendered book itself are checked in book_checks/."""

import re

import nbformat
import pytest
from pypdf import PdfReader, PdfWriter

from isldl_book import handouts, markdown, notebooks
from isldl_book.run import cell_options, qmd_to_notebook
from isldl_book.structure import rendered


def book_pdf(path):
    """A book-like PDF: two chapters, an appendix of solutions with a section for each, and
    the references; page k's size is (100 + k) × 100, to tell the pages apart."""
    writer = PdfWriter()
    for k in range(10):
        writer.add_blank_page(width=100 + k, height=100)
    for title, page in (("1 Alpha", 0), ("2 Beta", 3), ("Appendices", 5)):
        writer.add_outline_item(title=title, page_number=page)
    solutions = writer.add_outline_item(title="A Solutions", page_number=5)
    for title, page in (("A.1 Alpha", 6), ("A.2 Beta", 8)):
        writer.add_outline_item(title=title, page_number=page, parent=solutions)
    writer.add_outline_item(title="References", page_number=9)
    writer.write(path)
    return path


def widths(path):
    return [int(page.mediabox.width) - 100 for page in PdfReader(path).pages]


def test_a_handout_is_its_chapter_its_solutions_and_the_references(tmp_path):
    reader = PdfReader(book_pdf(tmp_path / "book.pdf"))
    entries = handouts.outline(reader)
    assert handouts.handout_pages(entries, "Alpha") == {
        "Alpha": range(0, 3), "Solutions": range(6, 8), "References": range(9, 10)}
    parts = handouts.handout_pages(entries, "Beta")
    assert parts == {"Beta": range(3, 5), "Solutions": range(8, 9), "References": range(9, 10)}
    target = handouts.write_handout(reader, parts, tmp_path / "02-beta.pdf", "Beta")
    assert widths(target) == [3, 4, 8, 9]
    written = PdfReader(target)
    assert [item.title for item in written.outline] == ["Beta", "Solutions", "References"]
    assert written.metadata.title == "Beta"


def test_a_chapter_missing_from_the_outline_and_a_missing_pdf_are_named(tmp_path):
    reader = PdfReader(book_pdf(tmp_path / "book.pdf"))
    with pytest.raises(ValueError, match="the book's PDF has no chapter 'Gamma'"):
        handouts.handout_pages(handouts.outline(reader), "Gamma")
    with pytest.raises(FileNotFoundError, match="render the book first"):
        handouts.write_handouts(tmp_path / "none.pdf", tmp_path / "out")


def test_an_edition_not_rendered_is_named_with_its_command(tmp_path):
    (tmp_path / "_quarto.yml").write_text("project:\n  output-dir: _book\n")
    (tmp_path / "_quarto-student.yml").write_text("project:\n  output-dir: _book-student\n")
    with pytest.raises(FileNotFoundError, match=r"_book-student/ has no PDF of the student "
                                                r"edition: render it first \(make student\)"):
        rendered(tmp_path, "student", "pdf")


def test_labels_are_numbered_as_quarto_numbers_them():
    labels = markdown.book_labels()
    assert labels["sec-hitters"] == "Chapter 1"
    assert labels["sec-mnist"] == "Chapter 2"
    assert labels["fig-network"] == "Figure 1.1"
    assert labels["eq-single-layer"] == "Equation 1.1"
    assert labels["sec-rnn"].startswith("Section 7.")


def words(text):
    return set(re.findall(r"[A-Za-z]{2,}", text))


def test_practice_notebooks(tmp_path):
    written = notebooks.write_practice(out=tmp_path)
    assert [path.stem for path in written] == [qmd.stem for qmd in markdown.chapters()]
    for qmd, path in zip(markdown.chapters(), written):
        practice = nbformat.read(path, as_version=4)
        nbformat.validate(practice)
        # the solutions replaced by a cell for the reader's own (tests/test_exercises.py)
        chapter = notebooks.without_solutions(qmd_to_notebook(qmd))
        assert all(not c.get("outputs") for c in practice.cells if c.cell_type == "code")
        assert ([c.cell_type for c in practice.cells] == [c.cell_type for c in chapter.cells])
        marked = 0
        for original, copy in zip(chapter.cells, practice.cells):
            prompt = cell_options(original.source).get("practice") if (
                original.cell_type == "code") else None
            if prompt:
                marked += 1
                assert copy.source == f"# Your turn: {prompt}"
            elif original.cell_type == "code":
                assert copy.source.strip() in original.source  # kept, options dropped
            else:  # the prose is kept; only labels, references and citations are rewritten
                prose = re.sub(r"\{[#.][^}]*\}|@[\w:-]+", " ", original.source)
                assert words(prose) <= words(copy.source), qmd.name
        assert marked >= 1, qmd.name


@pytest.mark.parametrize("fence, title", [
    ("::: {.callout-note}", "## The weights could not be had\n"),  # as a page writes it
    ('::: {.callout-note title="The weights could not be had"}', ""),  # as isldl.callout does
])
def test_a_callout_becomes_a_quoted_note_with_every_paragraph(fence, title):
    text = f"{fence}\n{title}\nFirst line.\nSecond.\n\nAnother paragraph.\n:::"
    quoted = markdown.plain_markdown(text, {}, {})
    assert quoted.splitlines() == ["> **The weights could not be had**", ">", "> First line.",
                                   "> Second.", ">", "> Another paragraph."]


def test_a_callout_that_a_cell_prints_is_a_quoted_note_in_the_readers_notebook(root):
    cell = nbformat.v4.new_code_cell("isldl.callout(...)", outputs=[nbformat.v4.new_output(
        "display_data", {"text/markdown": '::: {.callout-warning title="Stand-in"}\nText.\n:::'})])
    notebook = notebooks.reader_cells(nbformat.v4.new_notebook(cells=[cell]), root)
    assert notebook.cells[0].outputs[0].data["text/markdown"] == "> **Stand-in**\n>\n> Text."


def test_a_section_that_starts_mid_page_shares_that_page_with_the_one_before(tmp_path):
    """In the Solutions appendix a chapter's section may start lower on the page where the
    previous chapter's last solution ends: that page belongs to both handouts."""
    from pypdf.generic import Fit

    writer = PdfWriter()
    for _ in range(4):
        writer.add_blank_page(width=100, height=100)
    writer.add_outline_item(title="1 Alpha", page_number=0)
    writer.add_outline_item(title="2 Beta", page_number=1)
    solutions = writer.add_outline_item(title="A Solutions", page_number=2)
    writer.add_outline_item(title="A.1 Alpha", page_number=2, parent=solutions)
    writer.add_outline_item(title="A.2 Beta", page_number=3, parent=solutions,
                            fit=Fit.xyz(left=0, top=40))  # lower on page 3
    writer.write(tmp_path / "book.pdf")
    entries = handouts.outline(PdfReader(tmp_path / "book.pdf"))
    assert handouts.handout_pages(entries, "Alpha")["Solutions"] == range(2, 4)
    assert handouts.handout_pages(entries, "Beta")["Solutions"] == range(3, 4)


def test_a_span_keeps_its_text_and_drops_its_class_in_a_notebook():
    text = "We [start RMSprop afresh]{.difference}, as [@lecun1998mnist] says."
    plain = markdown.plain_markdown(text, {}, {"lecun1998mnist": "LeCun et al. 1998"})
    assert plain == "We start RMSprop afresh, as (LeCun et al. 1998) says."
