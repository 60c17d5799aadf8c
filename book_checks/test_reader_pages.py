"""Checks of what the rendered book offers its readers beyond the chapters (after `make book`):
each chapter's notebooks, the citation, the licences, the dark theme, the errata and the
session-information appendices."""

import json
import re
import subprocess
from pathlib import Path

import nbformat
from bs4 import BeautifulSoup

from isldl_book.errata import read_errata
from isldl_book.markdown import chapters
from isldl_book.notebooks import NOT_THE_BOOKS, STAND_IN, release_tag
from isldl_book.structure import output_dir, quarto_config

ROOT = Path(__file__).resolve().parents[1]
BOOK = output_dir(ROOT)


def soup(page: Path) -> BeautifulSoup:
    return BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")


def test_each_chapter_page_links_its_notebooks_under_its_title():
    links = json.loads((ROOT / "notebooks" / "links.json").read_text())["chapters"]
    for qmd in chapters(ROOT):
        page = BOOK / "chapters" / f"{qmd.stem}.html"
        bar = soup(page).select_one("main .isldl-notebooks")
        assert bar is not None, page.name
        anchors = bar.find_all("a")
        assert [a.get_text(" ", strip=True) for a in anchors] == [
            "Executed notebook", "Practice notebook", "Open in Colab"], page.name
        for anchor, kind in zip(anchors[:2], ("executed", "practice")):
            target = (page.parent / anchor["href"]).resolve()
            assert target == (BOOK / links[qmd.stem][kind]).resolve(), (page.name, kind)
            nbformat.validate(nbformat.read(target, as_version=4))
        assert anchors[2]["href"] == links[qmd.stem]["colab"]
        assert f"/blob/{release_tag(ROOT)}/notebooks/{qmd.stem}.ipynb" in anchors[2]["href"]
        # right under the title: nothing of the page's body comes before the links
        assert bar.find_previous_sibling().get("id") == "title-block-header", page.name
    assert not list(ROOT.glob("**/*.quarto_ipynb")), "make book leaves no kept notebook behind"


def stand_in(page: Path) -> bool:
    """Whether the page ran on stand-in data (CIFAR-100 cannot be had on the project's
    machine); its executed notebook says so, as the page does."""
    if STAND_IN not in page.read_text(encoding="utf-8"):
        return False
    assert page.stem == "03-cifar-cnn", page.name
    return True


def test_the_executed_notebooks_hold_the_outputs_of_the_pinned_render():
    for qmd in chapters(ROOT):
        notebook = nbformat.read(BOOK / "notebooks" / f"{qmd.stem}-executed.ipynb", as_version=4)
        assert any(c.get("outputs") for c in notebook.cells), qmd.name
        text = json.dumps(notebook)
        assert "/work/" not in text and "/home/" not in text, qmd.name
        if stand_in(BOOK / "chapters" / f"{qmd.stem}.html"):  # as its page, it says so
            assert STAND_IN in text, qmd.name
        else:
            assert NOT_THE_BOOKS not in text, qmd.name


def test_the_preface_shows_the_citation_and_every_page_the_licences():
    config = quarto_config(ROOT)
    citation = soup(BOOK / "index.html").find(id="book-citation")
    assert citation is not None
    bibtex = citation.find("code").get_text()
    assert f"version = {{{config['citation']['version']}}}" in bibtex
    assert config["citation"]["url"] in bibtex
    for page in [BOOK / "index.html", BOOK / "chapters" / f"{chapters(ROOT)[0].stem}.html"]:
        footer = soup(page).select_one(".nav-footer").get_text(" ", strip=True)
        assert "CC BY-NC-SA 4.0" in footer and "MIT" in footer, page.name


def test_the_html_book_has_a_dark_theme_to_toggle():
    css = [p.name for p in (BOOK / "site_libs" / "bootstrap").glob("*.css")]
    assert any("dark" in name for name in css), css
    html = soup(BOOK / "index.html")
    assert html.select_one(".quarto-color-scheme-toggle") is not None
    # the toggle's script disables this stylesheet, and stops if it is missing
    assert html.select_one("link#quarto-text-highlighting-styles.quarto-color-scheme-extra")


def test_the_errata_and_session_appendices_have_their_tables():
    errata = soup(BOOK / "errata.html")
    tables = errata.select("main table")
    assert len(tables[0].select("tbody tr")) == len(read_errata(ROOT / "errata.yml"))
    # what the change of optimiser moved: a row for each pinned fit's test metric
    scored = [p for p in (ROOT / "results").glob("*/pin.json")
              if json.loads(p.read_text())["metrics"]]
    assert len(tables[1].select("tbody tr")) == len(scored)
    assert errata.select_one('a[href*="issues/new?template=erratum.yml"]') is not None
    session = soup(BOOK / "appendices" / "session-info.html")
    tables = session.select("main table")
    assert len(tables) == 2
    versions = {tr.find_all("td")[0].get_text(strip=True): tr.find_all("td")[1].get_text(strip=True)
                for tr in tables[0].select("tbody tr")}
    assert re.match(r"\d+\.\d+", versions["Quarto"]), versions["Quarto"]
    # one row per pinned fit, and one per fit recorded as missing (its data could not be had)
    rows = {tr.find_all("td")[0].get_text(strip=True): tr.find_all("td")[1].get_text(strip=True)
            for tr in tables[1].select("tbody tr")}
    pinned = {p.parent.name for p in (ROOT / "results").glob("*/pin.json")}
    missing = {p.parent.name for p in (ROOT / "results").glob("*/missing.json")} - pinned
    assert set(rows) == pinned | missing
    assert all(rows[name] == "not pinned" for name in missing)


def test_the_pdf_has_no_notebook_links():
    pdf = next(BOOK.glob("*.pdf"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "Open in Colab" not in text and "Practice notebook" not in text
