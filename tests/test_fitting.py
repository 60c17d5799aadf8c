"""Chapter 8, how networks are fitted: the chapter in fast mode and with its pinned fits, each
claim of its text checked against its metrics, and the double-descent helpers."""

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

from chapter_values import pins
from isldl.double_descent import (
    double_descent,
    min_norm_fit,
    natural_spline_basis,
    sine_data,
    spline_features,
)
from isldl.source import source_value

CHAPTER = "08-fitting"
FITS = ["08-mnist-dropout-0.0", "08-mnist-dropout-0.2", "08-mnist-dropout-0.4",
        "08-mnist-dropout-0.6", "08-mnist-l2-0.0001", "08-mnist-l2-0.001", "08-mnist-l2-0.01"]
# The claims whose numbers do not depend on the MNIST budget: they hold in fast mode too.
BUDGET_FREE_CLAIMS = ["autograd", "differences", "per_epoch", "per_second", "peak",
                      "interpolates", "second_descent", "best_below"]


@pytest.fixture(scope="module")
def fast(fast_runs):
    """The chapter in fast mode (conftest's `fast_runs` checks that it wrote nothing into the
    pinned results)."""
    return fast_runs(CHAPTER)


@pytest.fixture(scope="module")
def pinned(pinned_runs):
    """The chapter as a render runs it, the pinned fits loaded (conftest's `pinned_runs`,
    shared with the other chapters' tests)."""
    return pinned_runs[CHAPTER][0]


# ------------------------------------------------------------------------------- the chapter


def test_every_fit_is_pinned(root):
    for name in FITS:
        assert {p.name for p in (root / "results" / name).iterdir()} == {
            "pin.json", "model.pt", "history.csv"}, name


def test_fast_mode_trains_every_fit_afresh(fast):
    assert fast["mode"] == "fast" and "fast mode" in fast["not_the_books_results"]
    assert sorted(pins(fast)) == sorted(FITS)
    assert not any(pin["loaded"] for pin in pins(fast).values())


def test_the_hand_gradient_is_autograds_and_the_finite_differences(fast):
    # The Hitters network: 20 × 50 weights and 50 biases, then 50 + 1.
    assert fast["gradient_parameters"] == 20 * 50 + 50 + 50 + 1
    assert fast["gradient_autograd_max_rel"] < 1e-12
    assert fast["gradient_differences_max_rel"] < 1e-6


def test_smaller_batches_descend_further_per_epoch_and_per_second(fast):
    per_epoch = fast["sgd_loss_50_epochs"]
    assert (per_epoch["full batch (176)"] > per_epoch["batches of 32"]
            > per_epoch["batches of 8"])
    in_gd_time = fast["sgd_loss_gd_seconds"]
    assert in_gd_time["batches of 8"] < in_gd_time["full batch (176)"]
    # A full-batch step does 22 times the arithmetic of a step on 8 players, but costs more
    # than one such step and far less than 22 of them: the fixed cost of a step dominates.
    cost = fast["sgd_step_seconds"]
    assert cost["batches of 8"] < cost["full batch (176)"] < 22 * cost["batches of 8"]
    # Every run descends from the initial loss (1.58 in standard deviations of the salary).
    assert all(loss < 0.5 for loss in fast["sgd_final_loss"].values())


def test_double_descent_peaks_at_the_threshold_and_descends_again(fast, pinned):
    for metrics in (fast, pinned):
        assert abs(metrics["dd_argmax_d"] - 20) <= 2
        assert metrics["dd_test_error_peak"] > 10 * metrics["dd_test_error_min"]
        assert metrics["dd_test_error_at_max_d"] < metrics["dd_test_error_at_n"]
        assert metrics["dd_argmin_d"] < 20
        assert metrics["dd_train_error_beyond_n"] < 1e-12
        assert metrics["dd_test_error_worst"] > 1000  # "errors of thousands and more"
        # sin(x) itself would score 0.09 (the noise): the best spline comes close.
        assert 0.09 < metrics["dd_test_error_min"] < 0.2
    assert (fast["dd_reps"], pinned["dd_reps"]) == (30, 100)


def test_the_budget_free_claims_hold_in_fast_mode(fast):
    assert {c: fast["claims"][c] for c in BUDGET_FREE_CLAIMS} == dict.fromkeys(
        BUDGET_FREE_CLAIMS, True)


def test_the_pinned_fits_load_and_reproduce_their_metrics(pinned):
    assert pinned["mode"] == "load" and pinned["not_the_books_results"] == []
    assert sorted(pins(pinned)) == sorted(FITS)
    for name, pin in pins(pinned).items():
        assert pin["loaded"], name
        assert pin["reproduced"], (name, pin)


def test_regularisation_claims_hold_for_the_pinned_fits(pinned):
    dropout, l2 = pinned["dropout_test_accuracy"], pinned["l2_test_accuracy"]
    assert dropout["0"] == l2["0"]  # one fit, in both series
    # "Dropout at rates 0.2 and 0.4, and a ridge penalty of 1e-4, each lift the test accuracy
    # a few tenths of a point above the plain network's."
    for accuracy in (dropout["0.2"], dropout["0.4"], l2["0.0001"]):
        assert 0.001 < accuracy - dropout["0"] < 0.01
    assert dropout["0.6"] < dropout["0"]  # "too much dropout hurts"
    assert l2["0.01"] < l2["0.001"] < l2["0"]  # "the larger penalties under-fit"
    assert all(accuracy > 0.94 for accuracy in dropout.values())
    # ISLR2's networks saw all 60,000 digits: ours, on 10,000, are 2 to 3 points behind.
    rows = {row["key"]: row["ours"] for row in pinned["comparison_rows"]}
    assert rows["fitting.dropout_test_accuracy"] == max(dropout["0.2"], dropout["0.4"],
                                                        dropout["0.6"])
    for key in ("fitting.dropout_test_accuracy", "fitting.ridge_test_accuracy"):
        assert 0.015 < source_value(key) - rows[key] < 0.035, key
    # The chapter's budget: "the seven fits took about half a minute".
    assert pinned["regularisation_train_seconds"] < 60


