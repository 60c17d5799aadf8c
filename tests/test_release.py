"""A release for a course (`make release`, `isldl_book.release`): one version everywhere, the
citation files valid, the zip's parts and its offline website. The built release itself is
checked by `book_checks/test_release.py` (`make check-release`)."""

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from isldl_book import release
from isldl_book.notebooks import NOT_THE_BOOKS, package_version
from isldl_book.structure import EDITIONS, output_dir, quarto_config


def test_every_place_that_names_the_version_names_the_same_one(root):
    version = package_version(root)
    tag = f"v{version}"
    assert str(yaml.safe_load((root / "CITATION.cff").read_text())["version"]) == version
    config = quarto_config(root)
    assert str(config["citation"]["version"]) == version
    footer = config["book"]["page-footer"]["right"]
    assert footer == f"[Version {version}]({config['book']['repo-url']}/releases/tag/{tag})"
    assert json.loads((root / ".zenodo.json").read_text())["version"] == version
    links = json.loads((root / "notebooks" / "links.json").read_text())
    assert (links["version"], links["tag"]) == (version, tag)
    colab = [url for chapter in links["chapters"].values()
             for url in (chapter["colab"], chapter["colab_student"])]
    assert colab and all(f"/blob/{tag}/notebooks/" in url for url in colab)
    for notebook in (root / "notebooks").rglob("*.ipynb"):  # the set-up cell's tag
        tags = set(re.findall(r"\bv\d+\.\d+\.\d+\b", notebook.read_text()))
        assert tags == {tag}, (notebook.name, tags)


def test_the_zenodo_metadata_agree_with_the_citation(root):
    zenodo = json.loads((root / ".zenodo.json").read_text())
    cff = yaml.safe_load((root / "CITATION.cff").read_text())
    assert zenodo["title"] == cff["title"]
    assert [c["name"] for c in zenodo["creators"]] == [a["name"] for a in cff["authors"]]
    assert zenodo["upload_type"] == "publication" and zenodo["publication_type"] == "book"
    assert zenodo["license"] == "cc-by-nc-sa-4.0" and "CC-BY-NC-SA-4.0" in cff["license"]
    assert "Zenodo" in (root / "README.md").read_text()  # how a DOI is minted


