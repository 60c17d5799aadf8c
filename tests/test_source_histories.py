"""The source's printed training histories: read from the seed into `histories.yaml`, and
drawn beside ours in every history figure of the book."""

import ast
import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import isldl
from isldl.source import _registry
from isldl_book import source_histories
from isldl_book.markdown import chapters
from isldl_book.run import qmd_to_notebook


def test_the_registry_holds_what_the_seed_prints():
    """Every value of histories.yaml is read again from the seed's text and must be equal."""
    assert _registry("histories.yaml") == source_histories.histories()


def test_the_histories_are_those_the_seed_reports_elsewhere():
    """Values that the seed also prints on their own (the last epochs the chapters compare
    with, in source.yaml) agree with the histories."""
    pairs = [("mnist.mlp", "val_accuracy", "mnist.mlp_val_accuracy"),
             ("imdb.dense", "val_accuracy", "imdb.dense_val_accuracy"),
             ("cifar.cnn", "val_accuracy", "cifar.val_accuracy"),
             ("imdb.lstm", "val_accuracy", "imdb.lstm_test_accuracy")]
    for history, column, key in pairs:
        printed = isldl.source_history(history)[column].iloc[-1]
        assert printed == pytest.approx(isldl.source_value(key), abs=5e-5), history


def test_a_gap_or_a_short_quantity_in_the_seed_is_an_error():
    lines = ["$loss", "[1] 0.5 0.4", "[2] 0.3"]
    with pytest.raises(ValueError, match=r"loss: \[2\] follows 2 values"):
        source_histories.read_history(lines, source_histories.PrintedHistory(1, 3, 3, "x"))
    with pytest.raises(ValueError, match="expected 5 values of each quantity"):
        source_histories.read_history(["Epoch 1/5", "1/1 - loss: 0.5000"],
                                      source_histories.PrintedHistory(1, 2, 5, "x"))


def test_the_conversion_marks_of_the_seed_are_read_through():
    """A `- ` before a line, `\\$`, a `$\\hbox{\\tt [1]}`, "val loss", several runs on a line,
    lost lines (None) between runs."""
    lines = ["\\$loss", "- $\\hbox{\\tt [1]} \\ \\ 0.5 \\ \\ 0.4$", "[3] 0.3 [4] 0.2",
             "\\$val loss", "[1] 0.9", "[4] 0.6"]
    columns = source_histories.read_history(
        lines, source_histories.PrintedHistory(1, 6, 4, "x"))
    assert columns == {"loss": [0.5, 0.4, 0.3, 0.2], "val_loss": [0.9, None, None, 0.6]}


def test_the_sources_curves_are_drawn_beside_ours():
    ours = pd.DataFrame({"loss": [1.0, 0.5], "val_loss": [1.2, 0.8]},
                        index=pd.RangeIndex(1, 3, name="epoch"))
    figure = isldl.plot_history(ours, source=isldl.source_history("nyse.rnn"))
    labels = [line.get_label() for line in figure.axes[0].get_lines()]
    assert labels == ["training", "training, source", "validation", "validation, source"]
    assert len(figure.axes[0].get_lines()[1].get_xdata()) == 75
    plt.close(figure)


def history_calls(qmd):
    """The `isldl.plot_history(...)` calls of a chapter's code, as parsed calls."""
    for cell in qmd_to_notebook(qmd).cells:
        if cell.cell_type != "code" or "plot_history" not in cell.source:
            continue
        code = re.sub(r"^#\|.*$", "", cell.source, flags=re.M)
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.Call) and ast.unparse(node.func) == "isldl.plot_history":
                yield node


def test_every_history_figure_draws_the_sources_printed_history():
    keys = set(_registry("histories.yaml"))
    drawn = set()
    for qmd in chapters():
        for call in history_calls(qmd):
            source = next((k.value for k in call.keywords if k.arg == "source"), None)
            assert source is not None, (qmd.name, ast.unparse(call))
            assert ast.unparse(source.func) == "isldl.source_history"
            drawn.add(source.args[0].value)
    # every printed history is drawn, but those of the two fits that have no figure here
    assert keys - drawn == {"mnist.logistic", "imdb.dense_continued"}
