"""The release that `make release` built (`make check-release`): both editions, their EPUBs
and handouts, the notebooks, and the zip with its offline websites.

The student edition must hold no worked solution, anywhere: the solutions are read from the
chapters (`::: {.solution}` divs), and each is known by its phrases, runs of seven plain words
of its prose that the rest of its chapter does not use, and by its lines of code. Every
solution must be in the instructor edition, and none of them in the student's.
"""

import json
import re
import shutil
import subprocess
import zipfile
from functools import cache
from pathlib import Path

import nbformat
import pytest
from chromium import open_browser, typeset

from isldl_book.markdown import Solution, book_labels, chapters, split_solutions
from isldl_book.notebooks import package_version
from isldl_book.release import release_files, release_zip
from isldl_book.run import qmd_to_notebook
from isldl_book.structure import EDITIONS, output_dir, rendered

pytestmark = pytest.mark.release

ROOT = Path(__file__).resolve().parents[1]
VERSION = package_version(ROOT)
ZIP = release_zip(ROOT)
_PHRASE = re.compile(r"(?:[A-Za-z][a-z']*,? ){6}[A-Za-z][a-z']*")
# What a phrase must not run across: code, math, links, references, emphasis marks.
_BREAKS = re.compile(r"`[^`]*`|\$\$.*?\$\$|\$[^$]*\$|\]\([^)]*\)|@[\w-]+|[*_\[\]#|]", re.S)


def flat(text: str) -> str:
    return " ".join(text.split())


def phrases(markdown: str) -> set[str]:
    return set(_PHRASE.findall(flat(_BREAKS.sub(" | ", markdown))))


@cache
def solutions() -> dict[str, dict]:
    """{"<chapter>: <exercise>": its phrases and code lines}, each unused elsewhere in its
    chapter."""
    found = {}
    for qmd in chapters(ROOT):
        cells = split_solutions(qmd_to_notebook(qmd).cells)
        rest = " ".join(c.source for c in cells if not isinstance(c, Solution))
        rest_phrases, rest_flat = phrases(rest), flat(rest)
        for item in (c for c in cells if isinstance(c, Solution)):
            prose = " ".join(c.source for c in item.cells if c.cell_type == "markdown")
            code = [line.strip() for c in item.cells if c.cell_type == "code"
                    for line in c.source.splitlines()
                    if len(line.strip()) >= 30 and not line.lstrip().startswith("#")]
            found[f"{qmd.stem}: {item.heading}"] = {
                "phrases": phrases(prose) - rest_phrases,
                "code": [line for line in code if flat(line) not in rest_flat]}
    assert found and all(s["phrases"] for s in found.values()), "a solution without prose"
    return found


def pdf_text(path: Path) -> str:
    return flat(subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                               check=True).stdout.replace("-\n", ""))


def epub_text(path: Path) -> str:
    with zipfile.ZipFile(path) as epub:
        return flat(" ".join(re.sub(r"<[^>]+>", " ", epub.read(name).decode())
                             for name in epub.namelist() if name.endswith(".xhtml")))


def html_text(site: Path) -> str:
    return flat(" ".join(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))
                         for page in site.rglob("*.html")))


def notebook_text(paths) -> str:
    return flat(" ".join(cell.source for path in paths
                         for cell in nbformat.read(path, as_version=4).cells))


def outputs(edition: str) -> dict[str, str]:
    """The text of each output of an edition, flattened."""
    site = output_dir(ROOT, edition)
    texts = {"HTML": html_text(site), "PDF": pdf_text(rendered(ROOT, edition, "pdf")),
             "EPUB": epub_text(rendered(ROOT, edition, "epub")),
             "handouts": " ".join(pdf_text(p) for p in (ROOT / "handouts" / edition).glob(
                 "*.pdf")),
             "notebooks": notebook_text(sorted((site / "notebooks").glob("*.ipynb")))}
    if edition == "student":
        texts["Colab notebooks"] = notebook_text(sorted((ROOT / "notebooks" / "student").glob(
            "*.ipynb")))
    # an output missing or empty would hold no solution: it must be there to be checked
    assert all(texts.values()), [kind for kind, text in texts.items() if not text]
    return texts


@pytest.mark.parametrize("edition", EDITIONS)
def test_the_editions_hold_their_solutions_or_none(edition):
    for output, text in outputs(edition).items():
        for name, solution in solutions().items():
            shown = [p for p in solution["phrases"] if p in text]
            if edition == "instructor":
                assert shown, (output, name, "no phrase of this solution")
            else:
                assert not shown, (output, name, shown)
                if output != "PDF" and output != "handouts":  # code keeps its lines there
                    assert not [c for c in solution["code"] if flat(c) in text], (output, name)


