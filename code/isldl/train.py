"""A small Keras-like training loop: `fit`, `evaluate`, `predict`.

It follows what Keras does where that shapes the results of the lab: the source's RMSprop
(Keras 2.10's, with its defaults), the validation split taken from the *end* of the training
data before shuffling, training metrics averaged over the batches of an epoch (with dropout
active), Glorot-uniform initial weights. Whole tensors are indexed batch by batch: no
DataLoader, no per-item Python.
"""

from __future__ import annotations

import contextlib
import random
import time
from typing import Callable

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn
from tqdm import tqdm

from .machine import bf16_is_fast, default_device

# ---------------------------------------------------------------------------------- set-up


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch, so that a fit on the CPU repeats exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def flush_denormal_is_on() -> bool:
    """Whether the CPU now treats denormal floats (below about 1e-38) as zero."""
    return (torch.tensor([1e-40], dtype=torch.float32) * 1.0).item() == 0.0


@contextlib.contextmanager
def denormals_flushed(device: torch.device):
    """On a CPU, treat denormal floats as zero inside the block, then restore the setting.

    Gradients that pass back through hundreds of time steps (the IMDb LSTM) shrink into
    denormal floats, which some x86 CPUs compute many times more slowly than normal ones
    (on the AMD EPYC of `benchmarks/imdb_lstm.md` flushing them changed the LSTM's step time
    by a few per cent). Values that small change no weight visibly; TensorFlow flushes them
    on CPUs by default.
    """
    if device.type != "cpu":
        yield
        return
    before = flush_denormal_is_on()
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(before)


KERAS_RMSPROP = {"lr": 1e-3, "alpha": 0.9, "eps": 1e-7}
"""Keras 2.10's RMSprop defaults, as `torch.optim.RMSprop` names them (rho is `alpha`)."""


def rmsprop(model: nn.Module, lr: float = 1e-3) -> torch.optim.RMSprop:
    r"""The source's RMSprop (`optimizer = "rmsprop"`) for the weights of `model`.

    The source ran Keras 2.10 (TensorFlow 2.10.0), whose RMSprop keeps for each weight a moving
    average of its squared gradient, $v \leftarrow \rho v + (1 - \rho) g^2$, and steps by
    $-\eta\, g / (\sqrt{v} + \epsilon)$ with $\eta = 10^{-3}$, $\rho = 0.9$,
    $\epsilon = 10^{-7}$, in its dense and its sparse (embedding) updates alike: PyTorch's
    `torch.optim.RMSprop` with those settings (it defaults to $\rho = 0.99$,
    $\epsilon = 10^{-8}$). Keras 2.11 and later compute another form
    (`benchmarks/keras3_rmsprop.py`).
    """
    return torch.optim.RMSprop(model.parameters(), **(KERAS_RMSPROP | {"lr": lr}))


def keras_init(model: nn.Module) -> nn.Module:
    """Keras' initial weights: Glorot-uniform kernels, orthogonal recurrent kernels, zero biases."""
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.RNNBase, nn.RNNCellBase)):
            for name, param in module.named_parameters():
                if "weight_ih" in name:
                    # Keras initialises the kernels of all gates as one matrix.
                    nn.init.xavier_uniform_(param)
                elif "weight_hh" in name:
                    nn.init.orthogonal_(param)
                elif "bias" in name:
                    nn.init.zeros_(param)
    return model


# ------------------------------------------------------------------------ losses, metrics

LOSSES: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mse": lambda out, y: nn.functional.mse_loss(out.squeeze(-1), y),
    # The network returns logits; the softmax / sigmoid lives inside the loss, for stability.
    "categorical_crossentropy": nn.functional.cross_entropy,
    "binary_crossentropy": lambda out, y: nn.functional.binary_cross_entropy_with_logits(
        out.squeeze(-1), y),
}


def _accuracy(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if out.shape[-1] == 1:  # one logit: positive when > 0
        return ((out.squeeze(-1) > 0).float() == y).float().mean()
    return (out.argmax(-1) == y).float().mean()


METRICS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "mae": lambda out, y: (out.squeeze(-1) - y).abs().mean(),
    "accuracy": _accuracy,
}


def _target_dtype(loss: str) -> torch.dtype:
    return torch.long if loss == "categorical_crossentropy" else torch.float32


# -------------------------------------------------------------------------------- batches


def as_tensor(x, dtype=None) -> torch.Tensor:
    """A tensor from a NumPy array, a pandas object or a tensor (no copy when possible)."""
    if isinstance(x, (pd.DataFrame, pd.Series)):
        x = x.to_numpy()
    if isinstance(x, np.ndarray) and dtype is None and x.dtype == np.float64:
        dtype = torch.float32  # NumPy's default float is PyTorch's double
    return torch.as_tensor(x, dtype=dtype)


