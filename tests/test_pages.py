"""How a chapter's outputs read on the page: data frames as Markdown tables, and a runner
that leaves PyTorch to the kernel."""

import subprocess
import sys

import numpy as np
import pandas as pd

from isldl.chapter import markdown_table


def test_a_data_frame_is_a_markdown_table_with_numbers_right_aligned():
    frame = pd.DataFrame({"return": [0.5, -0.125, np.nan], "days": [3, 4, 5],
                          "weekday": ["mon", "tues", "wed"]},
                         index=pd.Index([5, 6, 7], name="row"))
    assert markdown_table(frame).splitlines() == [
        "| row | return | days | weekday |",
        "|--:|--:|--:|:--|",
        "| 5 | 0.500 | 3 | mon |",
        "| 6 | -0.125 | 4 | tues |",
        "| 7 | NaN | 5 | wed |",
    ]


def test_a_column_keeps_four_decimals_at_most_and_one_at_least():
    frame = pd.DataFrame({"a": [1 / 3, 2.0], "b": [1.0, 2.0], "c": [np.nan, np.nan]})
    rows = [line.split(" | ") for line in markdown_table(frame).splitlines()[2:]]
    assert [row[1] for row in rows] == ["0.3333", "2.0000"]
    assert [row[2] for row in rows] == ["1.0", "2.0"]
    assert [row[3].rstrip(" |") for row in rows] == ["NaN", "NaN"]


def test_a_series_with_a_multi_index_gets_a_column_per_level():
    series = pd.Series([0.25, 0.5], name="loss", index=pd.MultiIndex.from_tuples(
        [(0.01, "full batch"), (0.01, "batches of 8")], names=["eta", "batches"]))
    assert markdown_table(series.to_frame()).splitlines() == [
        "| eta | batches | loss |", "|--:|:--|--:|",
        "| 0.01 | full batch | 0.25 |", "| 0.01 | batches of 8 | 0.50 |"]


def test_a_chapter_shows_data_frames_as_markdown_only():
    """Inside IPython, after `start_chapter`: Markdown, and no HTML table to compete with it."""
    script = ("from IPython.core.interactiveshell import InteractiveShell\n"
              "shell = InteractiveShell.instance()\n"
              "import pandas as pd, isldl\n"
              "isldl.start_chapter('test', 'load')\n"
              "data, _ = shell.display_formatter.format(pd.DataFrame({'x': [1.5]}))\n"
              "print(sorted(data))\n"
              "print(data['text/markdown'].splitlines()[0])\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[-2:] == ["['text/markdown', 'text/plain']", "|  | x |"]


def test_the_runner_does_not_import_pytorch():
    script = "import sys, isldl_book.run; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_a_table_with_two_levels_of_columns_has_one_heading_per_column():
    frame = pd.concat({"source": pd.DataFrame({"loss": [0.5]}),
                       "ours": pd.DataFrame({"loss": [0.25]})}, axis=1)
    assert markdown_table(frame).splitlines()[0] == "|  | source, loss | ours, loss |"


def test_start_chapter_names_a_chapter_of_the_book(root, monkeypatch):
    """Run from the book's chapters, `start_chapter("01-hitter", …)` (a typo) is an error
    that lists the chapters; the right stem is not."""
    import pytest

    import isldl

    monkeypatch.chdir(root / "chapters")
    with pytest.raises(ValueError, match=r"'01-hitter' names no chapter of this book "
                                         r"\(chapters/01-hitter.qmd does not exist; they are "
                                         r"01-hitters, 02-mnist"):
        isldl.start_chapter("01-hitter", "load")
    isldl.start_chapter("01-hitters", "load")
