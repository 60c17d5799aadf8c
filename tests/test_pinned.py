"""Pinned results: written only by `retrain`, loaded by `load`, never stale, never corrupt."""

import dataclasses
import inspect
import json
import os

import numpy as np
import pytest
import torch
from torch import nn

import isldl
from isldl import keys, machine, models, pinned, state, train
from isldl.keys import changed_parts, fit_key
from isldl.pinned import PinError, pinned_fit

X = np.linspace(-1, 1, 50, dtype="float32")[:, None]
Y = 2 * X[:, 0]


@pytest.fixture(autouse=True)
def load_mode_after():
    yield
    begin_run("load")


def begin_run(mode):
    state.begin("01-hitters", mode)


def make_model(hidden=4, seed=0):
    isldl.set_seed(seed)
    return models.single_layer_net(1, hidden, 0.0)


def fit_in(mode, results, model=None, x=X, **settings):
    begin_run(mode)
    settings = {"loss": "mse", "epochs": 2, "seed": 0} | settings
    return pinned_fit("01-m", model or make_model(), x, Y, test_data=(X, Y), results=results,
                      **settings)


def files(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_retrain_saves_and_load_loads_the_same_fit(tmp_path):
    first = fit_in("retrain", tmp_path)
    assert not first.loaded
    assert {p.name for p in (tmp_path / "01-m").iterdir()} == {"model.pt", "history.csv",
                                                                "pin.json"}
    second = fit_in("load", tmp_path)
    assert second.loaded
    record = json.loads((tmp_path / "01-m" / "pin.json").read_text())
    assert second.metrics == first.metrics == record["metrics"]
    for a, b in zip(first.model.parameters(), second.model.parameters()):
        assert torch.equal(a.cpu(), b.cpu())
    np.testing.assert_allclose(second.history["loss"], first.history["loss"], rtol=1e-6)
    assert set(record["files"]) == {"model.pt", "history.csv"}
    assert record["settings"] == {"loss": "mse", "epochs": 2, "seed": 0}
    assert record["precision"] == "float32"  # no mixed_precision asked for


@pytest.mark.parametrize("mode", ["load", "fast", "retrain", "update"])
def test_only_retrain_writes_into_current_results(tmp_path, mode):
    fit_in("retrain", tmp_path)
    before = files(tmp_path)
    fit = fit_in(mode, tmp_path, epochs=2)
    after = files(tmp_path)
    assert fit.loaded == (mode in ("load", "update"))
    if mode == "retrain":
        assert after.keys() == before.keys()  # written again, same files
    else:
        assert after == before


@pytest.mark.parametrize("damage", ["stale", "altered", "missing"])
def test_update_retrains_and_saves_a_pin_that_is_not_current(tmp_path, damage):
    fit_in("retrain", tmp_path)
    settings = {"epochs": 3} if damage == "stale" else {}
    if damage == "altered":
        (tmp_path / "01-m" / "history.csv").write_text("epoch,loss\n1,0\n")
    elif damage == "missing":
        (tmp_path / "01-m" / "pin.json").unlink()
    fit = fit_in("update", tmp_path, **settings)
    assert not fit.loaded
    again = fit_in("load", tmp_path, **settings)  # now current
    assert again.loaded and again.metrics == fit.metrics


def test_fast_trains_and_writes_nothing(tmp_path):
    fit = fit_in("fast", tmp_path)
    assert not fit.loaded and not (tmp_path / "01-m").exists()


def test_a_missing_pin_names_the_fit_and_the_command(tmp_path):
    with pytest.raises(PinError, match=r"no pinned result for the fit '01-m'.*"
                                       r"python -m isldl_book\.run chapters/01-hitters\.qmd "
                                       r"-p mode retrain"):
        fit_in("load", tmp_path)


@pytest.mark.parametrize("change, part", [
    ({"epochs": 3}, "settings"),
    ({"model": make_model(hidden=5)}, "architecture"),
    ({"model": make_model(seed=1)}, "initial_weights"),
    ({"x": X + 1}, "data"),
])
def test_a_stale_pin_says_what_changed(tmp_path, change, part):
    fit_in("retrain", tmp_path)
    with pytest.raises(PinError, match=rf"'01-m' is stale: its (.*, )?{part}(, .*)? changed"):
        fit_in("load", tmp_path, **change)


def test_a_change_to_the_training_code_makes_the_pin_stale(tmp_path, monkeypatch):
    fit_in("retrain", tmp_path)
    real = keys.fit_code
    monkeypatch.setattr(keys, "fit_code", lambda model: real(model) + "# edited")
    with pytest.raises(PinError, match="its code changed"):
        fit_in("load", tmp_path)


@pytest.mark.parametrize("file", ["model.pt", "history.csv"])
@pytest.mark.parametrize("damage", ["truncate", "alter", "delete"])
def test_a_damaged_file_is_named_with_the_fix(tmp_path, file, damage):
    fit_in("retrain", tmp_path)
    path = tmp_path / "01-m" / file
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:20])
    elif damage == "alter":
        path.write_bytes(path.read_bytes().replace(b"1", b"2", 1))
    else:
        path.unlink()
    with pytest.raises(PinError, match=rf"01-m/{file} .*git checkout.*-p mode retrain"):
        fit_in("load", tmp_path)


