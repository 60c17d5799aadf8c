"""The lasso as R's glmnet fits it: Gaussian (`cv.glmnet`) and logistic (a path of penalties).

Both run glmnet's own algorithm as its authors publish it for Python: the package glmstar
(Hastie, Taylor, Balasubramanian, Yang; the package ISLP uses), whose module is named
`glmnet`. Where glmstar has no wheel (Linux on ARM, older Macs), or where another package
that calls its module `glmnet` stands in its place (python-glmnet), scikit-learn minimises the
same objectives along the same paths instead: `default_solver()` says which runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import lasso_path

SOLVERS = ("glmnet", "scikit-learn")


def default_solver() -> str:
    """"glmnet" where glmstar's path estimators can be imported, else "scikit-learn".

    Chosen by what the module can do, not by its name: python-glmnet (an older port) also
    installs a module `glmnet`, without glmstar's `GaussNet` and `LogNet`."""
    try:
        from glmnet import GaussNet, LogNet  # noqa: F401
    except ImportError:
        return "scikit-learn"
    return "glmnet"


@dataclass
class LassoFit:
    """A lasso fit on the original scale of the inputs: `predict(x)` = intercept + x @ coef."""

    intercept: float
    coef: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.intercept + x @ self.coef


@dataclass
class CVLasso:
    """Cross-validated lasso: the penalty path and the fits along it (on all training rows),
    the CV error and its standard error at each penalty, the best λ, and the solver."""

    lambdas: np.ndarray
    intercepts: np.ndarray
    coefs: np.ndarray  # (n_lambda, n_features)
    cv_mean: np.ndarray
    cv_se: np.ndarray
    solver: str

    @property
    def lambda_min(self) -> float:
        """R's `lambda.min`: the largest λ with the smallest CV error."""
        return float(self.lambdas[self.cv_mean <= self.cv_mean.min()].max())

    @property
    def n_nonzero(self) -> np.ndarray:
        return np.count_nonzero(self.coefs, axis=1)

    def at(self, lam: float) -> LassoFit:
        """The fit at a penalty of the path, as R's `predict(cvfit, s = lam)` uses it."""
        [index] = np.flatnonzero(np.isclose(self.lambdas, lam, rtol=1e-12, atol=0))
        return LassoFit(float(self.intercepts[index]), self.coefs[index])

    @property
    def fit(self) -> LassoFit:
        """The fit at `lambda_min`."""
        return self.at(self.lambda_min)


def cv_lasso(x: np.ndarray, y: np.ndarray, folds: np.ndarray, naive: bool = True,
             thresh: float = 1e-7, solver: str | None = None) -> CVLasso:
    """`cv.glmnet(x, y, foldid = folds, type.measure = "mae")`: the path of penalties on all
    rows, refitted with each fold held out, scored by the mean absolute error.

    glmnet stops each fit when no coefficient moves by more than `thresh` times the null
    deviance; its "naive" updates (`type.gaussian = "naive"`) and its covariance updates
    (`naive=False`) stop at slightly different points, which moves a test error in its fourth
    digit. A smaller `thresh` takes both to the exact lasso solution. With
    `solver="scikit-learn"`, the path is glmnet's default one of 100 penalties, converged
    tightly.
    """
    if _checked(solver) == "glmnet":
        from glmnet import GaussNet
        from glmnet.paths.fastnet import FastNetControl
        from sklearn.model_selection import PredefinedSplit

        model = GaussNet(covariance=not naive, control=FastNetControl(thresh=thresh))
        model.fit(x, y)
        _, path = model.cross_validation_path(x, y, cv=PredefinedSplit(folds))
        scores = path.scores
        return CVLasso(model.lambda_values_, model.intercepts_, model.coefs_,
                       scores["Mean Absolute Error"].to_numpy(),
                       scores["SD(Mean Absolute Error)"].to_numpy(), "glmnet")
    return _cv_lasso_scikit_learn(x, y, folds)


def _checked(solver: str | None) -> str:
    solver = solver or default_solver()
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(map(repr, SOLVERS))}, "
                         f"got {solver!r}")
    return solver


def _standardise(x: np.ndarray):
    mean, sd = x.mean(axis=0), x.std(axis=0)  # glmnet: the 1/n standard deviation
    return (x - mean) / sd, mean, sd


def smallest_ratio(x) -> float:
    """glmnet's `lambda.min.ratio`: the path ends at 10⁻² of the largest λ when there are fewer
    rows than columns (further, the fit would interpolate the data), else at 10⁻⁴."""
    return 1e-2 if x.shape[0] < x.shape[1] else 1e-4


def _scikit_learn_path(x: np.ndarray, y: np.ndarray, lambdas: np.ndarray):
    """The Gaussian lasso at each λ, glmnet's standardisation included: (intercepts, coefs)."""
    z, mean, sd = _standardise(x)
    _, betas, _ = lasso_path(z, y - y.mean(), alphas=lambdas, tol=1e-10, max_iter=100_000)
    coefs = (betas / sd[:, None]).T  # back to the original scale of x
    return y.mean() - coefs @ mean, coefs


