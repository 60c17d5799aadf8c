"""Seconds per epoch of the CIFAR-100 CNN: a plain DataLoader loop, the book's loop, Keras.

    python benchmarks/cifar_cnn.py [--steps 40] [--repeats 5] [--keras-python PATH] [--save F]

Each variant runs in its own subprocess on the same random CIFAR-shaped data (the benchmark
needs no CIFAR-100), and the repetitions are interleaved so that a busy moment hurts every
variant alike. A variant times `--steps` RMSprop steps on batches of 128 and a validation pass,
and the epoch is extrapolated to the book's: 313 steps over 40,000 images plus 10,000 held out
(Keras' validation_split = 0.2 of 50,000). Medians are printed, with ratios and, for each
loop, the fraction of the machine's matrix-multiply speed at the loop's precision (both
measured here) that its steps reach. Each loop's fastest run is printed too, with the ratios
of the fastest runs: on the project's machine Keras' float32 steps take either about 80 or
about 135 ms from one process to the next, and the median says which was more frequent.

- plain: a torchvision-style Dataset that turns one uint8 image at a time into a tensor,
  a shuffling DataLoader, NCHW tensors: what a first PyTorch port usually does.
- book: `isldl.fit` on whole tensors, the model and images in channels_last, float32.
- book-relu-first: the same with the source's order of layers (`models.in_source_order`):
  what pooling before each ReLU is worth.
- book-bf16: the same with `mixed_precision=True` (bfloat16 autocast, where the CPU has
  bfloat16 units; float32 elsewhere): what the CIFAR chapter uses.
- keras: the source's model in Keras (TensorFlow), if importable by `--keras-python`.
- keras-bf16: the same under Keras' `mixed_bfloat16` policy (the softmax kept in float32):
  Keras at the precision of book-bf16, so that each precision has its like-for-like row.
- keras-pool-first: Keras with the book's order of layers (each block pools before its ReLU,
  which computes the same function; see `isldl.models.cifar_cnn`), float32: the order that
  makes the book's loop faster gains Keras nothing, as it fuses each ReLU into its convolution.
"""

from __future__ import annotations

import statistics
import sys
import time

from harness import (
    arguments,
    compare,
    matmul_gflops,
    measured_where,
    precision_of,
    precisions_line,
    pythons_for,
    ratio_lines,
)
from report import report

