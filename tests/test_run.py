"""The chapter runner: .qmd → notebook, parameters, metrics, failures named."""

import json
import os

import nbformat
import pytest

from isldl_book.run import (
    ChapterError,
    check_parameters,
    main,
    parameters_of,
    qmd_to_notebook,
    run_chapter,
)

pytestmark = pytest.mark.slow  # see conftest.py


@pytest.fixture
def chapter(root):
    return root / "tests" / "fixtures" / "chapter.qmd"


def test_qmd_becomes_markdown_and_code_cells(chapter):
    notebook = qmd_to_notebook(chapter)
    kinds = [c.cell_type for c in notebook.cells]
    assert kinds == ["markdown", "code", "code", "code", "code"]
    assert notebook.cells[1].metadata["tags"] == ["parameters"]
    assert notebook.cells[2].source.startswith("#| label: fit-tiny")
    assert notebook.metadata["isldl"]["front_matter"]["title"] == "A fixture chapter"
    assert "---" not in notebook.cells[0].source


def test_parameters_are_read_from_the_parameters_cell(chapter):
    assert parameters_of(qmd_to_notebook(chapter)) == {"epochs": 3, "scale": 1.0, "fail": False}


def test_unknown_or_ill_typed_parameters_are_rejected():
    defaults = {"epochs": 3, "scale": 1.0, "fast": False}
    check_parameters({"epochs": 5, "scale": 2, "fast": True}, defaults, "c.qmd")
    with pytest.raises(ChapterError, match="no parameter 'epoch'.*epochs"):
        check_parameters({"epoch": 5}, defaults, "c.qmd")
    with pytest.raises(ChapterError, match="'epochs' takes a int"):
        check_parameters({"epochs": "many"}, defaults, "c.qmd")
    with pytest.raises(ChapterError, match="'fast' takes a bool"):
        check_parameters({"fast": 1}, defaults, "c.qmd")


VALUES = {"epochs": "len(history)", "scale": "scale", "final_loss": "history['loss'].iloc[-1]"}


def test_a_chapter_runs_with_injected_parameters(chapter, tmp_path):
    metrics = run_chapter(chapter, {"epochs": 2, "scale": 3.0}, tmp_path, values=VALUES)
    assert metrics["epochs"] == 2 and metrics["scale"] == 3.0
    assert metrics["mode"] == "load"  # recorded by isldl.start_chapter
    assert (tmp_path / "chapter.ipynb").exists()
    assert json.loads((tmp_path / "chapter.metrics.json").read_text()) == metrics


def test_values_are_asked_without_a_cell_of_the_page(chapter, tmp_path):
    """The values' cell is added to the executed notebook only, after the chapter's cells."""
    run_chapter(chapter, {}, tmp_path, values=VALUES)
    executed = nbformat.read(tmp_path / "chapter.ipynb", as_version=4)
    assert "history['loss'].iloc[-1]" in executed.cells[-1].source
    assert "iloc[-1]" not in chapter.read_text()
    with pytest.raises(ChapterError, match="the value 'bad' is not a Python expression"):
        run_chapter(chapter, {}, tmp_path, values={"bad": "len(history"})


def test_figures_are_kept_whatever_the_matplotlib_backend(chapter, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # as in CI: it must not reach the kernel
    run_chapter(chapter, {}, tmp_path)
    executed = nbformat.read(tmp_path / "chapter.ipynb", as_version=4)
    assert any("image/png" in output.get("data", {})
               for cell in executed.cells for output in cell.get("outputs", []))


def test_a_failing_cell_fails_the_run_and_is_named(chapter, tmp_path):
    with pytest.raises(ChapterError, match=r"cell 3 \(maybe-fail\) failed: ValueError"):
        run_chapter(chapter, {"fail": True}, tmp_path)


def test_command_line(chapter, tmp_path, capsys):
    assert main([str(chapter), "-p", "epochs", "1", "--out", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "load"
    executed = nbformat.read(tmp_path / "chapter.ipynb", as_version=4)
    assert any("epochs = 1" in cell.source for cell in executed.cells
               if "injected-parameters" in cell.metadata.get("tags", []))
    assert main([str(chapter), "-p", "nope", "1", "--out", str(tmp_path)]) == 1
    assert "has no parameter 'nope'" in capsys.readouterr().err


def test_a_run_prints_no_kernel_noise(chapter, tmp_path, capfd):
    """No "running over TCP without encryption" warning (ipykernel ≥ 7.3), nothing on stderr
    that a reader would take for an error."""
    run_chapter(chapter, {}, tmp_path)
    captured = capfd.readouterr()
    assert "eavesdropping" not in captured.err + captured.out
    assert "WARNING" not in captured.err


def test_a_run_restores_the_environment(chapter, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    run_chapter(chapter, {}, tmp_path)
    assert os.environ["MPLBACKEND"] == "Agg"
    with pytest.raises(ChapterError):
        run_chapter(chapter, {"fail": True}, tmp_path)
    assert os.environ["MPLBACKEND"] == "Agg"


def test_an_unclosed_cell_is_named(tmp_path):
    bad = tmp_path / "bad.qmd"
    bad.write_text("# A chapter\n\n```{python}\nx = 1\n")
    with pytest.raises(ChapterError, match=r"bad\.qmd: a ```\{python\} cell is not closed"):
        qmd_to_notebook(bad)


PARAMETERS_CELL = "```{python}\n#| tags: [parameters]\na = 1\n```\n"


@pytest.mark.parametrize("count", [0, 2])
def test_a_chapter_needs_exactly_one_parameters_cell(tmp_path, count):
    path = tmp_path / "c.qmd"
    path.write_text("# A chapter\n\n" + PARAMETERS_CELL * count)
    with pytest.raises(ChapterError, match=f"exactly one parameters cell, found {count}"):
        parameters_of(qmd_to_notebook(path))


def test_a_non_literal_default_is_named(tmp_path):
    path = tmp_path / "c.qmd"
    path.write_text("# A chapter\n\n```{python}\n#| tags: [parameters]\nn = len('ab')\n```\n")
    with pytest.raises(ChapterError, match="parameter 'n' needs a literal default.*len"):
        parameters_of(qmd_to_notebook(path))


def test_a_timeout_and_a_chapter_that_records_nothing_are_named(tmp_path):
    path = tmp_path / "slow.qmd"
    path.write_text("# Slow\n\n```{python}\n#| tags: [parameters]\nseconds = 30\n```\n\n"
                    "```{python}\nimport time\ntime.sleep(seconds)\n```\n")
    with pytest.raises(ChapterError, match="slow.qmd: a cell ran past the timeout of 2 s"):
        run_chapter(path, {}, tmp_path, timeout=2)
    with pytest.raises(ChapterError, match="slow.qmd ran but recorded nothing"):
        run_chapter(path, {"seconds": 0}, tmp_path)
