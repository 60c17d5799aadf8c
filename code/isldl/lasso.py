"""The lasso as R's glmnet fits it: Gaussian (`cv.glmnet`) and logistic (a path of penalties).

glmnet minimises (1/2n)·RSS + λ·Σ|β_j| on columns standardised with their 1/n standard
deviation (then maps the coefficients back), over a default path of 100 penalties from the
smallest λ that zeroes every coefficient down to 1e-4 of it (when n > p). `cv.glmnet` computes
that path once on all the training rows, then refits it with each fold held out in turn.
scikit-learn's `Lasso` minimises the same objective, so the recipe carries over exactly. The
logistic path is glmnet's own Fortran code where python-glmnet can be installed (see
`logistic_lasso_path`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.linear_model import Lasso, lasso_path


@dataclass
class LassoFit:
    """A lasso fit on the original scale of the inputs: `predict(x)` = intercept + x @ coef."""

    intercept: float
    coef: np.ndarray

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.intercept + x @ self.coef


@dataclass
class CVLasso:
    """Cross-validated lasso: the penalty path, CV error and its standard error, and the best λ."""

    lambdas: np.ndarray
    cv_mean: np.ndarray
    cv_se: np.ndarray
    n_nonzero: np.ndarray
    lambda_min: float
    fit: LassoFit  # refitted on all training rows at lambda_min


def _standardise(x: np.ndarray):
    mean, sd = x.mean(axis=0), x.std(axis=0)  # glmnet: the 1/n standard deviation
    return (x - mean) / sd, mean, sd


def glmnet_lambdas(x: np.ndarray, y: np.ndarray, n_lambda: int = 100) -> np.ndarray:
    """glmnet's default penalty path for the Gaussian lasso."""
    z, _, _ = _standardise(x)
    lambda_max = np.abs(z.T @ (y - y.mean())).max() / len(y)
    return lambda_max * np.logspace(0, np.log10(smallest_ratio(x)), n_lambda)


def smallest_ratio(x) -> float:
    """glmnet's `lambda.min.ratio`: the path ends at 10⁻² of the largest λ when there are fewer
    rows than columns (further, the fit would interpolate the data), else at 10⁻⁴."""
    return 1e-2 if x.shape[0] < x.shape[1] else 1e-4


def _path(x: np.ndarray, y: np.ndarray, lambdas: np.ndarray) -> list[LassoFit]:
    z, mean, sd = _standardise(x)
    _, coefs, _ = lasso_path(z, y - y.mean(), alphas=lambdas, tol=1e-10, max_iter=100_000)
    fits = []
    for beta in coefs.T:  # back to the original scale of x
        coef = beta / sd
        fits.append(LassoFit(y.mean() - mean @ coef, coef))
    return fits


def fit_lasso(x: np.ndarray, y: np.ndarray, lam: float) -> LassoFit:
    """The lasso at one penalty λ, glmnet's standardisation included."""
    z, mean, sd = _standardise(x)
    model = Lasso(alpha=lam, tol=1e-10, max_iter=100_000).fit(z, y - y.mean())
    coef = model.coef_ / sd
    return LassoFit(y.mean() - mean @ coef, coef)


def cv_lasso(x: np.ndarray, y: np.ndarray, folds: np.ndarray) -> CVLasso:
    """`cv.glmnet(x, y, foldid = folds, type.measure = "mae")`: mean absolute CV error."""
    lambdas = glmnet_lambdas(x, y)
    fold_ids = np.unique(folds)
    fold_mae = np.empty((len(fold_ids), len(lambdas)))
    for row, fold in enumerate(fold_ids):
        held_out = folds == fold
        fits = _path(x[~held_out], y[~held_out], lambdas)
        fold_mae[row] = [np.abs(y[held_out] - f.predict(x[held_out])).mean() for f in fits]
    sizes = np.array([(folds == f).sum() for f in fold_ids])
    cv_mean = np.average(fold_mae, axis=0, weights=sizes)
    cv_se = np.sqrt(np.average((fold_mae - cv_mean) ** 2, axis=0, weights=sizes)
                    / (len(fold_ids) - 1))
    lambda_min = lambdas[cv_mean <= cv_mean.min()].max()
    n_nonzero = np.array([np.count_nonzero(f.coef) for f in _path(x, y, lambdas)])
    return CVLasso(lambdas, cv_mean, cv_se, n_nonzero, lambda_min, fit_lasso(x, y, lambda_min))


@dataclass
class LogisticLassoPath:
    """Lasso logistic regressions along a path of penalties, largest λ first, and the solver
    that computed them ("glmnet" or "liblinear")."""

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

    `solver="glmnet"` runs glmnet's own Fortran code, the copy that the python-glmnet package
    bundles (its wheels are built for Linux on x86-64): the IMDb path takes seconds.
    `solver="liblinear"` fits the same objective and path with scikit-learn, one penalty at a
    time from zero (minutes, with a progress bar). The default is `default_solver()`.
    """
    if n_lambda < 3:
        raise ValueError(f"n_lambda must be at least 3 (glmnet's first penalty is extrapolated "
                         f"from the next two), got {n_lambda}")
    ratio = smallest_ratio(x) if ratio is None else ratio
    solver = solver or default_solver()
    if solver == "glmnet":
        return _glmnet_path(x, y, n_lambda, ratio)
    if solver == "liblinear":
        return _liblinear_path(x, y, n_lambda, ratio, progress)
    raise ValueError(f"solver must be 'glmnet' or 'liblinear', got {solver!r}")


def default_solver() -> str:
    """"glmnet" where python-glmnet can be imported, else "liblinear"."""
    try:
        import glmnet  # noqa: F401
    except ImportError:
        return "liblinear"
    return "glmnet"


def _glmnet_path(x, y: np.ndarray, n_lambda: int, ratio: float) -> LogisticLassoPath:
    from glmnet import LogitNet

    model = LogitNet(alpha=1.0, n_lambda=n_lambda, min_lambda_ratio=ratio, standardize=False,
                     n_splits=0).fit(x, y)  # n_splits=0: the path alone, no cross-validation
    return LogisticLassoPath(model.lambda_path_, model.intercept_path_[0],
                             model.coef_path_[0].T, "glmnet")


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
                             "liblinear")


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