N_FIT, N_VAL, BATCH = 40_000, 10_000, 128
STEPS_PER_EPOCH = -(-N_FIT // BATCH)  # 313
WARM_UP = 3  # untimed steps first: each loop's first steps pay for one-off set-up


def random_cifar(n: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    return (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
            rng.integers(0, 100, n, dtype=np.int64))


def time_plain(steps: int) -> dict:
    import torch
    from torch.utils.data import DataLoader, Dataset

    import isldl
    from isldl import models

    images, labels = random_cifar(BATCH * steps)

    class Images(Dataset):
        def __len__(self):
            return len(labels)

        def __getitem__(self, i):  # one image at a time, as torchvision's datasets do
            return torch.from_numpy(images[i]).permute(2, 0, 1).float() / 255, labels[i]

    model = models.cifar_cnn()
    optimizer = isldl.rmsprop(model)
    model.train()

    def train(batches):
        for x, y in batches:
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    train([next(iter(DataLoader(Images(), batch_size=BATCH)))] * WARM_UP)
    start = time.perf_counter()
    train(DataLoader(Images(), batch_size=BATCH, shuffle=True))
    step = (time.perf_counter() - start) / steps
    model.eval()
    start = time.perf_counter()
    with torch.no_grad():
        for x, _ in DataLoader(Images(), batch_size=BATCH):
            model(x)
    return {"step": step, "val_image": (time.perf_counter() - start) / len(labels)}


def time_book(steps: int, mixed_precision: bool = False, relu_first: bool = False) -> dict:
    import torch

    import isldl
    from isldl import models

    images, labels = random_cifar(BATCH * steps)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255  # channels_last already
    model = models.cifar_cnn().to(memory_format=torch.channels_last)
    if relu_first:
        model = models.in_source_order(model)
    options = dict(loss="categorical_crossentropy", batch_size=BATCH,
                   mixed_precision=mixed_precision)
    isldl.fit(model, x[:BATCH * WARM_UP], labels[:BATCH * WARM_UP], epochs=1, verbose=False,
              **options)
    start = time.perf_counter()
    isldl.fit(model, x, labels, metrics=("accuracy",), epochs=1, verbose=False, **options)
    step = (time.perf_counter() - start) / steps
    start = time.perf_counter()  # the validation pass, as fit runs it
    isldl.evaluate(model, x, labels, metrics=("accuracy",), **options)
    return {"step": step, "val_image": (time.perf_counter() - start) / len(labels)}


def time_book_bf16(steps: int) -> dict:
    return time_book(steps, mixed_precision=True)


def time_book_relu_first(steps: int) -> dict:
    return time_book(steps, relu_first=True)


def time_keras(steps: int, policy: str = "float32", pool_first: bool = False) -> dict:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    from keras import layers

    keras.mixed_precision.set_global_policy(policy)
    images, labels = random_cifar(BATCH * steps)
    x = images / 255.0
    blocks = []
    for filters in (32, 64, 128, 256):
        if pool_first:
            blocks += [layers.Conv2D(filters, 3, padding="same"), layers.MaxPooling2D(),
                       layers.Activation("relu")]
        else:
            blocks += [layers.Conv2D(filters, 3, padding="same", activation="relu"),
                       layers.MaxPooling2D()]
    model = keras.Sequential([keras.Input((32, 32, 3)), *blocks, layers.Flatten(),
                              layers.Dropout(0.5), layers.Dense(512, activation="relu"),
                              layers.Dense(100), layers.Activation("softmax", dtype="float32")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop",
                  metrics=["accuracy"])
    model.fit(x[:BATCH * WARM_UP], labels[:BATCH * WARM_UP], batch_size=BATCH, epochs=1,
              verbose=0)  # builds and compiles the model
    start = time.perf_counter()
    model.fit(x, labels, batch_size=BATCH, epochs=1, verbose=0)
    step = (time.perf_counter() - start) / steps
    start = time.perf_counter()
    model.evaluate(x, labels, batch_size=BATCH, verbose=0)
    return {"step": step, "val_image": (time.perf_counter() - start) / len(labels)}


def time_keras_bf16(steps: int) -> dict:
    return time_keras(steps, policy="mixed_bfloat16")


def step_gflop() -> float:
    """Floating-point operations of one training step on a batch of 128 (PyTorch's counter)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from isldl import models

    model = models.cifar_cnn()
    counter = FlopCounterMode(display=False)
    with counter:
        torch.nn.functional.cross_entropy(
            model(torch.rand(BATCH, 3, 32, 32)), torch.randint(0, 100, (BATCH,))).backward()
    return counter.get_total_flops() / 1e9


def time_keras_pool_first(steps: int) -> dict:
    return time_keras(steps, pool_first=True)


VARIANTS = {"plain": time_plain, "book": time_book, "book-relu-first": time_book_relu_first,
            "book-bf16": time_book_bf16, "keras": time_keras, "keras-bf16": time_keras_bf16,
            "keras-pool-first": time_keras_pool_first}


def main() -> None:
    args = arguments(__doc__, VARIANTS, steps=40)
    pythons = pythons_for(VARIANTS, sys.executable, args.keras_python)
    runs = compare(__file__, pythons, args.steps, args.repeats)
    gflop = step_gflop()
    peak = {dtype: matmul_gflops(dtype)
            for dtype in dict.fromkeys(precision_of(name) for name in pythons)}
    speeds = ", ".join(f"{gflops:.0f} GFLOP/s in {dtype}" for dtype, gflops in peak.items())
    lines = [f"One step = {gflop:.1f} GFLOP; matmul speed here = {speeds}; {measured_where()}; "
             f"{precisions_line(pythons)}; medians of {args.repeats} interleaved runs of "
             f"{args.steps} steps.", "",
             "| loop | precision | ms per step | fastest run | s per epoch | GFLOP/s in steps "
             "| fraction of its matmul |",
             "|:--|:--|--:|--:|--:|--:|--:|"]
    medians, fastest = {}, {}
    for name, results in runs.items():
        if not results:
            continue
        epochs = [STEPS_PER_EPOCH * r["step"] + N_VAL * r["val_image"] for r in results]
        step = statistics.median(r["step"] for r in results)
        medians[name], fastest[name] = statistics.median(epochs), min(epochs)
        precision = precision_of(name)
        lines.append(f"| {name} | {precision} | {1000 * step:.0f} "
                     f"| {1000 * min(r['step'] for r in results):.0f} | {medians[name]:.1f} "
                     f"| {gflop / step:.0f} | {gflop / step / peak[precision]:.2f} |")
    lines += ["", *ratio_lines(medians, (("book", "keras"), ("book-bf16", "keras-bf16"),
                                         ("book", "plain"), ("book", "book-relu-first"),
                                         ("keras-pool-first", "keras")), fastest)]
    report(lines, args.save)


if __name__ == "__main__":
    main()
