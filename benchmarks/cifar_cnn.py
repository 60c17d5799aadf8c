"""Seconds per epoch of the CIFAR-100 CNN: a plain DataLoader loop, the book's loop, Keras.

    python benchmarks/cifar_cnn.py [--steps 40] [--repeats 5] [--keras-python PATH] [--save F]

Each variant runs in its own subprocess on the same random CIFAR-shaped data (the benchmark
needs no CIFAR-100), and the repetitions are interleaved so that a busy moment hurts every
variant alike. A variant times `--steps` RMSprop steps on batches of 128 and a validation pass,
and the epoch is extrapolated to the book's: 313 steps over 40,000 images plus 10,000 held out
(Keras' validation_split = 0.2 of 50,000). Medians are printed, with ratios and the fraction of
the machine's float32 matrix-multiply speed (measured here) that the book's loop reaches.

- plain: a torchvision-style Dataset that turns one uint8 image at a time into a tensor,
  a shuffling DataLoader, NCHW tensors: what a first PyTorch port usually does.
- book: `isldl.fit` on whole tensors, the model and images in channels_last, float32.
- book-bf16: the same with `mixed_precision=True` (bfloat16 autocast, where the CPU has
  bfloat16 units; float32 elsewhere): what the CIFAR chapter uses.
- keras: the source's model in Keras (TensorFlow), if importable by `--keras-python`.
- keras-bf16: the same under Keras' `mixed_bfloat16` policy (the softmax kept in float32):
  Keras at the precision of book-bf16, so that each precision has its like-for-like row.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

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


def time_book(steps: int, mixed_precision: bool = False) -> dict:
    import torch

    import isldl
    from isldl import models

    images, labels = random_cifar(BATCH * steps)
    x = torch.from_numpy(images).permute(0, 3, 1, 2).float() / 255  # channels_last already
    model = models.cifar_cnn().to(memory_format=torch.channels_last)
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


def time_keras(steps: int, policy: str = "float32") -> dict:
    import os

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    from keras import layers

    keras.mixed_precision.set_global_policy(policy)
    images, labels = random_cifar(BATCH * steps)
    x = images / 255.0
    model = keras.Sequential([keras.Input((32, 32, 3))] + [
        layer for filters in (32, 64, 128, 256) for layer in (
            layers.Conv2D(filters, 3, padding="same", activation="relu"), layers.MaxPooling2D())
    ] + [layers.Flatten(), layers.Dropout(0.5), layers.Dense(512, activation="relu"),
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


def matmul_gflops(dtype: str = "float32") -> float:
    """The machine's matrix-multiply speed at a precision, as a practical peak."""
    import torch

    a, b = (torch.rand(2048, 2048, dtype=getattr(torch, dtype)) for _ in range(2))
    a @ b
    start = time.perf_counter()
    for _ in range(10):
        a @ b
    return 10 * 2 * 2048 ** 3 / (time.perf_counter() - start) / 1e9


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


VARIANTS = {"plain": time_plain, "book": time_book, "book-bf16": time_book_bf16,
            "keras": time_keras, "keras-bf16": time_keras_bf16}
PRECISION = {"plain": "float32", "book": "float32", "keras": "float32",
             "book-bf16": "bfloat16", "keras-bf16": "bfloat16"}


def run_variant(name: str, steps: int, python: str) -> dict | None:
    result = subprocess.run([python, __file__, "--variant", name, "--steps", str(steps)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def keras_available(python: str) -> bool:
    return subprocess.run([python, "-c", "import keras, tensorflow"],
                          capture_output=True).returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keras-python", default=sys.executable,
                        help="a Python that can import keras and tensorflow")
    parser.add_argument("--save", type=Path, help="also write the table to this file")
    parser.add_argument("--variant", choices=VARIANTS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:  # a child process: time one variant, print JSON
        print(json.dumps(VARIANTS[args.variant](args.steps)))
        return

    pythons = {"plain": sys.executable, "book": sys.executable, "book-bf16": sys.executable}
    if keras_available(args.keras_python):
        pythons["keras"] = pythons["keras-bf16"] = args.keras_python
    else:
        print(f"keras: not importable by {args.keras_python}; skipped")
    epochs: dict[str, list[float]] = {name: [] for name in pythons}
    steps: dict[str, list[float]] = {name: [] for name in pythons}
    for _ in range(args.repeats):
        for name, python in pythons.items():
            result = run_variant(name, args.steps, python)
            if result is None:
                print(f"{name}: failed")
                continue
            steps[name].append(result["step"])
            epochs[name].append(STEPS_PER_EPOCH * result["step"] + N_VAL * result["val_image"])
    from isldl.pinned import processor_name

    gflop = step_gflop()
    peak = {dtype: matmul_gflops(dtype) for dtype in ("float32", "bfloat16")}
    lines = [f"One step = {gflop:.1f} GFLOP; matmul speed here = {peak['float32']:.0f} GFLOP/s "
             f"in float32, {peak['bfloat16']:.0f} in bfloat16; {os.cpu_count()} cores; "
             f"{processor_name()}; medians of {args.repeats} interleaved runs of {args.steps} "
             f"steps; {time.strftime('%Y-%m-%d')}.", "",
             "| loop | precision | ms per step | s per epoch | GFLOP/s in steps "
             "| fraction of its matmul |",
             "|:--|:--|--:|--:|--:|--:|"]
    medians = {}
    for name in pythons:
        if not epochs[name]:
            continue
        step, medians[name] = statistics.median(steps[name]), statistics.median(epochs[name])
        lines.append(f"| {name} | {PRECISION[name]} | {1000 * step:.0f} | {medians[name]:.1f} "
                     f"| {gflop / step:.0f} | {gflop / step / peak[PRECISION[name]]:.2f} |")
    lines.append("")
    for book, keras in (("book", "keras"), ("book-bf16", "keras-bf16"), ("book", "plain")):
        if book in medians and keras in medians:
            ratio = medians[keras] / medians[book]
            lines.append(f"- {book} is {ratio:.2f}× as fast as {keras}")
    report(lines, args.save)



if __name__ == "__main__":
    main()