def test_a_broken_pin_json_is_named_with_the_fix(tmp_path):
    fit_in("retrain", tmp_path)
    (tmp_path / "01-m" / "pin.json").write_text('{"key": ')
    with pytest.raises(PinError, match=r"pin\.json is not valid JSON.*git checkout"):
        fit_in("load", tmp_path)


def test_missing_mode_trains_only_a_fit_recorded_as_missing(tmp_path):
    with pytest.raises(PinError, match="no pinned result for the fit '01-m'"):
        fit_in("missing", tmp_path)  # not pinned, and not recorded as missing: an error
    (tmp_path / "01-m").mkdir()
    (tmp_path / "01-m" / "missing.json").write_text(json.dumps(
        {"name": "01-m", "why": "its data could not be had", "seconds_per_example": 1e-4,
         "processor": "a CPU", "date": "2026-12-04"}))
    with pytest.raises(PinError, match=r"train it once with `make pins` \(in a notebook"):
        fit_in("load", tmp_path)
    assert not fit_in("missing", tmp_path).loaded
    assert {p.name for p in (tmp_path / "01-m").iterdir()} == {"model.pt", "history.csv",
                                                                "pin.json"}
    assert fit_in("missing", tmp_path).loaded  # pinned now: loaded, as in load mode


def test_an_unknown_mode_is_refused():
    with pytest.raises(ValueError,
                       match="mode must be one of load, retrain, update, missing, rekey, fast; "
                             "got 'fsat'"):
        begin_run("fsat")


def parts(model, seed=0, x=X):
    return fit_key(model, (x, Y, None), {"epochs": 2, "seed": seed})


def test_key_covers_seed_data_weights_and_architecture():
    base = parts(make_model())
    assert changed_parts(base, parts(make_model())) == []
    assert changed_parts(base, parts(make_model(), seed=1)) == ["settings"]
    assert changed_parts(base, parts(make_model(), x=X[::-1].copy())) == ["data"]
    assert changed_parts(base, parts(make_model(seed=1))) == ["initial_weights"]
    assert "architecture" in changed_parts(base, parts(nn.Sequential(nn.Linear(1, 1))))


def test_initial_weights_compare_to_float32_rounding_not_bitwise():
    model = make_model()
    base = parts(model)
    with torch.no_grad():
        for param in model.parameters():
            param.mul_(1 + 2e-7)  # what one thread instead of two did to the LSTM's weights
    assert changed_parts(base, parts(model)) == []
    with torch.no_grad():
        next(model.parameters()).view(-1)[0] += 1e-3
    assert changed_parts(base, parts(model)) == ["initial_weights"]


def test_pin_json_before_fingerprints_is_stale_not_an_error():
    saved = parts(make_model()) | {"initial_weights": "0123abcd"}
    assert changed_parts(saved, parts(make_model())) == ["initial_weights"]


def test_key_hashes_the_code_of_isldl_layers_inside_a_sequential():
    inner = nn.Sequential(models.KerasSimpleRNN(3, 2), nn.Linear(2, 1))
    code = keys.fit_code(inner)
    assert "class KerasSimpleRNN (" in code and "def fit (" in code
    assert "class KerasSimpleRNN" not in keys.fit_code(nn.Sequential(nn.Linear(1, 1)))