def _cv_lasso_scikit_learn(x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> CVLasso:
    """`cv_lasso` with scikit-learn's `lasso_path`, which minimises glmnet's objective
    (1/2n)·RSS + λ·Σ|β_j| on glmnet's full path of 100 penalties, converged tightly."""
    z, _, _ = _standardise(x)
    lambda_max = np.abs(z.T @ (y - y.mean())).max() / len(y)
    lambdas = lambda_max * np.logspace(0, np.log10(smallest_ratio(x)), 100)
    fold_ids = np.unique(folds)
    fold_mae = np.empty((len(fold_ids), len(lambdas)))
    for row, fold in enumerate(fold_ids):
        held_out = folds == fold
        intercepts, coefs = _scikit_learn_path(x[~held_out], y[~held_out], lambdas)
        predicted = x[held_out] @ coefs.T + intercepts
        fold_mae[row] = np.abs(y[held_out, None] - predicted).mean(axis=0)
    sizes = np.array([(folds == f).sum() for f in fold_ids])
    cv_mean = np.average(fold_mae, axis=0, weights=sizes)
    cv_se = np.sqrt(np.average((fold_mae - cv_mean) ** 2, axis=0, weights=sizes)
                    / (len(fold_ids) - 1))
    return CVLasso(lambdas, *_scikit_learn_path(x, y, lambdas), cv_mean, cv_se, "scikit-learn")


@dataclass
class LogisticLassoPath:
    """Lasso logistic regressions along a path of penalties, largest λ first, and the solver
    that computed them ("glmnet" or "scikit-learn")."""

    lambdas: np.ndarray
    intercepts: np.ndarray
    coefs: np.ndarray  # (n_lambda, n_features)
    solver: str

    def __post_init__(self):
        self.solver = str(self.solver)  # a pinned result.npz holds it as a NumPy string

    def decision(self, x) -> np.ndarray:
        """Linear predictors (log-odds), one column per λ."""
        return np.asarray(x @ self.coefs.T) + self.intercepts


def logistic_lasso_path(x, y: np.ndarray, n_lambda: int = 100, ratio: float | None = None,
                        solver: str | None = None,
                        progress: bool | None = None) -> LogisticLassoPath:
    """`glmnet(x, y, family = "binomial", standardize = FALSE)`: glmnet's path and stopping rule.

    glmnet minimises −(1/n)·log-likelihood + λ·Σ|β_j|. Its default path has 100 penalties
    from the smallest λ that zeroes every coefficient down to `ratio` of it (by default
    `smallest_ratio(x)`), each fit starting from the last, and it stops early once the fraction
    of the deviance explained passes 0.999 or grows by less than 10⁻⁵ of itself.

    `solver="glmnet"` runs glmstar's `LogNet`, glmnet's algorithm on the sparse matrix as it
    is: the IMDb path takes seconds. `solver="scikit-learn"` fits the same objective and path
    with liblinear, one penalty at a time from zero (minutes, with a progress bar). The
    default is `default_solver()`.
    """
    if n_lambda < 3:
        raise ValueError(f"n_lambda must be at least 3 (glmnet's first penalty is extrapolated "
                         f"from the next two), got {n_lambda}")
    ratio = smallest_ratio(x) if ratio is None else ratio
    if _checked(solver) == "glmnet":
        return _glmnet_path(x, y, n_lambda, ratio)
    return _liblinear_path(x, y, n_lambda, ratio, progress)


def _glmnet_path(x, y: np.ndarray, n_lambda: int, ratio: float) -> LogisticLassoPath:
    from glmnet import LogNet

    # glmstar's sparse solver takes float64 values; the matrix stays sparse
    x = x.astype(np.float64) if hasattr(x, "astype") else x
    model = LogNet(standardize=False, nlambda=n_lambda, lambda_min_ratio=ratio).fit(x, y)
    return LogisticLassoPath(model.lambda_values_, model.intercepts_, model.coefs_, "glmnet")


def _liblinear_path(x, y: np.ndarray, n_lambda: int, ratio: float,
                    progress: bool | None) -> LogisticLassoPath:
    """glmnet's path with liblinear, whose objective is glmnet's with C = 1/(nλ).

    liblinear penalises the intercept too, so it is given a large `intercept_scaling`, which
    makes that penalty negligible. It visits the coefficients in a random order: a fixed
    `random_state` makes the path the same on every run, whatever ran before it.
    """
    from sklearn.linear_model import LogisticRegression
    from tqdm import tqdm

    n = x.shape[0]
    lambda_max = np.abs(x.T @ (y - y.mean())).max() / n
    lambdas = lambda_max * np.logspace(0, np.log10(ratio), n_lambda)
    null_deviance = _deviance(y, np.full(n, y.mean()))
    intercepts, coefs, explained = [], [], []
    for lam in tqdm(lambdas, desc="lasso path", disable=None if progress is None else not progress):
        model = LogisticRegression(**_l1_penalty(), solver="liblinear", C=1.0 / (n * lam),
                                   intercept_scaling=100.0, tol=1e-4, max_iter=1000,
                                   random_state=0).fit(x, y)
        intercepts.append(model.intercept_[0])
        coefs.append(model.coef_[0])
        explained.append(1 - _deviance(y, model.predict_proba(x)[:, 1]) / null_deviance)
        if len(explained) >= 5 and (explained[-1] > 0.999
                                    or explained[-1] - explained[-2] < 1e-5 * explained[-1]):
            break  # glmnet's rule (fdev, devmax): the rest of the path would change nothing
    return LogisticLassoPath(lambdas[:len(coefs)], np.array(intercepts), np.array(coefs),
                             "scikit-learn")


def _l1_penalty() -> dict:
    """How this scikit-learn spells an L1 penalty: `l1_ratio=1` from 1.8, which deprecates
    `penalty`; `penalty="l1"` before (1.7 is the last release for Python 3.10), where a lone
    `l1_ratio` is ignored."""
    import re

    import sklearn

    major, minor = (int(part) for part in re.match(r"(\d+)\.(\d+)", sklearn.__version__).groups())
    return {"l1_ratio": 1.0} if (major, minor) >= (1, 8) else {"penalty": "l1"}


def _deviance(y: np.ndarray, p: np.ndarray) -> float:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return float(-2 * np.sum(y * np.log(p) + (1 - y) * np.log(1 - p)))