@pytest.mark.slow
def test_cffconvert_validates_the_citation_file(root, tmp_path):
    """cffconvert in its own environment: it pins a jsonschema older than the test extra's."""
    venv = tmp_path / "cffconvert"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([venv / "bin" / "python", "-m", "pip", "install", "--quiet",
                    "cffconvert>=2"], check=True)
    done = subprocess.run([venv / "bin" / "cffconvert", "--validate", "-i",
                           str(root / "CITATION.cff")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "valid" in done.stdout


def test_the_student_profile_renders_elsewhere_and_leaves_the_solutions_out(root):
    assert output_dir(root, "instructor") == root / "_book"
    assert output_dir(root, "student") == root / "_book-student"
    student = yaml.safe_load((root / "_quarto-student.yml").read_text())
    assert student["edition"] == "student"
    # what shows a page's whole source, solutions included, is the instructor's alone (a
    # profile's settings add to _quarto.yml's, so neither may hold them)
    instructor = yaml.safe_load((root / "_quarto-instructor.yml").read_text())
    assert quarto_config(root)["profile"]["default"] == "instructor"
    assert instructor["format"]["html"]["code-tools"] is True
    assert "source" in instructor["book"]["repo-actions"]
    for shared in (quarto_config(root), student):
        assert "code-tools" not in shared.get("format", {}).get("html", {})
    assert "repo-actions" not in quarto_config(root)["book"]
    assert student["book"]["repo-actions"] == ["issue"]
    lua = (root / "filters" / "solutions.lua").read_text()
    assert 'pandoc.utils.stringify(meta.edition) == "student"' in lua
    with pytest.raises(ValueError, match="edition must be one of instructor, student"):
        output_dir(root, "teacher")


def test_a_page_made_to_read_offline_loads_mathjax_from_its_copy():
    page = ('<script src="https://cdnjs.cloudflare.com/polyfill/v3/polyfill.min.js?'
            'features=es6"></script>\n<script src="https://cdn.jsdelivr.net/npm/mathjax@3/es5/'
            'tex-chtml-full.js" type="text/javascript"></script>')
    offline = release.offline_page(page, "../mathjax")
    assert offline == '<script src="../mathjax/tex-chtml-full.js" type="text/javascript"></script>'


def fake_release_parts(root: Path, mathjax: Path) -> None:
    """What `make release` builds before the zip, as empty stand-ins."""
    (root / "pyproject.toml").write_text('[project]\nname = "isldl"\nversion = "9.8.7"\n')
    (root / "_quarto.yml").write_text(
        "project:\n  output-dir: _book\nbook:\n  title: A book\n  downloads: [pdf, epub]\n"
        "  repo-url: https://github.com/o/r\ncitation:\n  url: https://o.github.io/r/\n")
    (root / "_quarto-student.yml").write_text("project:\n  output-dir: _book-student\n")
    for edition in EDITIONS:
        site = output_dir(root, edition)
        (site / "chapters").mkdir(parents=True)
        (site / "chapters" / "01-a.html").write_text(
            f'<script src="{release.MATHJAX_CDN}tex-chtml-full.js"></script>')
        (site / "A-book.pdf").write_text("pdf")
        (site / "A-book.epub").write_text("epub")
        (site / "notebooks").mkdir()
        (site / "notebooks" / "01-a-practice.ipynb").write_text("{}")
        (root / "handouts" / edition).mkdir(parents=True)
        (root / "handouts" / edition / "01-a.pdf").write_text("pdf")
    for part in release.MATHJAX_FILES:  # the component a file, the rest folders
        if part.endswith(".js"):
            (mathjax / part).write_text("js")
        else:
            (mathjax / part).mkdir(parents=True)


def test_the_release_zip_holds_both_editions_handouts_notebooks_and_offline_sites(tmp_path):
    root, mathjax = tmp_path / "book", tmp_path / "mathjax"
    root.mkdir()
    mathjax.mkdir()
    fake_release_parts(root, mathjax)
    target = release.write_release(root, tmp_path / "out", mathjax)
    assert target.name == "isldl-9.8.7.zip"
    names = set(zipfile.ZipFile(target).namelist())
    for edition in EDITIONS:
        assert {f"{edition}/isldl-9.8.7.pdf", f"{edition}/isldl-9.8.7.epub",
                f"handouts/{edition}/01-a.pdf", f"notebooks/{edition}/01-a-practice.ipynb",
                f"site/{edition}/chapters/01-a.html",
                f"site/{edition}/mathjax/tex-chtml-full.js"} <= names
    readme = zipfile.ZipFile(target).read("README.md").decode()
    assert "version 9.8.7" in readme and "releases/tag/v9.8.7" in readme
    page = zipfile.ZipFile(target).read("site/student/chapters/01-a.html").decode()
    assert page == '<script src="../mathjax/tex-chtml-full.js"></script>'


def test_a_release_whose_parts_are_missing_names_them_and_writes_nothing(tmp_path):
    root, mathjax = tmp_path / "book", tmp_path / "mathjax"
    root.mkdir()
    mathjax.mkdir()
    fake_release_parts(root, mathjax)
    (root / "_book-student" / "A-book.epub").unlink()
    with pytest.raises(FileNotFoundError, match=r"_book-student/ has no EPUB of the student "
                                                r"edition: render it first \(make student\)"):
        release.write_release(root, tmp_path / "out", mathjax)
    assert not (tmp_path / "out").exists()  # nothing written, not even a partial zip
    with pytest.raises(FileNotFoundError, match="install it first \\(make browser\\)"):
        release.offline_site(root / "_book", tmp_path / "site", tmp_path / "no-mathjax")


def test_a_published_release_refuses_a_page_that_is_not_the_books_results(tmp_path):
    root, mathjax = tmp_path / "book", tmp_path / "mathjax"
    root.mkdir()
    mathjax.mkdir()
    fake_release_parts(root, mathjax)
    page = root / "_book-student" / "chapters" / "01-a.html"
    page.write_text(f"Stand-in data: {NOT_THE_BOOKS}.")
    with pytest.raises(ValueError, match=f"not the book's results: {page}"):
        release.write_release(root, tmp_path / "out", mathjax, book_results_only=True)
    assert not (tmp_path / "out").exists()
    assert release.write_release(root, tmp_path / "out", mathjax).exists()  # a course's own


def test_a_pushed_version_tag_builds_checks_and_publishes_the_release(root):
    workflow = yaml.safe_load((root / ".github" / "workflows" / "release.yml").read_text())
    assert workflow[True]["push"]["tags"] == ["v*"]  # YAML 1.1 reads `on` as True
    steps = " ".join(step.get("run", "") for step in workflow["jobs"]["release"]["steps"])
    assert "make release RELEASE_ARGS=--book-results-only" in steps  # no stand-in page
    assert "make check-release" in steps
    assert "gh release create" in steps and "build/release/isldl-*.zip" in steps
