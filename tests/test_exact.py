"""Exact checks of the pieces whose bugs a trained model would hide: metrics, shuffling,
seeding, initialisation, the bag of words, the source's splits (see tests/mutants.py)."""

import platform
import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from torch import nn

import isldl
from isldl import data, models
from isldl.data.imdb import one_hot
from isldl.lasso import cv_lasso, logistic_lasso_path, smallest_ratio
from isldl.paths import book_root
from isldl.source import source_text
from isldl.train import METRICS

REFERENCE = book_root().parent / "shared" / "reference"


def test_binary_accuracy_thresholds_one_logit_at_zero():
    logits = torch.tensor([[-0.2], [0.2], [0.7], [-3.0]])
    labels = torch.tensor([0.0, 1.0, 1.0, 1.0])
    assert METRICS["accuracy"](logits, labels).item() == 0.75  # 0.2 is positive, -3 is not


def test_mae_metric():
    out, y = torch.tensor([[1.0], [4.0]]), torch.tensor([2.0, 2.0])
    assert METRICS["mae"](out, y).item() == 1.5


def test_metrics_are_averaged_over_samples_not_batches():
    """10 samples in batches of 4, 4, 2: Keras weights each batch by its size."""
    class Constant(nn.Module):
        def __init__(self):
            super().__init__()
            self.bias = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return x[:, :1] * 0 + self.bias * 0 + 1.0  # always predicts 1

    x = np.zeros((10, 1), dtype="float32")
    y = np.array([1, 1, 1, 1, 1, 1, 1, 1, 3, 3], dtype="float32")  # the last batch is off by 2
    scores = isldl.evaluate(Constant(), x, y, loss="mse", metrics=("mae",), batch_size=4)
    assert scores["mae"] == pytest.approx(0.4) and scores["loss"] == pytest.approx(0.8)


def test_each_epoch_reshuffles_and_the_seed_decides_the_order(spy_model):
    def training_orders(seed, n=12):
        """The order of the rows in each of two epochs, one batch per epoch."""
        seen = []

        def watch(model, x):
            if model.training:  # not the validation passes
                seen.append(x[:, 0].tolist())

        model = spy_model(watch)
        x = np.arange(n, dtype="float32")[:, None]
        isldl.fit(model, x, x[:, 0], loss="mse", epochs=2, batch_size=n, seed=seed)
        return seen

    first, second = training_orders(seed=1)
    assert sorted(first) == sorted(second) == list(range(12))
    assert first != second  # a new order every epoch
    assert training_orders(seed=1) == [first, second]  # the same seed, the same orders
    assert training_orders(seed=2)[0] != first  # another seed, another order


def test_a_different_seed_gives_a_different_fit():
    x = np.linspace(-1, 1, 40, dtype="float32")[:, None]
    fits = []
    for seed in (1, 2):
        isldl.set_seed(0)  # the same initial weights: only the fit's seed differs
        fits.append(isldl.fit(models.single_layer_net(1, 4, 0.5), x, x[:, 0], loss="mse",
                              epochs=2, seed=seed))
    assert not fits[0].equals(fits[1])


def test_keras_init_is_glorot_uniform():
    isldl.set_seed(0)
    layer = isldl.keras_init(nn.Linear(400, 200))
    bound = np.sqrt(6 / 600)
    weights = layer.weight.detach().numpy()
    assert weights.max() <= bound and weights.min() >= -bound
    # uniform on ±bound: the standard deviation is bound/√3 (±0.05 would give 0.029)
    assert weights.std() == pytest.approx(bound / np.sqrt(3), rel=0.02)