def test_every_claim_of_the_table_holds_for_the_book(pinned):
    assert sorted(pinned["claims"]) == sorted(
        [*BUDGET_FREE_CLAIMS, "dropout_helps", "dropout_too_much", "ridge_too_much"])
    assert all(pinned["claims"].values()), pinned["claims"]


# ---------------------------------------------------------------------- double-descent helpers


def test_spline_features_have_d_columns_and_span_the_natural_splines():
    rng = np.random.default_rng(0)
    x_train = rng.uniform(-5, 5, 20)
    x = np.linspace(-5, 5, 301)
    for d in (2, 5, 20, 33):
        features = spline_features(x_train, d)(x)
        assert features.shape == (len(x), d)
        assert np.linalg.matrix_rank(features) == d
        # Any natural cubic spline with the same knots is a combination of the features.
        knots = np.r_[-5, np.quantile(x_train, np.linspace(0, 1, d)[1:-1]), 5]
        spline = CubicSpline(knots, rng.standard_normal(d), bc_type="natural")(x)
        coef = np.linalg.lstsq(features, spline, rcond=None)[0]
        assert np.abs(features @ coef - spline).max() < 1e-8


def test_natural_spline_basis_is_rs_ns():
    interior = np.array([-2.0, 0.5, 3.0])
    x = np.linspace(-5, 5, 2001)
    basis = natural_spline_basis(x, interior)
    assert basis.shape == (len(x), len(interior) + 1)
    # R's ns() without intercept is zero at the lower boundary knot...
    assert np.abs(basis[0]).max() < 1e-12
    # ... and natural: zero second derivative at the boundary knots (where R continues it as
    # a straight line), unlike inside.
    def second_derivative(points, h):
        values = natural_spline_basis(points, interior)
        return (values[2::3] - 2 * values[1::3] + values[0::3]) / h ** 2

    h = 1e-4
    at_ends = second_derivative(np.array([-5, -5 + h, -5 + 2 * h, 5 - 2 * h, 5 - h, 5]), h)
    inside = second_derivative(np.array([-h, 0, h]), h)
    assert np.abs(at_ends).max() < 1e-3 * np.abs(inside).max()
    with pytest.raises(ValueError, match="boundary"):
        natural_spline_basis(np.array([6.0]), interior)
    with pytest.raises(ValueError, match="at least 2"):
        spline_features(np.zeros(3), 1)


def test_the_minimum_norm_fit_interpolates_with_least_norm_from_d_equal_n():
    rng = np.random.default_rng(1)
    x, y = sine_data(20, rng)
    for d in (20, 21, 40):
        features = spline_features(x, d)(x)
        coef = min_norm_fit(features, y)
        assert np.abs(features @ coef - y).max() < 1e-8
        if d > 20:  # any other interpolating solution is longer
            null = np.linalg.svd(features)[2][-1]
            assert np.linalg.norm(coef + 0.1 * null) > np.linalg.norm(coef)
    features = spline_features(x, 5)(x)  # fewer features: ordinary least squares
    expected = np.linalg.solve(features.T @ features, features.T @ y)
    assert np.allclose(min_norm_fit(features, y), expected)


def test_knots_on_the_data_condition_the_square_system_better_than_its_neighbours():
    """The chapter's explanation of a peak just past d = n: with d = 20 the interior knots
    are the data points themselves, and the 20 × 20 system is better conditioned (its
    smallest singular value larger, in the median over draws) than with 19 or 21 features."""
    rng = np.random.default_rng(5)
    smallest = {19: [], 20: [], 21: []}
    for _ in range(100):
        x, _ = sine_data(20, rng)
        for d, values in smallest.items():
            values.append(np.linalg.svd(spline_features(x, d)(x), compute_uv=False).min())
    median = {d: np.median(values) for d, values in smallest.items()}
    assert median[20] > median[19] and median[20] > median[21]
    x = np.sort(sine_data(20, rng)[0])
    assert np.allclose(np.quantile(x, np.linspace(0, 1, 20)[1:-1]), x[1:-1])


def test_sine_data_and_the_experiment_loop():
    x, y = sine_data(1000, np.random.default_rng(2))
    assert x.min() >= -5 and x.max() <= 5
    assert np.std(y - np.sin(x)) == pytest.approx(0.3, rel=0.1)
    sweep = double_descent([3, 20, 30], n=20, reps=4, seed=3)
    assert list(sweep.columns) == ["rep", "d", "train_mse", "test_mse"]
    assert len(sweep) == 4 * 3
    assert (sweep["test_mse"] > 0.3 ** 2).all()  # the noise is the least error possible
    assert (sweep.loc[sweep["d"] >= 20, "train_mse"] < 1e-12).all()
    # The same seed, the same experiment.
    assert sweep.equals(double_descent([3, 20, 30], n=20, reps=4, seed=3))
