"""The book's own folders: the repository that holds the chapters, its data and its results."""

import os
from pathlib import Path

BOOK_ROOT = Path(__file__).resolve().parents[2]
"""The repository root (isldl is installed in editable mode from its `code/` folder)."""

BOOK_DATA = BOOK_ROOT / "data"
"""Small data files shipped with the book: Hitters, NYSE and the source's R splits."""

BOOK_IMAGES = BOOK_ROOT / "book_images"
RESULTS = BOOK_ROOT / "results"
"""Pinned results, committed: one folder per expensive fit."""

RESULTS_ENV = "ISLDL_RESULTS"


def results_root() -> Path:
    """Where pinned results are read and written: `$ISLDL_RESULTS` (a test's own folder),
    else the book's committed `results/`."""
    return Path(os.environ.get(RESULTS_ENV) or RESULTS)

METRICS_ENV = "ISLDL_METRICS"
"""The environment variable by which `isldl.run` names the metrics file of the chapter it runs."""
