"""The reader's package apart from the book's tooling: what its wheel holds, what importing it
loads, and that it finds its data without a checkout of the book."""

import subprocess
import sys
import zipfile

import pytest

PACKAGE_DATA = {"isldl/source.yaml", "isldl/fast.yaml", "isldl/histories.yaml",
                "isldl/islp.yaml", "isldl/data/csv/Hitters.csv", "isldl/data/csv/NYSE.csv",
                "isldl/data/csv/hitters_testid.csv", "isldl/data/csv/hitters_cv_foldid.csv",
                "isldl/data/csv/imdb_ival.csv"}


@pytest.fixture(scope="module")
def wheel(root, tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(out), str(root)], check=True)
    [path] = out.glob("isldl-*.whl")
    return path


def test_the_wheel_holds_the_package_and_its_data_and_no_tooling(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    assert PACKAGE_DATA <= names
    assert not any(name.startswith("isldl_book") for name in names)
    requires = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("METADATA"))).decode()
    # the tooling's dependencies are an extra, not a reader's
    for tool in ("papermill", "nbformat", "ipykernel"):
        assert f"Requires-Dist: {tool}" in requires and 'extra == "tools"' in requires


def test_the_books_tooling_declares_what_it_needs():
    """`pip install -e book_tools` beside isldl brings papermill and the rest: isldl's extra
    `tools` is the tooling's dependency."""
    from importlib import metadata

    assert metadata.requires("isldl-book") == ["isldl[tools]"]


def test_importing_isldl_loads_none_of_the_books_tooling(tmp_path):
    script = ("import sys, isldl; "
              "print(sorted({m.split('.')[0] for m in sys.modules} "
              "& {'isldl_book', 'papermill', 'nbformat', 'nbclient'}))")
    shown = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, check=True,
                           capture_output=True, text=True).stdout.strip()
    assert shown == "[]"


def test_outside_a_checkout_a_pin_says_where_pins_live(monkeypatch, tmp_path):
    """Installed from its wheel (no checkout beside it) and run outside a clone, isldl still
    loads its tables; what needs the book's results/ is a clear error naming the fix."""
    from isldl import data, paths

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(paths.RESULTS_ENV, raising=False)
    monkeypatch.setattr(paths, "__file__", str(tmp_path / "site" / "isldl" / "paths.py"))
    assert data.load_hitters().shape == (263, 20)
    with pytest.raises(paths.NoBookError, match=r"no checkout of the book's repository holds "
                                                r".*set ISLDL_RESULTS"):
        paths.results_root()
    monkeypatch.setenv(paths.RESULTS_ENV, str(tmp_path / "pins"))
    assert paths.results_root() == tmp_path / "pins"