def test_the_student_edition_numbers_its_exercises_as_the_instructors():
    from pypdf import PdfReader

    from isldl_book.handouts import outline

    def numbered(edition):  # "1.7.1 A narrower network without dropout", as printed
        text = subprocess.run(["pdftotext", "-layout", str(next(output_dir(ROOT, edition).glob(
            "*.pdf"))), "-"], capture_output=True, text=True, check=True).stdout
        return [heading for heading in re.findall(r"^\s*(\d+\.\d+\.\d+)\s+(\S.*?)\s*$",
                                                  text, flags=re.M)
                if ". . ." not in heading[1]]  # the headings, not the contents' lines

    def titles(edition):
        return [e.title for e in outline(PdfReader(next(output_dir(ROOT, edition).glob(
            "*.pdf"))))]

    assert numbered("student") == numbered("instructor")
    exercises = {name.split()[-1] for label, name in book_labels(ROOT).items()
                 if label.startswith("sec-") and "-ex-" in label}
    assert exercises and exercises <= {number for number, _ in numbered("student")}
    assert "Solutions" in titles("instructor") and "Solutions" not in titles("student")


def epubcheck() -> list[str]:
    """The epubcheck command: Debian's is the jar itself (run by Java), Homebrew's a script."""
    found = shutil.which("epubcheck")
    assert found, "no epubcheck: make browser installs it"
    return ["java", "-jar", found] if Path(found).resolve().suffix == ".jar" else [found]


@pytest.mark.parametrize("edition", EDITIONS)
def test_the_epub_is_valid_and_keeps_its_formulas_and_alt_texts(edition):
    epub = rendered(ROOT, edition, "epub")
    done = subprocess.run([*epubcheck(), str(epub)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "ERROR" not in done.stdout and "FATAL" not in done.stdout
    with zipfile.ZipFile(epub) as archive:
        pages = {name: archive.read(name).decode() for name in archive.namelist()
                 if name.endswith(".xhtml")}
    body = " ".join(pages.values())
    site = output_dir(ROOT, edition)  # every formula of the edition's website, as MathML
    assert body.count("<math") == sum(
        len(re.findall(r'<span class="math (?:inline|display)"', page.read_text()))
        for page in site.rglob("*.html") if "site_libs" not in page.parts)
    assert 'class="math' not in body  # a formula pandoc could not convert, left as TeX
    figures = {label for label in book_labels(ROOT) if label.startswith("fig-")}
    assert {label for label in figures if f'id="{label}"' not in body} == set()
    images = re.findall(r"<img\b[^>]*>", body)
    assert all(re.search(r'\balt="[^"]{10,}"', image) for image in images), [
        image for image in images if not re.search(r'\balt="[^"]{10,}"', image)][:3]


def test_the_zip_holds_every_part_of_the_release(tmp_path):
    assert ZIP.exists(), f"{ZIP} is missing: make release"
    names = set(zipfile.ZipFile(ZIP).namelist())
    expected = set(release_files(tmp_path, ROOT)) | {"README.md"}
    assert names == expected
    for edition in EDITIONS:
        assert {f"{edition}/isldl-{VERSION}.pdf", f"{edition}/isldl-{VERSION}.epub",
                f"site/{edition}/index.html", f"site/{edition}/mathjax/tex-chtml-full.js"
                } <= names
        handouts = {n for n in names if n.startswith(f"handouts/{edition}/")}
        assert len(handouts) == len(chapters(ROOT))
    readme = zipfile.ZipFile(ZIP).read("README.md").decode()
    assert f"version {VERSION}" in readme


def test_the_offline_site_typesets_its_formulas_with_the_network_blocked(tmp_path):
    with zipfile.ZipFile(ZIP) as archive:
        archive.extractall(tmp_path, [n for n in archive.namelist()
                                      if n.startswith("site/instructor/")])
    page_file = tmp_path / "site" / "instructor" / "chapters" / "08-fitting.html"
    with open_browser() as browser:
        context = browser.new_context()
        requested = []
        def no_network(route):
            if route.request.url.startswith("file://"):
                return route.continue_()
            requested.append(route.request.url)
            return route.abort()

        context.route("**/*", no_network)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri())
        maths = typeset(page)
    # nothing but the theme's web font (the system's sans-serif stands in for it)
    assert all(url.startswith("https://fonts.googleapis.com/") for url in requested), requested
    assert errors == []
    assert maths["formulas"] == page_file.read_text(encoding="utf-8").count('class="math ')
    assert maths["typeset"] == maths["formulas"] and maths["errors"] == []


def test_the_notebooks_of_the_student_site_are_those_its_links_name():
    links = json.loads((ROOT / "notebooks" / "links.json").read_text())
    site = output_dir(ROOT, "student")
    for stem, entry in links["chapters"].items():
        assert (site / entry["practice"]).exists(), stem
        page = (site / "chapters" / f"{stem}.html").read_text(encoding="utf-8")
        assert entry["colab_student"] in page and entry["colab"] not in page


def test_the_student_site_passes_the_browser_checks():
    """The checks of `test_browser.py` on every page of the student edition, both themes."""
    from chromium import serve
    from test_browser import THEMES, pages, site_problems, site_reports

    folder = output_dir(ROOT, "student")
    # every page the site has is one the checks open
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html")) == sorted(
        pages())
    with serve(folder) as site, open_browser() as browser:
        reports = site_reports(browser, site, ROOT / "build" / "screenshots" / "student")
    assert set(reports) == {(page, theme) for page in pages() for theme in THEMES}
    for kind, found in site_problems(reports).items():
        assert found == [], kind
