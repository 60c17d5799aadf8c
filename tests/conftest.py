import os
import shutil
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]


TEX_TOOLS = ("xelatex", "pandoc", "pdftotext", "kpsewhich")
"""What the tests marked `tex` need: XeLaTeX (with kpsewhich to find its packages), pandoc and
poppler's pdftotext, which `make tex` installs where there is apt-get."""


def missing_tex_tools() -> list[str]:
    return [tool for tool in TEX_TOOLS if shutil.which(tool) is None]


def pytest_collection_modifyitems(items):
    """The tests that load the pinned fits (those that use `pinned_runs`) are marked `pinned`:
    `make test-simulated` runs them again as other processors compute. Those that run whole
    chapters are marked `slow`, as are whole modules that build environments or run notebooks:
    `make test-quick` leaves them out. The tests marked `tex`
    are skipped where the PDF's tools are missing (macOS without MacTeX), and the run says so
    at its end."""
    missing = missing_tex_tools()
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "pinned_runs" in fixtures:
            item.add_marker(pytest.mark.pinned)
        if fixtures & {"pinned_runs", "fast_runs"}:
            item.add_marker(pytest.mark.slow)  # runs whole chapters
        if missing and item.get_closest_marker("tex"):
            item.add_marker(pytest.mark.skip(reason=f"needs {', '.join(missing)}"))


def pytest_terminal_summary(terminalreporter):
    missing = missing_tex_tools()
    skipped = [report for report in terminalreporter.stats.get("skipped", [])
               if "tex" in getattr(report, "keywords", {})]
    if missing and skipped:
        terminalreporter.write_line(
            f"notice: {len(skipped)} test(s) marked tex skipped: {', '.join(missing)} not "
            f"found (make tex installs them with apt-get; elsewhere see CONTRIBUTING.md)")


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
    from chapter_values import run_for_tests
    from isldl_book.markdown import chapters

    out = tmp_path_factory.mktemp("pinned-runs")
    return {qmd.stem: (run_for_tests(qmd, {}, out), out / f"{qmd.stem}.ipynb")
            for qmd in chapters()}


def results_hashes() -> dict:
    """SHA-256 of every file under results/ (the pinned fits), to check that a run wrote
    nothing there."""
    import hashlib

    return {p: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((ROOT / "results").rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def fast_runs(tmp_path_factory):
    """`fast_runs(name)`: the metrics of the chapter run in fast mode, run at most once per
    session (the chapters' tests and the exercises' tests share it). Each run is checked to
    have written nothing into the pinned results."""
    from chapter_values import run_for_tests

    out, done = tmp_path_factory.mktemp("fast-runs"), {}

    def run(name):
        if name not in done:
            before = results_hashes()
            done[name] = run_for_tests(ROOT / "chapters" / f"{name}.qmd", {"mode": "fast"},
                                       out)
            assert results_hashes() == before, f"{name} wrote into results/ in fast mode"
        return done[name]

    return run


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
