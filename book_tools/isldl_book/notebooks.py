"""Notebooks for readers: each chapter's executed and practice notebooks, and its Colab notebook.

    python -m isldl_book.notebooks colab      # notebooks/NN-topic.ipynb (committed) + links.json
    python -m isldl_book.notebooks downloads  # _book/notebooks/: executed and practice notebooks
    python -m isldl_book.notebooks practice   # practice/NN-topic.ipynb, exercises in place of code

The HTML book offers three links under each chapter's title (`filters/notebook-links.lua`
reads them from `notebooks/links.json`): the chapter's executed notebook and its practice
notebook, both written into `_book/notebooks/` by `make book`, and "Open in Colab", which opens
the committed `notebooks/<chapter>.ipynb` at the release's tag (never `main`, so the notebook,
the package and the pinned results always belong together).

The executed notebook is the one Quarto itself executed for the HTML page (`keep-ipynb: true`
leaves it beside the chapter as `<chapter>.quarto_ipynb`): no chapter runs a third time. The
chapters are read from `_quarto.yml`'s list, so a new chapter gets its notebooks and links
once `make notebooks` has run (a test fails until it has).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import nbformat

from isldl.data.files import atomic_write

from . import BOOK_ROOT
from .markdown import (
    OPTION_LINE,
    Solution,
    bibliography,
    book_labels,
    chapters,
    plain_markdown,
    split_solutions,
)
from .run import cell_options, qmd_to_notebook
from .structure import EDITIONS, book_files, output_dir, quarto_config

NOT_THE_BOOKS = "not the book's results"
"""What a page or notebook says when its numbers come from a fast run or stand-in data."""
STAND_IN = "random stand-in data"
"""What `isldl.load_or_stand_in` says when a chapter's data could not be had."""


# --------------------------------------------------------------------------------- links


def package_version(root: Path = BOOK_ROOT) -> str:
    """The version in pyproject.toml's [project] table."""
    text = (root / "pyproject.toml").read_text(encoding="utf-8")
    project = re.search(r"^\[project\]\s*$(.*?)(?=^\[|\Z)", text, flags=re.MULTILINE | re.DOTALL)[1]
    return re.search(r'^version\s*=\s*"([^"]+)"', project, flags=re.MULTILINE)[1]


def release_tag(root: Path = BOOK_ROOT) -> str:
    """The git tag of this version's release: `v<version>`."""
    return f"v{package_version(root)}"


def repo_url(root: Path = BOOK_ROOT) -> str:
    """The repository, as `_quarto.yml`'s `book: repo-url` names it."""
    return quarto_config(root)["book"]["repo-url"].rstrip("/")


def colab_path(qmd: Path, edition: str = "instructor") -> str:
    """The chapter's committed Colab notebook, in the repository: the student edition's has no
    worked solutions."""
    folder = "notebooks" if edition == "instructor" else f"notebooks/{edition}"
    return f"{folder}/{qmd.stem}.ipynb"


def colab_url(qmd: Path, root: Path = BOOK_ROOT, edition: str = "instructor") -> str:
    """Colab's address of the chapter's committed notebook at the release's tag."""
    owner_name = re.match(r"https://github\.com/([^/]+/[^/]+)$", repo_url(root))[1]
    return (f"https://colab.research.google.com/github/{owner_name}/blob/"
            f"{release_tag(root)}/{colab_path(qmd, edition)}")


def downloads(qmd: Path) -> dict[str, str]:
    """The chapter's two downloads, as paths inside the rendered book (_book/)."""
    return {"executed": f"notebooks/{qmd.stem}-executed.ipynb",
            "practice": f"notebooks/{qmd.stem}-practice.ipynb"}


def links(root: Path = BOOK_ROOT) -> dict:
    """What `notebooks/links.json` holds: the version, its tag, and each chapter's links."""
    return {"version": package_version(root), "tag": release_tag(root),
            "chapters": {qmd.stem: {**downloads(qmd), "colab": colab_url(qmd, root),
                                    "colab_student": colab_url(qmd, root, "student")}
                         for qmd in chapters(root)}}


# ------------------------------------------------------------------------------ notebooks


SOLUTION_PROMPT = "# Your turn: solve the exercise above.\n"