def test_lstm_starts_as_keras_does():
    isldl.set_seed(0)
    lstm = models.ImdbLSTM(n_words=50, dim=4, units=3)
    bias = lstm.lstm.bias_ih_l0.detach()
    assert bias[3:6].tolist() == [1.0, 1.0, 1.0]  # the forget gate's bias is one
    assert torch.all(bias[:3] == 0) and torch.all(bias[6:] == 0)
    assert torch.all(lstm.lstm.bias_hh_l0 == 0)
    recurrent = lstm.lstm.weight_hh_l0.detach()  # (4 gates × 3) × 3: Keras' orthogonal kernel
    torch.testing.assert_close(recurrent.T @ recurrent, torch.eye(3), atol=1e-5, rtol=0)


def test_one_hot_marks_each_word_once_in_its_column():
    matrix = one_hot([np.array([1, 3, 3, 9]), np.array([0, 4])], dim=5)
    assert matrix.toarray().tolist() == [[0, 1, 0, 1, 0], [1, 0, 0, 0, 1]]


def test_imdb_validation_positions_are_the_sources_zero_based():
    source = pd.read_csv(REFERENCE / "imdb_ival.csv").iloc[:, 0].to_numpy()
    assert data.imdb_validation_positions().tolist() == (source - 1).tolist()


def test_hitters_splits_are_the_sources_zero_based():
    test = pd.read_csv(REFERENCE / "hitters_testid.csv").iloc[:, 0].to_numpy()
    assert data.hitters_test_positions().tolist() == (test - 1).tolist()
    folds = pd.read_csv(REFERENCE / "hitters_cv_foldid.csv").iloc[:, 0].to_numpy()
    assert data.hitters_cv_folds().tolist() == folds.tolist()


def hitters_lasso_data():
    hitters = data.load_hitters()
    test = data.hitters_test_positions()
    train = np.setdiff1d(np.arange(len(hitters)), test)
    x = data.r_scale(data.hitters_model_matrix(hitters)).to_numpy()
    y = hitters["Salary"].to_numpy()
    return x[train], y[train], x[test], y[test]


def test_cv_lasso_on_the_sources_folds_reproduces_the_sources_test_error():
    """glmnet's naive updates, stopped at its default threshold, give the source's printed
    252.2994; its covariance updates stop at 252.2981; both, converged, reach the lasso's
    exact solution, which scikit-learn's tight tolerance also finds (252.25)."""
    x, y, x_test, y_test = hitters_lasso_data()
    folds = data.hitters_cv_folds()
    cv = cv_lasso(x, y, folds)
    assert cv.solver == "glmnet" and len(cv.lambdas) < 100  # glmnet stopped the path early
    assert cv.cv_mean[cv.lambdas == cv.lambda_min][0] == cv.cv_mean.min()

    def mae(fit):
        return np.abs(y_test - fit.fit.predict(x_test)).mean()

    assert f"{mae(cv):.4f}" == source_text("hitters.lasso_test_mae")
    covariance = mae(cv_lasso(x, y, folds, naive=False))
    assert 1e-4 < abs(covariance - mae(cv)) < 0.01
    converged = mae(cv_lasso(x, y, folds, thresh=1e-12))
    assert converged == pytest.approx(mae(cv_lasso(x, y, folds, solver="scikit-learn")),
                                      abs=1e-3)
    assert abs(converged - mae(cv)) > 0.01


def test_cv_lasso_names_the_solvers_it_knows():
    x, y, _, _ = hitters_lasso_data()
    with pytest.raises(ValueError, match="solver must be one of 'glmnet', 'scikit-learn', "
                                         "got 'lars'"):
        cv_lasso(x, y, data.hitters_cv_folds(), solver="lars")


def _sparse_words(rows: int = 400, words: int = 40):
    """A small bag of words whose first five words decide the label, with noise."""
    rng = np.random.default_rng(0)
    x = (rng.random((rows, words)) < 0.2).astype(float)
    y = (x[:, :5].sum(axis=1) + rng.normal(size=rows) > 1).astype(float)
    return x, y