TRAINING_CODE = '''
def step(weight, grad, lr):
    """One step down the gradient."""
    return weight - lr * grad  # plain gradient descent
'''


@pytest.mark.parametrize("edit, stale", [
    (lambda code: code.replace("One step down the gradient.", "A step, documented anew."),
     False),
    (lambda code: code.replace("# plain gradient descent", "# a comment, rewritten"), False),
    (lambda code: code.replace('    """One step down the gradient."""\n', ""), False),
    (lambda code: code.replace("\n\ndef", "\n\n\n# a new comment line\ndef"), False),
    (lambda code: code.replace("weight - lr", "weight + lr"), True),
    (lambda code: code.replace("lr * grad", "lr * grad * 2"), True),
    (lambda code: code.replace('"""One step down the gradient."""', '"""One."""; lr = 1'),
     True),
])
def test_the_code_key_ignores_docstrings_and_comments_but_not_one_operator(edit, stale):
    before, after = keys.code_text(TRAINING_CODE), keys.code_text(edit(TRAINING_CODE))
    assert (before != after) == stale


def edited(monkeypatch, function, old, new):
    """Make the key read `function`'s source with `old` replaced by `new`."""
    source, real = inspect.getsource(function), inspect.getsource
    assert old in source
    monkeypatch.setattr(inspect, "getsource", lambda obj: source.replace(old, new)
                        if obj is function else real(obj))


def test_a_docstring_edit_keeps_a_pin_current_and_an_operator_change_stales_it(
        tmp_path, monkeypatch):
    fit_in("retrain", tmp_path)
    edited(monkeypatch, train.set_seed, '"""Seed Python,', '"""Seed (anew) Python,')
    assert fit_in("load", tmp_path).loaded
    # split_validation is reached from fit, one call away
    edited(monkeypatch, train.split_validation, "(1.0 - validation_split)",
           "(1.0 + validation_split)")
    with pytest.raises(PinError, match="its code changed"):
        fit_in("load", tmp_path)


@pytest.mark.parametrize("function, old, new", [
    (train.predict, "batch_size: int = 256", "batch_size: int = 512"),
    (train.Timer.__exit__, "time.perf_counter() - self.start", "0.0"),
])
def test_code_that_no_fit_runs_is_not_in_the_key(tmp_path, monkeypatch, function, old, new):
    fit_in("retrain", tmp_path)
    edited(monkeypatch, function, old, new)
    assert fit_in("load", tmp_path).loaded


def test_the_key_reaches_constants_and_other_modules():
    code = keys.fit_code(make_model())
    for reached in ("isldl.train.LOSSES:", "isldl.train.KERAS_RMSPROP:",
                    "isldl.train._accuracy:", "isldl.machine.default_device:",
                    "isldl.train.denormals_flushed:"):
        assert reached in code, reached
    for unreached in ("isldl.train.predict:", "isldl.train.Timer:", "isldl.train.keras_init:"):
        assert unreached not in code, unreached


def outcome(name="01-m"):
    """What the run recorded of a pin (`pin:<name>`), as the chapter tests read it."""
    return state.recorded()[f"pin:{name}"]


def set_arithmetic(results, **changes):
    path = results / "01-m" / "pin.json"
    record = json.loads(path.read_text())
    record["arithmetic"] |= changes
    path.write_text(json.dumps(record))


def test_retrain_records_the_arithmetic_and_the_same_arithmetic_reproduces_every_bit(tmp_path):
    fit_in("retrain", tmp_path)
    record = json.loads((tmp_path / "01-m" / "pin.json").read_text())
    assert record["arithmetic"] == machine.arithmetic("cpu")
    assert set(record["arithmetic"]) == {"torch", "device", "cpu_capability", "processor",
                                         "threads"}
    fit_in("load", tmp_path)
    assert outcome()["same_arithmetic"] and outcome()["reproduced"]


@pytest.mark.parametrize("changes", [{"cpu_capability": "AVX2_OTHER"}, {"threads": 64},
                                     {"processor": "GenuineIntel family 6 model 85"},
                                     {"processor": None}])
