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
