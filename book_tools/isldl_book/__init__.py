"""isldl_book: the tooling that builds and tests the book (not a reader's library).

`run` executes a chapter without Quarto; `notebooks` writes the notebooks a reader downloads
or opens in Colab, with `markdown` to make their Markdown plain; `handouts` cuts the book's PDF
into one handout per chapter; `session` and `errata` fill the two appendices; `structure`
checks the book's sources; `train_missing` is `make pins`; `links` is the weekly link check;
`source_histories` reads the source's printed histories into isldl's registry; `pin_changes`
records what a retraining changed.
"""

from pathlib import Path

BOOK_ROOT = Path(__file__).resolve().parents[2]
"""The checkout that holds the book (the tooling is installed in editable mode from it)."""