def _batch(x, index: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Rows `index` of x as a dense tensor on `device`; sparse matrices stay sparse until here."""
    if sp.issparse(x):
        return torch.as_tensor(x[index.numpy()].toarray(), device=device)
    return x[index].to(device, non_blocking=True)


def _inputs(x):
    return x.tocsr().astype(np.float32) if sp.issparse(x) else as_tensor(x)


def _length(x) -> int:
    """Rows of a tensor, array or SciPy sparse matrix (whose `len` is ambiguous)."""
    return x.shape[0]


# --------------------------------------------------------------------------------- the loop


def _run_epoch(model, x, y, loss_fn, metric_fns, batch_size, device, optimizer=None,
               order=None, mixed_precision=False) -> dict[str, float]:
    """One pass over (x, y): train when an optimizer is given, else evaluate.

    Returns the loss and metrics averaged over the samples, as Keras reports them. With
    `mixed_precision` the network runs in bfloat16 where that is safe (autocast); the loss,
    the gradients' accumulation and the weights stay in float32.
    """
    training = optimizer is not None
    model.train(training)
    n = _length(x)
    order = torch.arange(n) if order is None else order
    # Sums stay on the device: no synchronisation per batch.
    totals = {name: torch.zeros((), device=device) for name in ["loss", *metric_fns]}
    with torch.set_grad_enabled(training):
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            xb, yb = _batch(x, index, device), y[index].to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=mixed_precision):
                out = model(xb)
            out = out.float()
            loss = loss_fn(out, yb)
            if training:
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            with torch.no_grad():
                totals["loss"] += loss.detach() * len(index)
                for name, fn in metric_fns.items():
                    totals[name] += fn(out, yb) * len(index)
    return {name: total.item() / n for name, total in totals.items()}


def split_validation(x, y, validation_split: float):
    """Keras' `validation_split`: the *last* fraction of the rows, taken before any shuffling."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError("validation_split must lie strictly between 0 and 1, "
                         f"got {validation_split}")
    n_train = int(_length(x) * (1.0 - validation_split))
    return (x[:n_train], y[:n_train]), (x[n_train:], y[n_train:])


def fit(model: nn.Module, x, y, *, loss: str, epochs: int, batch_size: int = 32,
        metrics: tuple[str, ...] = (), optimizer: torch.optim.Optimizer | None = None,
        validation_split: float = 0.0, validation_data=None, seed: int = 0,
        device: torch.device | None = None, mixed_precision: bool = False,
        verbose: bool | None = None) -> pd.DataFrame:
    """Train `model` on (x, y) as Keras' `fit` does and return its history.

    `loss` names one of `LOSSES`, `metrics` names from `METRICS`. The history has one row per
    epoch and the columns `loss`, each metric, then `val_loss` and `val_` + each metric when
    validation data is given (directly, or as the last `validation_split` of the training data).
    x may be a NumPy array, a tensor or a SciPy sparse matrix (densified one batch at a time).
    `mixed_precision=True` computes the network in bfloat16 where `bf16_is_fast` (about twice
    as fast for convolutions on such CPUs) and is ignored elsewhere. The progress bar shows in a
    terminal only, unless `verbose` says otherwise. The history's `attrs` say on which
    `device` and in which `precision` the network computed.
    """
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
    unknown = [m for m in metrics if m not in METRICS]
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; known: {sorted(METRICS)}")
    if validation_split and validation_data is not None:
        raise ValueError("give validation_split or validation_data, not both")
    device = device or default_device()
    mixed_precision = mixed_precision and bf16_is_fast(device)
    set_seed(seed)
    model.to(device)
    optimizer = optimizer or rmsprop(model)
    loss_fn, metric_fns = LOSSES[loss], {m: METRICS[m] for m in metrics}

    x, y = _inputs(x), as_tensor(y, _target_dtype(loss))
    if validation_split:
        (x, y), validation_data = split_validation(x, y, validation_split)
    elif validation_data is not None:
        validation_data = _inputs(validation_data[0]), as_tensor(validation_data[1],
                                                                 _target_dtype(loss))
    generator = torch.Generator().manual_seed(seed)
    rows = []
    bar = tqdm(range(1, epochs + 1), desc="epochs", unit="epoch", disable=_quiet(verbose))
    with denormals_flushed(device):
        for _ in bar:
            order = torch.randperm(_length(x), generator=generator)
            row = _run_epoch(model, x, y, loss_fn, metric_fns, batch_size, device, optimizer,
                             order, mixed_precision)
            if validation_data is not None:
                scores = _run_epoch(model, *validation_data, loss_fn, metric_fns, batch_size,
                                    device, mixed_precision=mixed_precision)
                row |= {f"val_{name}": value for name, value in scores.items()}
            rows.append(row)
            bar.set_postfix({k: f"{v:.4g}" for k, v in row.items()})
    history = pd.DataFrame(rows, index=pd.RangeIndex(1, epochs + 1, name="epoch"))
    history.attrs["precision"] = "bfloat16" if mixed_precision else "float32"
    history.attrs["device"] = str(device)
    return history


def _quiet(verbose: bool | None) -> bool | None:
    # tqdm's `disable=None` means: quiet unless writing to a terminal.
    return None if verbose is None else not verbose


def evaluate(model: nn.Module, x, y, *, loss: str, metrics: tuple[str, ...] = (),
             batch_size: int = 256, device: torch.device | None = None,
             mixed_precision: bool = False) -> dict[str, float]:
    """Loss and metrics of `model` on (x, y), dropout off (as `fit` validates)."""
    device = device or next(model.parameters()).device
    return _run_epoch(model, _inputs(x), as_tensor(y, _target_dtype(loss)), LOSSES[loss],
                      {m: METRICS[m] for m in metrics}, batch_size, device,
                      mixed_precision=mixed_precision and bf16_is_fast(device))


def predict(model: nn.Module, x, batch_size: int = 256) -> np.ndarray:
    """The model's outputs (logits for classifiers) for every row of x, dropout off."""
    device = next(model.parameters()).device
    x = _inputs(x)
    model.eval()
    with torch.no_grad():
        outputs = [model(_batch(x, torch.arange(s, min(s + batch_size, _length(x))), device)).cpu()
                   for s in range(0, _length(x), batch_size)]
    return torch.cat(outputs).numpy()


class Timer:
    """`with Timer() as t: …` then `t.seconds`: wall time of a block."""

    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
