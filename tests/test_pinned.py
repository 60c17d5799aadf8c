"""Pinned results: saved once, loaded after, never stale, never written by test runs."""

import numpy as np
import pytest
import torch
from torch import nn

import isldl
from isldl import models
from isldl.pinned import pin_key


@pytest.fixture
def problem():
    x = np.linspace(-1, 1, 50, dtype="float32")[:, None]
    y = 2 * x[:, 0]
    calls = []

    def train(model):
        calls.append(1)
        return isldl.fit(model, x, y, loss="mse", epochs=2)

    def evaluate(model):
        return {"mse": isldl.evaluate(model, x, y, loss="mse")["loss"]}

    return train, evaluate, calls


def make_model(hidden=4):
    isldl.set_seed(0)
    return models.single_layer_net(1, hidden, 0.0)


def test_trains_once_then_loads(tmp_path, problem):
    train, evaluate, calls = problem
    first = isldl.pinned("m", make_model(), train, {"epochs": 2}, evaluate=evaluate,
                         results=tmp_path)
    assert not first.loaded and len(calls) == 1
    assert {p.name for p in (tmp_path / "m").iterdir()} == {"model.pt", "history.csv", "pin.json"}
    second = isldl.pinned("m", make_model(), train, {"epochs": 2}, evaluate=evaluate,
                          results=tmp_path)
    assert second.loaded and len(calls) == 1
    assert second.metrics == first.metrics == second.recorded["metrics"]
    for a, b in zip(first.model.parameters(), second.model.parameters()):
        assert torch.equal(a.cpu(), b.cpu())
    np.testing.assert_allclose(second.history["loss"], first.history["loss"], rtol=1e-6)


def test_a_new_config_or_architecture_retrains(tmp_path, problem):
    train, evaluate, calls = problem
    isldl.pinned("m", make_model(), train, {"epochs": 2}, evaluate=evaluate, results=tmp_path)
    assert not isldl.pinned("m", make_model(), train, {"epochs": 3}, evaluate=evaluate,
                            results=tmp_path).loaded
    assert not isldl.pinned("m", make_model(hidden=5), train, {"epochs": 3},
                            evaluate=evaluate, results=tmp_path).loaded
    assert len(calls) == 3


def test_retrain_trains_even_when_the_key_matches(tmp_path, problem):
    train, evaluate, calls = problem
    isldl.pinned("m", make_model(), train, {}, evaluate=evaluate, results=tmp_path)
    assert not isldl.pinned("m", make_model(), train, {}, evaluate=evaluate, results=tmp_path,
                            retrain=True).loaded
    assert len(calls) == 2


def test_save_false_writes_nothing(tmp_path, problem):
    train, evaluate, _ = problem
    fit = isldl.pinned("m", make_model(), train, {}, evaluate=evaluate, results=tmp_path,
                       save=False)
    assert not fit.loaded and not (tmp_path / "m").exists()


def test_an_incomplete_result_is_not_loaded(tmp_path, problem):
    train, evaluate, calls = problem
    isldl.pinned("m", make_model(), train, {}, evaluate=evaluate, results=tmp_path)
    (tmp_path / "m" / "pin.json").unlink()  # as if the save had been interrupted
    assert not isldl.pinned("m", make_model(), train, {}, evaluate=evaluate,
                            results=tmp_path).loaded


def test_key_depends_on_config_and_architecture():
    base = pin_key(make_model(), {"epochs": 2})
    assert pin_key(make_model(), {"epochs": 2}) == base
    assert pin_key(make_model(), {"epochs": 3}) != base
    assert pin_key(nn.Sequential(nn.Linear(1, 1)), {"epochs": 2}) != base


def test_key_depends_on_the_initial_weights():
    isldl.set_seed(0)
    first = models.single_layer_net(1, 4, 0.0)
    isldl.set_seed(1)
    assert pin_key(models.single_layer_net(1, 4, 0.0), {}) != pin_key(first, {})