def without_solutions(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook with each worked solution replaced by an empty cell for the reader's."""
    result = nbformat.from_dict(notebook)
    result.cells = [nbformat.v4.new_code_cell(SOLUTION_PROMPT, metadata={"tags": ["practice"]})
                    if isinstance(item, Solution) else item
                    for item in split_solutions(notebook.cells)]
    return result



def practice_notebook(qmd: Path, root: Path = BOOK_ROOT) -> nbformat.NotebookNode:
    """The chapter as a reader's practice notebook: each `#| practice` cell replaced by its
    prompt and each exercise's worked solution by an empty cell for the reader's own, then the
    reader's cells (`reader_cells`: plain Markdown, no options, deterministic ids)."""
    notebook = without_solutions(qmd_to_notebook(qmd))
    for index, cell in enumerate(notebook.cells):
        prompt = cell.cell_type == "code" and cell_options(cell.source).get("practice")
        if prompt:
            notebook.cells[index] = nbformat.v4.new_code_cell(
                f"# Your turn: {prompt}", metadata={"tags": ["practice"]})
    return reader_cells(notebook, root)


def write_practice(root: Path = BOOK_ROOT, out: Path | None = None) -> list[Path]:
    """practice/<chapter>.ipynb for each chapter (`make practice`)."""
    written = []
    for qmd in chapters(root):
        target = (out or root / "practice") / f"{qmd.stem}.ipynb"
        notebook = practice_notebook(qmd, root)
        nbformat.validate(notebook)
        atomic_write(target, lambda tmp, nb=notebook: nbformat.write(nb, tmp))
        written.append(target)
    return written


def reader_cells(notebook: nbformat.NotebookNode, root: Path = BOOK_ROOT):
    """Markdown, and the Markdown that cells print (`isldl.callout`), as plain notebook
    Markdown (references numbered as in the book, citations written out, callouts as quoted
    notes), code without Quarto's `#|` options, deterministic cell ids; in place."""
    labels, citations = book_labels(root), bibliography(root)
    kept = []
    for cell in notebook.cells:
        if "injected-parameters" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "markdown":
            cell.source = plain_markdown(cell.source, labels, citations)
        elif cell.cell_type == "code":
            cell.source = OPTION_LINE.sub("", cell.source).strip()
            for output in cell.get("outputs", []):
                if "text/markdown" in output.get("data", {}):
                    data = output["data"]
                    data["text/markdown"] = plain_markdown(data["text/markdown"], labels,
                                                           citations)
        kept.append(cell)
    notebook.cells = kept
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"
    return notebook


REPO_ENV = "ISLDL_REPO"
"""Where the Colab set-up cell clones the book from, if not the book's repository (a test's
local clone)."""


def colab_setup(root: Path = BOOK_ROOT) -> str:
    """The first code cell of a Colab notebook: the repository at the release's tag (its
    pinned results beside the chapters), and the isldl package installed from it with the
    dependencies that the runtime lacks; a torch already installed within isldl's range
    (Colab's) is kept."""
    tag, url = release_tag(root), repo_url(root)
    return f'''\
# Colab set-up: the book's repository at release {tag} (its pinned results), and the isldl
# package installed from it, with those of its dependencies that the runtime lacks (Colab's
# torch is kept). The large data sets are downloaded from their official sources when a
# chapter first loads them.
import os
import subprocess
import sys

BOOK = os.path.expanduser("~/isldl-{tag}")
if not os.path.isdir(BOOK):
    repo = os.environ.get("{REPO_ENV}", "{url}")
    subprocess.run(["git", "clone", "--quiet", "--depth", "1", "--branch", "{tag}",
                    repo, BOOK], check=True)
    # the same as: pip install "isldl @ git+{url}@{tag}"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", BOOK], check=True)
# each chapter runs in its folder, as in the book; isldl finds the pins from there
os.chdir(os.path.join(BOOK, "chapters"))'''


def colab_notebook(qmd: Path, root: Path = BOOK_ROOT,
                   edition: str = "instructor") -> nbformat.NotebookNode:
    """The chapter as a Colab notebook: its title, a set-up cell, then the chapter (in the
    student edition, an empty cell in place of each worked solution)."""
    notebook = qmd_to_notebook(qmd)
    if edition == "student":
        notebook = without_solutions(notebook)
    title, rest = notebook.cells[0], notebook.cells[1:]
    intro = nbformat.v4.new_markdown_cell(
        f"This notebook is a chapter of *Deep Learning with ISLR2, in Python* ({repo_url(root)}),"
        f" release {release_tag(root)}. Run the set-up cell first; a GPU is used when the "
        "runtime has one, but every model of the book also trains on a CPU. The parameter "
        "`mode` below is `\"load\"`: the expensive fits are loaded from the pinned results "
        "(`\"fast\"` trains small versions, `\"retrain\"` the full ones).")
    notebook.cells = [title, intro, nbformat.v4.new_code_cell(colab_setup(root)), *rest]
    reader_cells(notebook, root)
    notebook.metadata = {
        "colab": {"name": Path(colab_path(qmd, edition)).name, "provenance": []},
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    nbformat.validate(notebook)
    return notebook


def colab_files(root: Path = BOOK_ROOT) -> dict[str, str]:
    """{path under notebooks/: text} of everything `make notebooks` writes."""
    files = {str(Path(colab_path(qmd, edition)).relative_to("notebooks")):
             nbformat.writes(colab_notebook(qmd, root, edition)) + "\n"
             for qmd in chapters(root) for edition in EDITIONS}
    files["links.json"] = json.dumps(links(root), indent=2) + "\n"
    return files


def write_colab(root: Path = BOOK_ROOT) -> list[Path]:
    """Write notebooks/ afresh: one notebook per chapter and links.json; remove the
    notebook of a chapter that is no longer listed."""
    out = root / "notebooks"
    files = colab_files(root)
    for stale in {str(p.relative_to(out)) for p in out.glob("**/*.ipynb")} - set(files):
        (out / stale).unlink()
    written = []
    for name, text in files.items():
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        atomic_write(out / name, lambda tmp, text=text: tmp.write_text(text, encoding="utf-8"))
        written.append(out / name)
    return written


def executed_notebook(kept: Path, root: Path = BOOK_ROOT) -> nbformat.NotebookNode:
    """The notebook Quarto executed for a chapter's page, made readable like the others,
    without the machine's kernel path. A chapter whose data could not be had ran on stand-in
    data, and its notebook says so at its top, as its page does (the page's link to it must
    lead somewhere; the publishing workflow refuses such pages). One from a fast render is
    refused: it would reach the published book."""
    notebook = nbformat.read(kept, as_version=4)
    outputs = json.dumps([c.get("outputs", []) for c in notebook.cells])
    if NOT_THE_BOOKS in outputs and STAND_IN not in outputs:
        raise ValueError(f"{kept.name} says its numbers are {NOT_THE_BOOKS}: render the book "
                         "in its default mode (make book)")
    reader_cells(notebook, root)
    notebook.metadata.get("kernelspec", {}).pop("path", None)
    return notebook


def write_downloads(root: Path = BOOK_ROOT, editions=("instructor",)) -> list[Path]:
    """<edition's output>/notebooks/: each chapter's executed notebook (from the
    `.quarto_ipynb` that the HTML render kept, which is then removed, as are those of the
    other pages; in the student edition without its worked solutions) and its practice
    notebook, for each of `editions`."""
    missing = [qmd for qmd in chapters(root) if not qmd.with_suffix(".quarto_ipynb").exists()]
    if missing:
        raise FileNotFoundError(
            "no executed notebook kept for " + ", ".join(q.name for q in missing) +
            ": render the HTML book first (quarto render --to html, with keep-ipynb: true)")
    written = []
    for qmd in chapters(root):
        executed = executed_notebook(qmd.with_suffix(".quarto_ipynb"), root)
        practice = practice_notebook(qmd, root)
        for edition in editions:
            out = output_dir(root, edition) / "notebooks"
            out.mkdir(parents=True, exist_ok=True)
            shown = without_solutions(executed) if edition == "student" else executed
            for kind, notebook in (("executed", shown), ("practice", practice)):
                target = out / Path(downloads(qmd)[kind]).name
                nbformat.validate(notebook)
                atomic_write(target, lambda tmp, nb=notebook: nbformat.write(nb, tmp))
                written.append(target)
    for page in book_files(root):  # the chapters' and the other pages' (errata, appendices)
        page.with_suffix(".quarto_ipynb").unlink(missing_ok=True)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl_book.notebooks",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("kind", choices=["colab", "downloads", "practice"])
    parser.add_argument("--editions", nargs="+", choices=EDITIONS, default=["instructor"],
                        help="downloads: the editions whose notebooks to write")
    args = parser.parse_args(argv)
    write = {"colab": write_colab, "practice": write_practice,
             "downloads": lambda: write_downloads(editions=args.editions)}
    try:
        paths = write[args.kind]()
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for path in paths:
        print(path.relative_to(BOOK_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