def test_another_arithmetic_is_held_to_the_tolerance_not_to_the_bit(tmp_path, changes):
    fit_in("retrain", tmp_path)
    set_arithmetic(tmp_path, **changes)
    fit_in("load", tmp_path)
    assert not outcome()["same_arithmetic"] and outcome()["reproduced"]


def classification_data(n=4000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 20)).astype("float32")
    return x, (x @ rng.normal(size=20) + rng.normal(size=n) > 0).astype("float32")


def test_a_real_change_of_the_pinned_weights_is_not_reproduced(tmp_path):
    """Under another arithmetic the metrics are compared within the tolerance: moving one
    weight of a pinned network by 1 % of its size still fails (the checksum rewritten, as a
    retrain with a bug would write it)."""
    x, y = classification_data()
    begin_run("retrain")
    settings = {"loss": "binary_crossentropy", "metrics": ("accuracy",), "epochs": 2,
                "seed": 0}
    isldl.set_seed(0)
    model = models.single_layer_net(20, 16, 0.0)
    pinned_fit("01-m", model, x, y, test_data=(x, y), results=tmp_path, **settings)
    folder = tmp_path / "01-m"
    set_arithmetic(tmp_path, cpu_capability="ANOTHER")
    weights = torch.load(folder / "model.pt")
    first = next(iter(weights))
    weights[first].view(-1)[0] *= 1.01
    torch.save(weights, folder / "model.pt")
    record = json.loads((folder / "pin.json").read_text())
    record["files"]["model.pt"] = keys.sha((folder / "model.pt").read_bytes())
    (folder / "pin.json").write_text(json.dumps(record))
    begin_run("load")
    isldl.set_seed(0)
    pinned_fit("01-m", models.single_layer_net(20, 16, 0.0), x, y, test_data=(x, y),
               results=tmp_path, **settings)
    assert not outcome()["same_arithmetic"]
    assert not outcome()["reproduced"], outcome()


@pytest.mark.parametrize("now, reproduced", [
    ({"test_loss": 0.5 * (1 + 9e-7), "test_accuracy": 0.9}, True),
    ({"test_loss": 0.5 * (1 - 9e-7), "test_accuracy": 0.9 + 2 / 10_000}, True),
    ({"test_loss": 0.5 * (1 + 2e-6), "test_accuracy": 0.9}, False),
    ({"test_loss": 0.5, "test_accuracy": 0.9 - 3 / 10_000}, False),
    ({"test_loss": 0.5}, False),
])
def test_the_tolerance_of_another_arithmetic(now, reproduced):
    recorded = {"test_loss": 0.5, "test_accuracy": 0.9}
    assert machine.metrics_reproduced(recorded, now, 10_000, same=False) is reproduced
    assert machine.metrics_reproduced(recorded, recorded, 10_000, same=True)
    assert not machine.metrics_reproduced(recorded, {"test_loss": 0.5 * (1 + 1e-7),
                                                     "test_accuracy": 0.9}, 10_000, same=True)


def test_a_simulated_processor_computes_with_its_capability(tmp_path):
    import subprocess
    import sys

    for capability in machine.SIMULATED:
        env = os.environ | machine.simulated_env(capability, 1)
        out = subprocess.run([sys.executable, "-c", "import torch; print("
                              "torch.backends.cpu.get_cpu_capability(), torch.get_num_threads())"],
                             env=env, capture_output=True, text=True, check=True).stdout
        assert out.split() == [capability.upper(), "1"]
    with pytest.raises(ValueError, match="capability must be one of"):
        machine.simulated_env("avx10", 1)


def test_rekey_rewrites_a_pin_whose_code_part_alone_changed(tmp_path):
    fit_in("retrain", tmp_path)
    path = tmp_path / "01-m" / "pin.json"
    record = json.loads(path.read_text())
    trained = record["parts"]["code"]
    record["parts"]["code"] = "0" * 64  # as the key was defined before
    del record["arithmetic"]  # a pin from before arithmetic was recorded
    path.write_text(json.dumps(record))
    with pytest.raises(PinError, match="its code changed"):
        fit_in("load", tmp_path)
    assert fit_in("rekey", tmp_path).loaded
    record = json.loads(path.read_text())
    assert record["parts"]["code"] == trained
    assert record["arithmetic"] == {"torch": record["torch"], "device": record["device"],
                                    "cpu_capability": None, "processor": None, "threads": None}
    assert fit_in("load", tmp_path).loaded


