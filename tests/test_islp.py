"""The official Python lab's numbers (ISLP_labs v2.2.3, `islp.yaml`): each registry value
against the printed text and the line of code it was read from, and the third column of the
comparison tables."""

import inspect
import re

import pytest
import torch

from isldl import state
from isldl.source import (
    ISLP,
    comparison_table,
    islp_settings,
    islp_value,
    registry,
    source_value,
)
from isldl_book.markdown import chapters

REGISTRY = registry("islp.yaml")
TORCH_RMSPROP_LR = inspect.signature(torch.optim.RMSprop).parameters["lr"].default


@pytest.mark.parametrize("key", sorted(REGISTRY["values"]))
def test_each_value_is_the_printed_number_rounded(key):
    entry = REGISTRY["values"][key]
    printed = re.findall(r"\d+\.\d+", entry["printed"])
    assert len(printed) == 1, entry
    decimals = len(entry["value"].split(".")[1])
    assert entry["value"] == f"{float(printed[0]):.{decimals}f}"
    assert isinstance(entry["cell"], int) and entry["code"] and entry["where"]


def test_each_setting_is_in_the_line_of_code_it_was_read_from():
    names = {"epochs": "max_epochs", "batch_size": "batch_size", "learning_rate": "lr"}
    for fit, setting in islp_settings().items():
        for name, argument in names.items():
            entry = setting[name]
            if entry.get("default"):  # SimpleModule's own optimizer: PyTorch's default rate
                assert "SimpleModule." in entry["code"], fit
                assert entry["value"] == TORCH_RMSPROP_LR, fit
                continue
            assert f"{argument}={entry['value']:g}" in entry["code"], (fit, name)


def test_the_registry_names_its_repository_tag_and_file():
    assert REGISTRY["repository"] == "https://github.com/intro-stat-learning/ISLP_labs"
    assert REGISTRY["tag"] == "v2.2.3" and re.fullmatch(r"[0-9a-f]{40}", REGISTRY["commit"])
    assert REGISTRY["file"] == "Ch10-deeplearning-lab.ipynb"


def test_every_value_stands_in_a_row_of_a_chapters_table():
    text = "".join(qmd.read_text(encoding="utf-8") for qmd in chapters())
    for key in REGISTRY["values"]:
        assert f'"{key}"' in text, key


def test_a_comparison_table_has_the_islp_column():
    state.begin(None, "load")
    table = comparison_table([
        ("Linear model, test MAE", "hitters.lm_test_mae", 254.6687),
        ("Network, epochs", "hitters.nn_epochs", 600),
        ("Network, test accuracy", None, 0.98, "mnist.mlp_test_accuracy"),
    ])
    lines = table.splitlines()
    assert lines[0] == f"| Quantity | Source | {ISLP} | This book |"
    lm = islp_value("hitters.lm_test_mae")
    assert lines[2] == f"| Linear model, test MAE | 254.6687 | {lm} | 254.6687 |"
    assert lines[3] == "| Network, epochs | 600^c^ | — | 600 |"  # ISLP prints no such row
    assert lines[4].split(" | ")[2] == islp_value("mnist.mlp_test_accuracy") == "0.9620"
    assert "(@sec-coming-from-islp)" in lines[-1]


def test_the_linear_ar_rows_differ_by_the_r2_definition_alone():
    """The source's R² (R's var, over n − 1) of the two linear AR models, converted to
    scikit-learn's (over n) on the 1,770 test days, is ISLP's printed value to 7 digits."""
    from isldl import data
    from isldl.source import islp_printed
    from isldl.timeseries import ar_frame

    _, train = ar_frame(data.load_nyse())
    n = int((~train).sum())
    assert n == 1770
    for key in ("nyse.ar_test_r2", "nyse.ar_day_test_r2"):
        converted = 1 - (1 - source_value(key)) * n / (n - 1)
        assert converted == pytest.approx(islp_printed(key), abs=5e-8), key
