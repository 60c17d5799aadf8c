"""The lagged design of the NYSE time-series section: `lagm`, the AR frame, test R²."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .data.tables import r_scale

NYSE_SERIES = ["DJ_return", "log_volume", "log_volatility"]


def lagm(x: pd.DataFrame, k: int = 1) -> pd.DataFrame:
    """The source's `lagm`: x shifted down k rows, the first k rows missing; columns `Lk.name`."""
    return x.shift(k).add_prefix(f"L{k}.")


def ar_frame(nyse: pd.DataFrame, lags: int = 5) -> tuple[pd.DataFrame, np.ndarray]:
    """The response `log_volume` and `lags` lags of the three standardised series, with the
    rows that lack a lag dropped; and the training flag of the rows kept."""
    xdata = r_scale(nyse[NYSE_SERIES])
    frame = pd.concat([xdata[["log_volume"]]] + [lagm(xdata, k) for k in range(1, lags + 1)],
                      axis=1)
    return frame.iloc[lags:], nyse["train"].to_numpy()[lags:]


def test_r2(predicted, observed) -> float:
    """The source's test R²: 1 − mean squared error / var(observed), R's var (n − 1)."""
    observed = np.asarray(observed, dtype=float)
    predicted = np.asarray(predicted, dtype=float).reshape(observed.shape)
    return r2_from_mse(np.mean((predicted - observed) ** 2), observed)


def r2_from_mse(mse: float, observed) -> float:
    """The source's test R² of a fit whose mean squared error on `observed` is `mse` (a
    pinned fit's `test_loss`): 1 − mse / V0, V0 the variance of `observed` (R's var)."""
    return float(1 - mse / np.var(np.asarray(observed, dtype=float), ddof=1))