def test_the_scikit_learn_lasso_path_does_not_depend_on_what_ran_before():
    x, y = _sparse_words()
    paths = []
    for seed in (1, 2):  # liblinear's order of coordinates would follow NumPy's global seed
        np.random.seed(seed)
        paths.append(logistic_lasso_path(x, y, n_lambda=8, ratio=1e-3,
                                         solver="scikit-learn", progress=False))
    np.testing.assert_array_equal(paths[0].coefs, paths[1].coefs)
    np.testing.assert_array_equal(paths[0].intercepts, paths[1].intercepts)
    assert (paths[0].coefs[0] == 0).all() and (paths[0].coefs[-1] != 0).any()


def _penalised_loss(x, y, path) -> np.ndarray:
    """glmnet's objective, −(1/n)·log-likelihood + λ·Σ|β_j|, at each λ of the path."""
    eta = path.decision(x)
    loss = (np.logaddexp(0, eta) - y[:, None] * eta).mean(axis=0)
    return loss + path.lambdas * np.abs(path.coefs).sum(axis=1)


GLMSTAR_DECLARED = (sys.platform, platform.machine()) in {
    ("linux", "x86_64"), ("darwin", "arm64"), ("win32", "AMD64")}
"""Where pyproject.toml installs glmstar (where it has wheels)."""


@pytest.mark.skipif(not GLMSTAR_DECLARED, reason="glmstar has no wheel for this system")
def test_glmnet_and_scikit_learn_minimise_the_same_objective_on_the_same_path():
    x, y = _sparse_words()
    glmnet = logistic_lasso_path(sp.csr_matrix(x), y, n_lambda=30, solver="glmnet")
    liblinear = logistic_lasso_path(sp.csr_matrix(x), y, n_lambda=30, solver="scikit-learn",
                                    progress=False)
    assert (glmnet.solver, liblinear.solver) == ("glmnet", "scikit-learn")
    # Both stop early by glmnet's rule, where the deviance explained grows by < 1e-5 of itself:
    # 23 and 25 penalties of 30 when this test was written.
    steps = min(len(glmnet.lambdas), len(liblinear.lambdas))
    assert 20 <= steps < 30 and abs(len(glmnet.lambdas) - len(liblinear.lambdas)) <= 3
    np.testing.assert_allclose(glmnet.lambdas[:steps], liblinear.lambdas[:steps], rtol=1e-10)
    # n > p: 30 steps would reach 1e-4 of the largest penalty
    assert glmnet.lambdas[1] / glmnet.lambdas[0] == pytest.approx(1e-4 ** (1 / 29))
    np.testing.assert_allclose(_penalised_loss(x, y, glmnet)[:steps],
                               _penalised_loss(x, y, liblinear)[:steps], atol=1e-5)
    assert (glmnet.coefs[0] == 0).all() and (glmnet.coefs[-1] != 0).all()


@pytest.mark.skipif(not GLMSTAR_DECLARED, reason="glmstar has no wheel for this system")
def test_glmnet_is_the_default_and_ends_at_a_hundredth_with_fewer_rows_than_words():
    x, y = _sparse_words(rows=30)
    path = logistic_lasso_path(x, y, n_lambda=10)
    assert path.solver == "glmnet"
    assert path.lambdas[1] / path.lambdas[0] == pytest.approx(1e-2 ** (1 / 9))


def test_the_path_ends_where_glmnets_lambda_min_ratio_says():
    assert smallest_ratio(np.zeros((400, 40))) == 1e-4
    assert smallest_ratio(np.zeros((40, 40))) == 1e-4  # R: ifelse(nobs < nvars, 0.01, 1e-4)
    assert smallest_ratio(np.zeros((30, 40))) == 1e-2


def test_the_lasso_path_names_the_solvers_it_knows():
    x, y = _sparse_words()
    with pytest.raises(ValueError, match="solver must be one of 'glmnet', 'scikit-learn', "
                                         "got 'saga'"):
        logistic_lasso_path(x, y, solver="saga")
    with pytest.raises(ValueError, match="n_lambda must be at least 3"):
        logistic_lasso_path(x, y, n_lambda=2)
