"""The book's own folders: the repository that holds the chapters, its data and its results."""

from pathlib import Path

BOOK_ROOT = Path(__file__).resolve().parents[2]
"""The repository root (isldl is installed in editable mode from its `code/` folder)."""

BOOK_DATA = BOOK_ROOT / "data"
"""Small data files shipped with the book: Hitters, NYSE and the source's R splits."""

BOOK_IMAGES = BOOK_ROOT / "book_images"
RESULTS = BOOK_ROOT / "results"
"""Pinned results, committed: one folder per expensive fit."""

METRICS_ENV = "ISLDL_METRICS"
"""The environment variable by which `isldl.run` names the metrics file of the chapter it runs."""
