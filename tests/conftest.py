import os
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture(autouse=True, scope="session")
def derived_cache(tmp_path_factory):
    """Derived files (the tokenised IMDb) go to a cache of the test session, unless set."""
    if not os.environ.get("ISLDL_CACHE"):
        os.environ["ISLDL_CACHE"] = str(tmp_path_factory.mktemp("isldl-derived"))


@pytest.fixture(scope="session")
def pinned_runs(tmp_path_factory):
    """Each chapter run once with its pinned results: {name: (metrics, executed notebook)},
    or {name: ChapterError} for a chapter that cannot run here (its data is missing)."""
    from isldl.handouts import chapters
    from isldl.run import ChapterError, run_chapter

    out, runs = tmp_path_factory.mktemp("pinned-runs"), {}
    for qmd in chapters():
        try:
            runs[qmd.stem] = (run_chapter(qmd, {}, out), out / f"{qmd.stem}.ipynb")
        except ChapterError as err:
            runs[qmd.stem] = err
    return runs
