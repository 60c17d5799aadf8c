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
    """Each chapter run once in its default mode (load the pinned results), as a render runs
    it: {name: (metrics, executed notebook)}. A chapter whose data cannot be had here runs on
    stand-in data and says so in its metrics."""
    from isldl.handouts import chapters
    from isldl.run import run_chapter

    out = tmp_path_factory.mktemp("pinned-runs")
    return {qmd.stem: (run_chapter(qmd, {}, out), out / f"{qmd.stem}.ipynb")
            for qmd in chapters()}


@pytest.fixture
def spy_model():
    """A factory of one-weight models that call `watch(model, x)` on every batch they see, to
    observe what `fit` does from inside the network."""
    from torch import nn

    class Spy(nn.Module):
        def __init__(self, watch):
            super().__init__()
            self.linear, self.watch = nn.Linear(1, 1), watch

        def forward(self, x):
            self.watch(self, x)
            return self.linear(x)

    return Spy
