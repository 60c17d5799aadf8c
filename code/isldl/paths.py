"""Where the book's own files are: the checkout of its repository, which holds the pinned
results (`results/`) and the saved benchmarks beside the chapters.

The package itself needs no checkout (its small data sets ship inside it); a pinned result
does. A chapter runs in its folder of a checkout (under Quarto, the chapter runner, or the
Colab set-up cell), so the book is found from the working folder up; an editable install
also finds the checkout it was installed from.
"""

from __future__ import annotations

import os
from pathlib import Path

RESULTS_ENV = "ISLDL_RESULTS"
_MARKER = "_quarto.yml"  # the book's project file, at the root of its repository


class NoBookError(RuntimeError):
    """No checkout of the book's repository is found: no pinned results can be read."""


def _is_book(folder: Path) -> bool:
    return (folder / _MARKER).exists() and (folder / "chapters").is_dir()


def installed_checkout() -> Path | None:
    """The checkout this package was installed from in editable mode (its `code/isldl`, as
    `make` installs it), or None for a package installed from a wheel (pip, Colab)."""
    folder = Path(__file__).resolve().parents[2]
    return folder if _is_book(folder) else None


def book_root() -> Path:
    """The checkout of the book's repository that holds the working folder, else the one
    this package was installed from in editable mode (`code/isldl`)."""
    here = Path.cwd().resolve()
    for folder in (here, *here.parents):
        if _is_book(folder):
            return folder
    if installed_checkout():
        return installed_checkout()
    raise NoBookError(
        f"no checkout of the book's repository holds {here}: the pinned results live in its "
        f"results/ folder. Run the chapter inside a clone (git clone "
        f"https://github.com/isldl/isldl), or set {RESULTS_ENV} to a folder of results.")


def results_root() -> Path:
    """Where pinned results are read and written: `$ISLDL_RESULTS` (a test's own folder),
    else the book's committed `results/`."""
    return Path(os.environ.get(RESULTS_ENV) or book_root() / "results")


def relative(path: Path) -> str:
    """A path as the book names it: from the book's root where it lies inside it."""
    try:
        root = book_root()
    except NoBookError:
        return path.as_posix()
    return (path.relative_to(root) if path.is_relative_to(root) else path).as_posix()


def book_images() -> Path:
    """The photographs that chapter 4 classifies, in the book's checkout."""
    return book_root() / "book_images"
