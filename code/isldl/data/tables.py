"""The two ISLR2 tables of the lab, Hitters and NYSE, and the source's R splits of them.

Both CSV files ship inside the package (`isldl/data/csv/`, read with `importlib.resources`),
copied from the ISLP package, so they need no download and no checkout of the book. The split
files hold what R drew in the source's session (1-based indices, as R writes them); the helpers
here return 0-based positions.
"""

from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd

from .files import DataError

HITTERS_FACTORS = ["League", "Division", "NewLeague"]
TABLES = files(__package__).joinpath("csv")
"""The package's own folder of CSV files (package data)."""


def _read_csv(name: str, **kwargs) -> pd.DataFrame:
    path = TABLES.joinpath(name)
    if not path.is_file():
        raise DataError(f"{path} is missing: it ships with the isldl package; reinstall it "
                        f"(in a checkout, restore it with git).")
    if int(pd.__version__.split(".")[0]) < 3:
        # pandas 3 reads a float correctly rounded; pandas 2's default parser can miss by the
        # last bit (Hitters' 933.3330000000001 became 933.333), which changes the data, and so
        # the pins' keys, with the version of pandas. Its exact parser agrees with pandas 3.
        kwargs.setdefault("float_precision", "round_trip")
    try:
        return pd.read_csv(path, **kwargs)
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise DataError(f"{path} could not be read as CSV: {err}") from err


def load_hitters(dropna: bool = True) -> pd.DataFrame:
    """ISLR2's `Hitters`: 322 players, or the 263 with a salary (R's `na.omit`) by default.

    League, Division and NewLeague are categorical, with R's (alphabetical) level order.
    """
    frame = _read_csv("Hitters.csv")
    for column in HITTERS_FACTORS:
        frame[column] = pd.Categorical(frame[column], categories=sorted(frame[column].unique()))
    if dropna:
        frame = frame.dropna().reset_index(drop=True)
    return frame


def _positions(name: str, column: str) -> np.ndarray:
    return _read_csv(name)[column].to_numpy() - 1


def hitters_test_positions() -> np.ndarray:
    """The source's 87 test rows of the 263 (`set.seed(13); sample(1:263, 87)`), 0-based."""
    return _positions("hitters_testid.csv", "testid")


def hitters_cv_folds() -> np.ndarray:
    """The fold (1..10) of each of the 176 training rows, as `cv.glmnet` drew them in the source."""
    return _read_csv("hitters_cv_foldid.csv")["foldid"].to_numpy()


def imdb_validation_positions() -> np.ndarray:
    """The source's 2,000 IMDb validation reviews (`set.seed(3)`), 0-based."""
    return _positions("imdb_ival.csv", "ival")


def hitters_model_matrix(frame: pd.DataFrame) -> pd.DataFrame:
    """R's `model.matrix(Salary ~ . - 1)`: numeric columns as they are; without an intercept the
    first factor (League) gets a column per level and the others one column per non-first level.
    """
    columns = {}
    first_factor = True
    for name in frame.columns.drop("Salary"):
        if name not in HITTERS_FACTORS:
            columns[name] = frame[name].astype(float)
            continue
        levels = frame[name].cat.categories
        for level in levels if first_factor else levels[1:]:
            columns[f"{name}{level}"] = (frame[name] == level).astype(float)
        first_factor = False
    return pd.DataFrame(columns)


def r_scale(x: pd.DataFrame | np.ndarray):
    """R's `scale()`: centre each column and divide by its sample (n - 1) standard deviation."""
    return (x - x.mean(axis=0)) / x.std(axis=0, ddof=1)


def load_nyse() -> pd.DataFrame:
    """ISLR2's `NYSE`: 6,051 trading days, 1962-12-03 to 1986-12-31, with a `train` flag."""
    frame = _read_csv("NYSE.csv", parse_dates=["date"])
    frame["train"] = frame["train"].astype(bool)
    return frame
