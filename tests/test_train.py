"""The training loop: it learns, its history, Keras' validation split, quiet progress."""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from torch import nn

import isldl
from isldl import models
from isldl.train import KERAS_RMSPROP, rmsprop, split_validation

FIXTURES = Path(__file__).parent / "fixtures"
# Keras 3's RMSprop belongs to chapter 6's optimiser study, beside it in benchmarks/.
sys.path.insert(0, str(Path(__file__).parents[1] / "benchmarks"))
from keras3_rmsprop import Keras3RMSprop  # noqa: E402


def line_data(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    return x, x @ np.array([1.0, -2.0, 0.5], dtype="float32") + 0.3


def test_a_tiny_model_learns_a_linear_function():
    x, y = line_data()
    isldl.set_seed(0)
    model = isldl.keras_init(nn.Linear(3, 1))
    history = isldl.fit(model, x, y, loss="mse", metrics=("mae",), epochs=60, batch_size=16,
                        optimizer=rmsprop(model, lr=1e-2))
    assert history["loss"].iloc[-1] < 0.01 * history["loss"].iloc[0]
    assert isldl.evaluate(model, x, y, loss="mse")["loss"] < 1e-3


def test_history_has_a_row_per_epoch_and_keras_columns():
    x, y = line_data()
    history = isldl.fit(models.single_layer_net(3, 4, 0.0), x, y, loss="mse", metrics=("mae",),
                        epochs=4, validation_split=0.25)
    assert isinstance(history, pd.DataFrame)
    assert list(history.columns) == ["loss", "mae", "val_loss", "val_mae"]
    assert list(history.index) == [1, 2, 3, 4]


def test_validation_split_takes_the_last_rows_unshuffled():
    x, y = np.arange(10)[:, None], np.arange(10)
    (x_fit, y_fit), (x_val, y_val) = split_validation(x, y, 0.2)
    assert y_fit.tolist() == list(range(8)) and y_val.tolist() == [8, 9]
    with pytest.raises(ValueError, match="validation_split"):
        split_validation(x, y, 1.5)


def test_validation_metrics_are_those_of_the_last_rows():
    x, y = line_data()
    model = models.single_layer_net(3, 4, 0.0)
    history = isldl.fit(model, x, y, loss="mse", epochs=1, validation_split=0.2)
    assert history["val_loss"].iloc[-1] == pytest.approx(
        isldl.evaluate(model, x[160:], y[160:], loss="mse")["loss"], rel=1e-5)


def test_rmsprop_has_the_defaults_of_keras_2_10():
    optimizer = rmsprop(nn.Linear(2, 1))
    assert isinstance(optimizer, torch.optim.RMSprop)
    group = optimizer.param_groups[0]
    assert (group["lr"], group["alpha"], group["eps"], group["momentum"]) == (1e-3, 0.9, 1e-7, 0)
    assert not group["centered"] and group["weight_decay"] == 0
    assert rmsprop(nn.Linear(2, 1), lr=0.01).param_groups[0]["lr"] == 0.01


def replay(make_optimizer, start, gradients) -> torch.Tensor:
    weight = nn.Parameter(torch.tensor(start))
    optimizer = make_optimizer([weight])
    for gradient in gradients:
        weight.grad = torch.tensor(gradient)
        optimizer.step()
    return weight.detach()


def dense(shape, rows, values) -> list:
    """A sparse gradient (rows and their values; a row given twice counts twice) as the dense
    gradient that autograd computes for an embedding."""
    gradient = torch.zeros(shape)
    gradient.index_add_(0, torch.tensor(rows), torch.tensor(values))
    return gradient.tolist()


KERAS = json.loads((FIXTURES / "keras_rmsprop.json").read_text())
SOURCES = {"keras_2_10": lambda params: torch.optim.RMSprop(params, **KERAS_RMSPROP),
           "keras_3": Keras3RMSprop}


def test_rmsprop_steps_as_the_sources_keras_does():
    """The same gradients give the weights that Keras 2.10's RMSprop gave, densely and on an
    embedding's sparse gradients (tests/fixtures/keras_rmsprop.py wrote them with tf_keras'
    legacy optimizer); Keras 3's form does not."""
    keras_2_10 = torch.tensor(KERAS["keras_2_10"]["weights"])
    ours = replay(SOURCES["keras_2_10"], KERAS["start"], KERAS["gradients"])
    torch.testing.assert_close(ours, keras_2_10, rtol=1e-6, atol=1e-7)
    shape = torch.tensor(KERAS["sparse_start"]).shape
    sparse = [dense(shape, rows, values) for rows, values in KERAS["sparse_steps"]]
    torch.testing.assert_close(replay(SOURCES["keras_2_10"], KERAS["sparse_start"], sparse),
                               torch.tensor(KERAS["keras_2_10"]["sparse_weights"]),
                               rtol=1e-6, atol=1e-7)
    # isldl.rmsprop, isldl.fit's default, is that optimizer
    assert type(rmsprop(nn.Linear(4, 1))) is torch.optim.RMSprop


def test_the_keras_3_form_steps_as_keras_3_does():
    keras_3 = torch.tensor(KERAS["keras_3"]["weights"])
    torch.testing.assert_close(replay(Keras3RMSprop, KERAS["start"], KERAS["gradients"]),
                               keras_3, rtol=1e-6, atol=1e-7)
    keras_2_10 = torch.tensor(KERAS["keras_2_10"]["weights"])
    # The two forms part ways on the rare weights (tiny, sparse gradients), not the others:
    gap = (keras_3 - keras_2_10).abs()
    assert gap[:2].max() < 1e-5 and gap[2:].min() > 1e-3


@pytest.mark.parametrize("bad", [{"lr": 0.0}, {"rho": 1.0}, {"eps": -1.0}])
def test_the_keras_3_form_rejects_bad_settings(bad):
    with pytest.raises(ValueError, match=rf"^Keras3RMSprop: {next(iter(bad))}=-?[\d.]+ \("):
        Keras3RMSprop(nn.Linear(2, 1).parameters(), **bad)


def test_keras_init_zeroes_biases_and_bounds_weights():
    layer = isldl.keras_init(nn.Linear(100, 50))
    assert torch.all(layer.bias == 0)
    assert layer.weight.abs().max() <= np.sqrt(6 / 150)


def test_fit_repeats_exactly_with_the_same_seed():
    x, y = line_data()
    runs = []
    for _ in range(2):
        isldl.set_seed(1)
        runs.append(isldl.fit(models.single_layer_net(3, 4, 0.5), x, y, loss="mse", epochs=3,
                              seed=1))
    pd.testing.assert_frame_equal(runs[0], runs[1])


def test_a_shorter_fit_is_the_start_of_a_longer_one():
    """Chapter 6 reads its 3-epoch result off the first three epochs of its 10-epoch fit."""
    words = torch.randint(0, 50, (96, 12), generator=torch.Generator().manual_seed(0))
    labels = (words < 10).sum(1).gt(1).float()
    fits = []
    for epochs in (2, 4):
        isldl.set_seed(3)
        model = models.ImdbLSTM(n_words=50, dim=4, units=3)
        history = isldl.fit(model, words, labels, loss="binary_crossentropy",
                            metrics=("accuracy",), validation_data=(words[:40], labels[:40]),
                            epochs=epochs, batch_size=16, seed=3)
        fits.append((model, history))
    (short, short_history), (_, long_history) = fits
    pd.testing.assert_frame_equal(short_history, long_history.iloc[:2])
    # the history's validation accuracy is the model's accuracy on those rows
    predicted = isldl.predict(short, words[:40], batch_size=7)[:, 0] > 0
    assert short_history["val_accuracy"].iloc[-1] == (predicted == labels[:40].numpy()).mean()


def test_classification_with_sparse_inputs():
    rng = np.random.default_rng(0)
    dense = (rng.random((300, 40)) < 0.1).astype("float32")
    labels = (dense[:, :5].sum(1) > 0).astype("int64")
    model = isldl.keras_init(nn.Linear(40, 2))
    history = isldl.fit(model, sp.csr_matrix(dense), labels, loss="categorical_crossentropy",
                        metrics=("accuracy",), epochs=40, optimizer=rmsprop(model, lr=1e-2))
    assert history["accuracy"].iloc[-1] > 0.9
    sparse_out = isldl.predict(model, sp.csr_matrix(dense))
    np.testing.assert_allclose(sparse_out, isldl.predict(model, dense), rtol=1e-6)
    with torch.no_grad():
        np.testing.assert_allclose(sparse_out, model.cpu()(torch.from_numpy(dense)).numpy(),
                                   rtol=1e-5, atol=1e-6)


def test_progress_bar_is_quiet_when_not_a_terminal(capsys):
    x, y = line_data(20)
    isldl.fit(models.single_layer_net(3, 2, 0.0), x, y, loss="mse", epochs=2)
    assert capsys.readouterr().err == ""
    isldl.fit(models.single_layer_net(3, 2, 0.0), x, y, loss="mse", epochs=2, verbose=True)
    assert "epochs" in capsys.readouterr().err


def test_bad_arguments_are_named():
    x, y = line_data(20)
    model = models.single_layer_net(3, 2, 0.0)
    with pytest.raises(ValueError, match="loss must be one of"):
        isldl.fit(model, x, y, loss="hinge", epochs=1)
    with pytest.raises(ValueError, match="unknown metrics"):
        isldl.fit(model, x, y, loss="mse", metrics=("auc",), epochs=1)
    with pytest.raises(ValueError, match="not both"):
        isldl.fit(model, x, y, loss="mse", epochs=1, validation_split=0.2,
                  validation_data=(x, y))


def test_summary_counts_parameters():
    assert isldl.n_parameters(models.single_layer_net(10)) == 601
    assert isldl.summary(models.single_layer_net(20), (1, 20)).trainable == 1101



def test_fit_flushes_denormals_on_the_cpu_and_restores_the_setting(spy_model):
    seen = []
    x = np.ones((8, 1), dtype="float32")
    for before in (False, True):
        torch.set_flush_denormal(before)
        model = spy_model(lambda m, x: seen.append(isldl.train.flush_denormal_is_on()))
        isldl.fit(model, x, x[:, 0], loss="mse", epochs=1, batch_size=4,
                  device=torch.device("cpu"))
        assert seen and all(seen) and isldl.train.flush_denormal_is_on() == before
        seen.clear()
    torch.set_flush_denormal(False)


def test_the_cnn_pools_before_its_relus_and_computes_the_sources_order():
    cnn = models.cifar_cnn(n_classes=10)
    kinds = [type(layer).__name__ for layer in cnn][:12]
    assert kinds == ["Conv2d", "MaxPool2d", "ReLU"] * 4
    source_order = models.in_source_order(cnn).eval()
    assert [type(layer).__name__ for layer in source_order][:3] == ["Conv2d", "ReLU", "MaxPool2d"]
    cnn.eval()
    x = torch.randn(4, 3, 32, 32)
    outputs = []
    for model in (cnn, source_order):
        model.zero_grad()
        out = model(x)
        out.square().sum().backward()
        outputs.append((out.detach(), [p.grad.clone() for p in model.parameters()]))
    (ours, our_grads), (theirs, their_grads) = outputs
    assert torch.equal(ours, theirs)
    assert all(torch.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(our_grads, their_grads))


def test_a_second_fit_goes_on_from_the_weights_the_model_has():
    """Chapter 1: "calling fit() a second time on the same model picks up where the first
    call left off"."""
    x, y = line_data()
    isldl.set_seed(0)
    model = isldl.keras_init(nn.Linear(3, 1))
    first = isldl.fit(model, x, y, loss="mse", epochs=5, batch_size=16)
    second = isldl.fit(model, x, y, loss="mse", epochs=1, batch_size=16)
    assert second["loss"].iloc[0] < first["loss"].iloc[-1] < first["loss"].iloc[0]
