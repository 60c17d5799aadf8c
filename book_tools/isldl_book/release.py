"""A release for a course: one zip with both editions, their handouts, the notebooks, and the
website to read offline.

    python -m isldl_book.release [--out build/release]

The last step of `make release`, after both editions, their notebooks and their handouts are
built; writes build/release/isldl-<version>.zip (pyproject.toml's version):

    README.md                          what is inside, the version, how to cite
    instructor/isldl-<version>.pdf     the instructor edition, with the worked solutions
    instructor/isldl-<version>.epub
    student/isldl-<version>.pdf        the student edition: every exercise, no solution
    student/isldl-<version>.epub
    handouts/<edition>/NN-<topic>.pdf  one handout per chapter, from each edition
    notebooks/<edition>/…              each chapter executed (the student's without its
                                       solutions) and as a practice notebook
    site/<edition>/index.html          each edition's website, to read offline: MathJax from
                                       a copy in the site, not from the CDN

The site's pages name MathJax's CDN address; here each page names the copy in `site/mathjax/`
instead (the files of npm's `mathjax`, which `make browser` installs), and the ES6 polyfill
that Quarto loads from another CDN for old browsers is left out.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from isldl.data.files import atomic_write

from . import BOOK_ROOT
from .notebooks import NOT_THE_BOOKS, package_version, release_tag, repo_url
from .structure import EDITIONS, output_dir, quarto_config, rendered

MATHJAX_CDN = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/"
MATHJAX_NPM = BOOK_ROOT / "book_checks" / "npm" / "node_modules" / "mathjax" / "es5"
# What the pages' MathJax loads: the component, its fonts, and what its menu loads on demand.
MATHJAX_FILES = ("tex-chtml-full.js", "output/chtml/fonts/woff-v2", "a11y", "sre", "ui")
_POLYFILL = re.compile(r'<script src="https://cdnjs\.cloudflare\.com/polyfill/[^"]*"></script>\n?')


def offline_page(html: str, mathjax: str) -> str:
    """A page that loads MathJax from `mathjax` (the copy's folder, relative to the page)
    and no polyfill from a CDN."""
    return _POLYFILL.sub("", html).replace(MATHJAX_CDN, mathjax.rstrip("/") + "/")


def offline_site(site: Path, to: Path, mathjax: Path = MATHJAX_NPM) -> None:
    """A copy of the rendered `site` in `to`, with its own MathJax in `to/mathjax`, that a
    browser shows without a network."""
    if not (mathjax / "tex-chtml-full.js").exists():
        raise FileNotFoundError(f"{mathjax} has no MathJax: install it first (make browser)")
    shutil.copytree(site, to)
    for part in MATHJAX_FILES:
        source, target = mathjax / part, to / "mathjax" / part
        if source.is_dir():
            shutil.copytree(source, target)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    for page in to.rglob("*.html"):
        relative = Path(os.path.relpath(to / "mathjax", page.parent)).as_posix()
        page.write_text(offline_page(page.read_text(encoding="utf-8"), relative),
                        encoding="utf-8")


def readme(root: Path = BOOK_ROOT) -> str:
    """The zip's README: what it is, what is inside, and how to cite it."""
    version, title = package_version(root), quarto_config(root)["book"]["title"]
    return f"""# {title}, version {version}

A release of the book for a course: {repo_url(root)}/releases/tag/{release_tag(root)}
(read online at {quarto_config(root)["citation"]["url"]}).

- `instructor/`: the instructor edition, PDF and EPUB, every exercise with its worked
  solution;
- `student/`: the student edition, PDF and EPUB, every exercise, numbered alike, no solution;
- `handouts/instructor/`, `handouts/student/`: one PDF per chapter, cut from each edition;
- `notebooks/instructor/`, `notebooks/student/`: each chapter executed (the student's without
  its solutions) and as a practice notebook;
- `site/instructor/`, `site/student/`: each edition's website; open `index.html` in a
  browser, no network needed (the search box needs the site served: run
  `python -m http.server` in that folder).

To cite this version, see `CITATION.cff` in the repository at {release_tag(root)}, or the DOI
that Zenodo minted for the release. Text and figures: CC BY-NC-SA 4.0; code: MIT.
"""


def release_files(scratch: Path, root: Path = BOOK_ROOT,
                  mathjax: Path = MATHJAX_NPM) -> dict[str, Path]:
    """{path inside the zip: file on disk} of everything the release holds; the offline
    sites are written into `scratch`. A FileNotFoundError names what was not built."""
    version = package_version(root)
    files = {}
    for edition in EDITIONS:
        site = output_dir(root, edition)
        for kind in quarto_config(root)["book"]["downloads"]:
            files[f"{edition}/isldl-{version}.{kind}"] = rendered(root, edition, kind)
        handouts = sorted((root / "handouts" / edition).glob("*.pdf"))
        notebooks = sorted((site / "notebooks").glob("*.ipynb"))
        if not handouts or not notebooks:
            raise FileNotFoundError(f"the {edition} edition's handouts or notebooks are "
                                    "missing: build them first (make release)")
        files |= {f"handouts/{edition}/{path.name}": path for path in handouts}
        files |= {f"notebooks/{edition}/{path.name}": path for path in notebooks}
        offline_site(site, scratch / edition, mathjax)
        files |= {f"site/{edition}/{path.relative_to(scratch / edition).as_posix()}": path
                  for path in sorted((scratch / edition).rglob("*")) if path.is_file()}
    return files


def release_zip(root: Path = BOOK_ROOT, out: Path | None = None) -> Path:
    """Where the release's zip is written: `out`, else build/release/, as isldl-<version>.zip."""
    return (out or root / "build" / "release") / f"isldl-{package_version(root)}.zip"


def pages_not_the_books(site: Path) -> list[Path]:
    """The pages of a rendered site that say their numbers are not the book's (a fast run, or
    stand-in data where a data set could not be had)."""
    return sorted(page for page in site.rglob("*.html")
                  if NOT_THE_BOOKS in page.read_text(encoding="utf-8"))


def write_release(root: Path = BOOK_ROOT, out: Path | None = None,
                  mathjax: Path = MATHJAX_NPM, book_results_only: bool = False) -> Path:
    """build/release/isldl-<version>.zip (`release_zip`), whole or not at all; with
    `book_results_only`, a ValueError instead if a page's numbers are not the book's."""
    if book_results_only:
        found = [page for edition in EDITIONS
                 for page in pages_not_the_books(output_dir(root, edition))]
        if found:
            raise ValueError("these pages were rendered from a fast run or stand-in data, not "
                             f"the book's results: {', '.join(map(str, found))}")
    target = release_zip(root, out)
    with tempfile.TemporaryDirectory() as scratch:
        files = release_files(Path(scratch), root, mathjax)

        def write(tmp: Path) -> None:
            with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.writestr("README.md", readme(root))
                for name, path in files.items():
                    archive.write(path, name)

        atomic_write(target, write)
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl_book.release",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, help="the zip's folder (default: build/release)")
    parser.add_argument("--book-results-only", action="store_true",
                        help="refuse a page from a fast run or stand-in data (what a published "
                             "release must not hold)")
    args = parser.parse_args(argv)
    try:
        target = write_release(out=args.out, book_results_only=args.book_results_only)
    except (FileNotFoundError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    size = target.stat().st_size / 2**20
    print(f"{target.relative_to(BOOK_ROOT) if target.is_relative_to(BOOK_ROOT) else target}: "
          f"{size:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
