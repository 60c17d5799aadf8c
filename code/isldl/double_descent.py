"""Double descent (ISLR2 §10.8): natural-spline features, minimum-norm least squares, and the
experiment that sweeps the number of features past the number of observations.

`natural_spline_basis` is R's `ns()`; `spline_features(x_train, d)` gives `d` features (an
intercept and `ns(x, df = d - 1)`, knots placed as `ns` places them); `min_norm_fit` is least
squares, or the interpolating solution of least norm when there are at least as many features
as observations; `double_descent` repeats the whole experiment and returns one row per fit.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from scipy.interpolate import BSpline

from . import fast

BOUNDARY = (-5.0, 5.0)  # the range of x in ISLR2's simulation


def natural_spline_basis(x, interior_knots, boundary_knots=BOUNDARY) -> np.ndarray:
    """R's `ns(x, knots = interior_knots, Boundary.knots = boundary_knots)` (no intercept):
    cubic B-splines projected onto those whose second derivative is zero at both boundary
    knots, as `ns` does (by a QR decomposition of the two constraints). One column per
    interior knot, plus one. Every x must lie within the boundary knots."""
    x = np.asarray(x, dtype=float)
    low, high = boundary_knots
    if x.size and (x.min() < low or x.max() > high):
        raise ValueError(f"x must lie within the boundary knots [{low}, {high}]")
    knots = np.r_[[low] * 4, np.sort(interior_knots), [high] * 4]
    n_splines = len(knots) - 4
    splines = BSpline(knots, np.eye(n_splines), 3)
    # Without an intercept `ns` drops the first B-spline, as R's `splines::ns` does.
    values = splines(x)[:, 1:]
    constraints = splines.derivative(2)(np.array([low, high]))[:, 1:]
    q, _ = np.linalg.qr(constraints.T, mode="complete")
    return values @ q[:, 2:]


def spline_features(x_train, d: int, boundary_knots=BOUNDARY) -> Callable[[np.ndarray],
                                                                            np.ndarray]:
    """The `d` features of the experiment, as a function of x: an intercept and a natural
    spline with `d - 1` degrees of freedom, whose `d - 2` interior knots lie at equally spaced
    quantiles of `x_train` (where `ns(x_train, df = d - 1)` puts them)."""
    if d < 2:
        raise ValueError(f"d must be at least 2 (an intercept and a slope), got {d}")
    interior = np.quantile(x_train, np.linspace(0, 1, d)[1:-1])

    def features(x):
        x = np.asarray(x, dtype=float)
        return np.column_stack([np.ones_like(x),
                                natural_spline_basis(x, interior, boundary_knots)])

    return features


def min_norm_fit(features: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Least-squares coefficients; of all that fit equally well (when there are at least as
    many features as observations, all interpolate), those of smallest Euclidean norm."""
    return np.linalg.lstsq(features, y, rcond=None)[0]


def sine_data(n: int, rng: np.random.Generator, sigma: float = 0.3, low: float = -5.0,
              high: float = 5.0) -> tuple[np.ndarray, np.ndarray]:
    """ISLR2's simulation: x uniform on [low, high], y = sin(x) + ε with ε ~ N(0, σ²)."""
    x = rng.uniform(low, high, n)
    return x, np.sin(x) + sigma * rng.standard_normal(n)


def double_descent(ds, n: int = 20, reps: int = 100, sigma: float = 0.3, seed: int = 0,
                   grid_size: int = 201) -> pd.DataFrame:
    """For each of `reps` draws of `n` training observations, fit the minimum-norm spline
    regression with each number of features d in `ds`. One row per fit: rep, d, train_mse
    (on the draw) and test_mse, the expected squared error on a new observation: σ² plus
    the mean of (fit − sin)² over `grid_size` equally spaced points of [−5, 5]. A fast run
    (`isldl.fast`) makes at most a few of the draws."""
    reps = fast.draws(reps)
    rng = np.random.default_rng(seed)
    grid = np.linspace(*BOUNDARY, grid_size)
    rows = []
    for rep in range(reps):
        x, y = sine_data(n, rng, sigma)
        both = np.r_[x, grid]  # one evaluation of the basis for both
        for d in ds:
            features = spline_features(x, d)(both)
            fitted = features @ min_norm_fit(features[:n], y)
            rows.append((rep, d, np.mean((y - fitted[:n]) ** 2),
                         sigma ** 2 + np.mean((np.sin(grid) - fitted[n:]) ** 2)))
    return pd.DataFrame(rows, columns=["rep", "d", "train_mse", "test_mse"])
