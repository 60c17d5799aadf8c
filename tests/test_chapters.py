"""Each chapter, run through `isldl.run`: fast mode trains and checks the metrics that matter;
the pinned run loads the committed results and reproduces their recorded test metrics."""

import hashlib

import pytest

from isldl.run import run_chapter
from isldl.source import source_value


@pytest.fixture(scope="module")
def results_snapshot(root):
    """Hashes of every committed result file, to check that no test run writes there."""
    def snapshot():
        return {p: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted((root / "results").rglob("*")) if p.is_file()}
    return snapshot


def run(root, tmp_path, name, **parameters):
    return run_chapter(root / "chapters" / f"{name}.qmd", parameters, tmp_path)


def test_hitters_fast(root, tmp_path, results_snapshot):
    before = results_snapshot()
    metrics = run(root, tmp_path, "01-hitters", fast=True)
    assert round(metrics["lm_test_mae"], 4) == source_value("hitters.lm_test_mae")
    assert abs(metrics["lasso_test_mae"] - source_value("hitters.lasso_test_mae")) < 0.1
    assert metrics["toy_params"] == source_value("hitters.toy_params")
    assert metrics["nn_params"] == 1101
    assert not metrics["nn_loaded"]
    assert 150 < metrics["nn_test_mae"] < 320  # trained afresh: sane, not exact
    assert results_snapshot() == before


def test_hitters_pinned(root, tmp_path):
    metrics = run(root, tmp_path, "01-hitters")
    assert metrics["nn_loaded"]
    assert metrics["nn_test_mae"] == metrics["nn_recorded"]["test_mae"]
    assert metrics["nn_test_mae"] <= 280


def test_mnist_fast(root, tmp_path, results_snapshot):
    before = results_snapshot()
    metrics = run(root, tmp_path, "02-mnist", fast=True)
    assert metrics["mlp_params"] == source_value("mnist.mlp_params")
    assert metrics["logistic_params"] == source_value("mnist.logistic_params")
    assert metrics["mlp_test_accuracy"] >= 0.9
    assert metrics["logistic_test_accuracy"] >= 0.85
    assert not metrics["mlp_loaded"]
    assert results_snapshot() == before


def test_mnist_pinned(root, tmp_path):
    metrics = run(root, tmp_path, "02-mnist")
    assert metrics["mlp_loaded"] and metrics["logistic_loaded"]
    assert metrics["mlp_test_accuracy"] == metrics["mlp_recorded"]["test_accuracy"]
    assert metrics["logistic_test_accuracy"] == metrics["logistic_recorded"]["test_accuracy"]
    assert metrics["mlp_test_accuracy"] >= 0.978
    assert metrics["logistic_test_accuracy"] >= 0.92


def test_nyse_fast(root, tmp_path, results_snapshot):
    before = results_snapshot()
    metrics = run(root, tmp_path, "07-nyse", fast=True)
    assert round(metrics["ar_test_r2"], 6) == source_value("nyse.ar_test_r2")
    assert round(metrics["ar_day_test_r2"], 7) == source_value("nyse.ar_day_test_r2")
    assert metrics["n_sequences"] == source_value("nyse.n_sequences")
    assert metrics["rnn_test_r2"] > 0 and metrics["nonlinear_ar_test_r2"] > 0
    assert not metrics["rnn_loaded"]
    assert results_snapshot() == before


def test_nyse_pinned(root, tmp_path):
    metrics = run(root, tmp_path, "07-nyse")
    for name in ("rnn", "flattened", "nonlinear_ar"):
        assert metrics[f"{name}_loaded"]
        assert metrics[f"{name}_test_r2"] == metrics[f"{name}_recorded"]["test_r2"]
    assert metrics["rnn_test_r2"] >= 0.40
    assert metrics["nonlinear_ar_test_r2"] >= 0.45
