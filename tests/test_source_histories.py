"""The source's printed training histories: read from the seed into `histories.yaml`, and
drawn beside ours in every history figure of the book."""

import ast
import re

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import isldl
from isldl.source import registry
from isldl_book import source_histories
from isldl_book.markdown import chapters
from isldl_book.run import qmd_to_notebook


def test_the_registry_holds_what_the_seed_prints():
    """Every value of histories.yaml is read again from the seed's text and must be equal."""
    assert registry("histories.yaml") == source_histories.histories()


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
    keys = set(registry("histories.yaml"))
    drawn = set()
    for qmd in chapters():
        for call in history_calls(qmd):
            source = next((k.value for k in call.keywords if k.arg == "source"), None)
            assert source is not None, (qmd.name, ast.unparse(call))
            assert ast.unparse(source.func) == "isldl.source_history"
            drawn.add(source.args[0].value)
    assert drawn == keys  # every history that the source prints is drawn beside ours


def test_the_two_added_history_figures_say_what_their_prose_says(root):
    """Chapter 2's logistic regression: "the loss halves in the first epoch and then falls
    slowly, and the held-out images score about as well as the training ones". Chapter 5's
    continued fit: "in both, the training accuracy sits at or near 100 % from the start, while
    the test loss rises and the test accuracy drifts down"."""
    def pinned(name):
        return pd.read_csv(root / "results" / name / "history.csv", index_col="epoch")

    for history in (pinned("02-mnist-logistic"), isldl.source_history("mnist.logistic")):
        loss = history["loss"]
        assert loss.iloc[1] < 0.6 * loss.iloc[0] and loss.iloc[1] - loss.iloc[-1] < 0.15
        assert abs(history["val_accuracy"].iloc[-1] - history["accuracy"].iloc[-1]) < 0.01
    for history in (pinned("05-imdb-dense-continued"),
                    isldl.source_history("imdb.dense_continued")):
        assert history["accuracy"].min() > 0.99
        assert history["val_loss"].iloc[-1] > 1.5 * history["val_loss"].iloc[0]
        assert history["val_accuracy"].iloc[-1] < history["val_accuracy"].iloc[0]


def test_each_printed_value_belongs_to_the_epoch_that_the_seed_gives_it():
    """Not the values alone but their epochs: R prints `[k] v …` with v the k-th epoch's, and
    Keras prints `Epoch k/N` before the k-th epoch's line. Every such mark in the seed must
    find its value at epoch k of the registry's history (a history shifted by one epoch
    fails)."""
    seed = source_histories.SEED.read_text(encoding="utf-8").splitlines()
    marks = re.compile(r"\[(\d+)\]\s+(-?\d+(?:\.\d+)?(?:e-?\d+)?)|Epoch (\d+)/\d+"
                       r"|(?<!val_)(?<!val )loss: (\d+\.\d+)")
    checked = 0
    for key, printed in source_histories.FITS.items():
        history = isldl.source_history(key)
        text = " ".join(seed[printed.first - 1:printed.last])
        text = source_histories._CONVERSION_MARKS.sub(" ", text)
        epoch = None
        for match in marks.finditer(text):
            r_index, r_value, keras_epoch, keras_loss = match.groups()
            if r_index:
                row = history.loc[int(r_index)]
                assert (row - float(r_value)).abs().min() < 1e-9, (key, r_index, r_value)
            elif keras_epoch:
                epoch = int(keras_epoch)
                continue
            else:
                assert history.loc[epoch, "loss"] == pytest.approx(float(keras_loss)), (key, epoch)
            checked += 1
    assert checked > 100
