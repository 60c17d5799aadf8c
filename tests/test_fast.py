"""`isldl.fast`: what a fast run trains instead of what a page shows, and only in a fast run."""

import numpy as np
import pytest

from isldl import fast, state
from isldl.source import registry


@pytest.fixture
def fast_run():
    state.begin(None, "fast")
    yield
    state.begin(None, "load")


@pytest.fixture
def load_run():  # the state is the process's: an earlier test may have left another mode
    state.begin(None, "load")


def arrays(n):
    return np.arange(n), np.arange(n) * 2


def test_a_page_runs_as_written_outside_a_fast_run(load_run):
    x, y = arrays(25_000)
    settings = {"epochs": 20, "validation_data": arrays(2_000)}
    got = fast.fit_inputs("05-imdb-dense", x, y, (x, y), settings)
    assert got[0] is x and got[1] is y and got[3] is settings
    assert fast.draws(100) == 100


def test_a_fast_run_takes_the_fits_epochs_and_first_examples(fast_run):
    entry = registry("fast.yaml")["fits"]["05-*"]
    x, y = arrays(25_000)
    settings = {"epochs": 20, "batch_size": 512, "validation_data": arrays(4_000)}
    x_fast, y_fast, test, settings_fast = fast.fit_inputs(
        "05-imdb-dense", x, y, arrays(25_000), settings)
    assert len(x_fast) == len(y_fast) == entry["examples"]
    assert [len(a) for a in test] == [entry["test_examples"]] * 2
    assert [len(a) for a in settings_fast["validation_data"]] == [entry["test_examples"]] * 2
    assert settings_fast["epochs"] == entry["epochs"] and settings_fast["batch_size"] == 512
    assert settings["epochs"] == 20  # the caller's settings are left as they were


def test_the_first_pattern_that_matches_wins_and_an_unlisted_fit_runs_as_written(fast_run):
    fits = registry("fast.yaml")["fits"]
    x, y = arrays(100)
    epochs = fast.fit_inputs("06-imdb-lstm-10", x, y, (x, y), {"epochs": 10})[3]["epochs"]
    assert epochs == fits["06-imdb-lstm-10"]["epochs"] != fits["06-*"]["epochs"]
    assert fast.fit_inputs("01-hitters-nn", x, y, (x, y), {"epochs": 600})[3]["epochs"] == 600
    assert len(fast.result_args("05-imdb-lasso-path", (np.arange(9_000),))[0]) == fits[
        "05-imdb-lasso-path"]["examples"]
    cap = registry("fast.yaml")["double_descent_draws"]
    assert fast.draws(100) == cap and fast.draws(cap - 1) == cap - 1