def test_rekey_refuses_a_pin_whose_training_changed(tmp_path):
    fit_in("retrain", tmp_path)
    before = files(tmp_path)
    with pytest.raises(PinError, match="'01-m' cannot be re-keyed: its settings changed too"):
        fit_in("rekey", tmp_path, epochs=3)
    assert files(tmp_path) == before


def test_a_pin_json_edited_by_hand_is_refused(tmp_path):
    fit_in("retrain", tmp_path)
    path = tmp_path / "01-m" / "pin.json"
    record = json.loads(path.read_text())
    record["settings"]["epochs"] += 1  # the readable record no longer says what the key hashed
    path.write_text(json.dumps(record))
    with pytest.raises(PinError, match=r"01-m/pin.json: its settings .* are not those its key "
                                       r"was made from \(edited by hand\?\)"):
        fit_in("load", tmp_path)


def test_data_hash_sees_values_dtypes_and_sparse_structure():
    import scipy.sparse as sp

    a = np.arange(6, dtype="float32").reshape(2, 3)
    assert keys.data_hash(a) == keys.data_hash(torch.from_numpy(a.copy()))
    assert keys.data_hash(a) != keys.data_hash(a.astype("float64"))
    assert keys.data_hash(a) != keys.data_hash(a.reshape(3, 2))
    s = sp.csr_matrix(a)
    assert keys.data_hash(s) != keys.data_hash(sp.csr_matrix(a.T))


@dataclasses.dataclass
class Path_:
    """A stand-in for an expensive result that is not a network: a dataclass of arrays."""

    lambdas: np.ndarray
    coefs: np.ndarray


def shrinking_path(x, scale=1.0):
    lambdas = np.logspace(0, -2, 3)
    return Path_(lambdas, scale * np.outer(lambdas, x[:4, 0]))


def result_in(mode, results, **settings):
    begin_run(mode)
    return pinned.pinned_result("05-path", shrinking_path, X, results=results, **settings)


def test_a_pinned_result_is_saved_by_retrain_and_loaded_the_same(tmp_path):
    first = result_in("retrain", tmp_path)
    assert {p.name for p in (tmp_path / "05-path").iterdir()} == {"result.npz", "pin.json"}
    second = result_in("load", tmp_path)
    assert isinstance(second, Path_)
    np.testing.assert_array_equal(second.coefs, first.coefs)
    np.testing.assert_array_equal(second.lambdas, first.lambdas)


def test_a_pinned_result_is_stale_when_its_settings_or_data_change(tmp_path):
    result_in("retrain", tmp_path)
    with pytest.raises(PinError, match="stale: its settings changed"):
        result_in("load", tmp_path, scale=2.0)
    begin_run("load")
    with pytest.raises(PinError, match="stale: its data changed"):
        pinned.pinned_result("05-path", shrinking_path, X + 1, results=tmp_path)


def test_a_damaged_pinned_result_is_an_error_that_names_the_fix(tmp_path):
    result_in("retrain", tmp_path)
    (tmp_path / "05-path" / "result.npz").write_bytes(b"not an npz")
    with pytest.raises(PinError, match="result.npz does not match its SHA-256.*retrain"):
        result_in("load", tmp_path)


def test_update_recomputes_a_stale_result_and_keeps_a_current_one(tmp_path):
    result_in("retrain", tmp_path)
    before = files(tmp_path)
    result_in("update", tmp_path)
    assert files(tmp_path) == before
    updated = result_in("update", tmp_path, scale=2.0)
    np.testing.assert_array_equal(result_in("load", tmp_path, scale=2.0).coefs, updated.coefs)


def test_fast_mode_computes_a_result_and_writes_nothing(tmp_path):
    result = result_in("fast", tmp_path)
    assert isinstance(result, Path_) and not (tmp_path / "05-path").exists()
