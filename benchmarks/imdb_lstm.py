"""Seconds per epoch of chapter 6's IMDb LSTM: the book's loop against Keras, at each precision.

    python benchmarks/imdb_lstm.py [--steps 30] [--repeats 5] [--keras-python PATH] [--save F]

The model is the chapter's: an embedding of 10,000 words in 32 dimensions, an LSTM of 32 units
over reviews padded to 500 words, one output; RMSprop, batches of 128. Every variant trains on
the same real reviews (the first ones of the training set, written once to a temporary file),
in its own process, the repetitions interleaved. A variant times `--steps` steps after 3
untimed ones, and a prediction pass; an epoch is extrapolated to the chapter's: 196 steps over
25,000 reviews and a validation pass over the 25,000 test reviews.

- book: `isldl.fit` in float32. It flushes denormal floats to zero on a CPU: the gradients
  that pass back through 500 time steps become denormal, which x86 CPUs compute very slowly.
- book-denormals: the same with denormal floats computed as they are (the flush turned off):
  what the flush is worth.
- book-bf16: the same as book with `mixed_precision=True` (bfloat16 autocast where the CPU
  has bfloat16 units, float32 elsewhere).
- keras: the source's model in Keras (TensorFlow), float32.
- keras-bf16: the same under Keras' `mixed_bfloat16` policy, the output kept in float32.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from harness import (
    arguments,
    compare,
    measured_where,
    precision_of,
    precisions_line,
    pythons_for,
    ratio_lines,
)
from report import report

N_FIT, N_VAL, BATCH, WORDS, LENGTH = 25_000, 25_000, 128, 10_000, 500
STEPS_PER_EPOCH = -(-N_FIT // BATCH)  # 196
WARM_UP = 3
DATA = "IMDB_LSTM_BENCHMARK_DATA"  # the reviews' file, passed to the variants' processes


def reviews(steps: int):
    import numpy as np

    with np.load(os.environ[DATA]) as arrays:
        n = BATCH * (WARM_UP + steps)
        return arrays["x"][:n], arrays["y"][:n]


def time_book(steps: int, mixed_precision: bool = False) -> dict:
    import isldl
    from isldl import models

    x, y = reviews(steps)
    isldl.set_seed(0)
    model = models.ImdbLSTM()
    options = dict(loss="binary_crossentropy", batch_size=BATCH, verbose=False,
                   mixed_precision=mixed_precision)
    warm = BATCH * WARM_UP
    isldl.fit(model, x[:warm], y[:warm], epochs=1, **options)
    start = time.perf_counter()
    isldl.fit(model, x[warm:], y[warm:], metrics=("accuracy",), epochs=1, **options)
    step = (time.perf_counter() - start) / steps
    options.pop("verbose")
    start = time.perf_counter()  # the validation pass, as fit runs it
    isldl.evaluate(model, x[warm:], y[warm:], metrics=("accuracy",), **options)
    return {"step": step, "val_review": (time.perf_counter() - start) / (len(x) - warm)}


def time_book_bf16(steps: int) -> dict:
    return time_book(steps, mixed_precision=True)


def time_book_denormals(steps: int) -> dict:
    import contextlib

    from isldl import train

    train.denormals_flushed = lambda device: contextlib.nullcontext()  # fit keeps denormals
    return time_book(steps)


def time_keras(steps: int, policy: str = "float32") -> dict:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    from keras import layers

    keras.mixed_precision.set_global_policy(policy)
    keras.utils.set_random_seed(0)
    x, y = reviews(steps)
    model = keras.Sequential([
        keras.Input((LENGTH,)), layers.Embedding(WORDS, 32), layers.LSTM(32),
        layers.Dense(1, activation="sigmoid", dtype="float32")])
    model.compile(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])
    warm = BATCH * WARM_UP
    model.fit(x[:warm], y[:warm], batch_size=BATCH, epochs=1, verbose=0)  # builds the graph
    start = time.perf_counter()
    model.fit(x[warm:], y[warm:], batch_size=BATCH, epochs=1, verbose=0)
    step = (time.perf_counter() - start) / steps
    start = time.perf_counter()
    model.evaluate(x[warm:], y[warm:], batch_size=BATCH, verbose=0)
    return {"step": step, "val_review": (time.perf_counter() - start) / (len(x) - warm)}


def time_keras_bf16(steps: int) -> dict:
    return time_keras(steps, policy="mixed_bfloat16")


VARIANTS = {"book": time_book, "book-denormals": time_book_denormals,
            "book-bf16": time_book_bf16, "keras": time_keras, "keras-bf16": time_keras_bf16}


def write_reviews(folder: Path, steps: int) -> Path:
    """The first reviews of IMDb's training set, padded as chapter 6 pads them."""
    import numpy as np

    from isldl import data

    imdb = data.load_imdb(num_words=WORDS)
    n = BATCH * (WARM_UP + steps)
    path = folder / "reviews.npz"
    np.savez(path, x=data.pad_sequences(imdb.x_train[:n], maxlen=LENGTH),
             y=np.asarray(imdb.y_train[:n], dtype="float32"))
    return path


def main() -> None:
    args = arguments(__doc__, VARIANTS, steps=30)
    pythons = pythons_for(VARIANTS, sys.executable, args.keras_python)
    with tempfile.TemporaryDirectory() as folder:
        os.environ[DATA] = str(write_reviews(Path(folder), args.steps))
        runs = compare(__file__, pythons, args.steps, args.repeats)
    lines = [f"Chapter 6's LSTM on real reviews; {measured_where()}; {precisions_line(pythons)}; "
             f"medians of {args.repeats} interleaved runs of {args.steps} steps of 128 reviews.",
             "",
             "| loop | precision | ms per step | s per epoch |", "|:--|:--|--:|--:|"]
    epochs = {}
    for name, results in runs.items():
        if not results:
            continue
        step = statistics.median(r["step"] for r in results)
        epochs[name] = statistics.median(STEPS_PER_EPOCH * r["step"] + N_VAL * r["val_review"]
                                         for r in results)
        lines.append(f"| {name} | {precision_of(name)} | {1000 * step:.0f} | {epochs[name]:.1f} |")
    lines += ["", *ratio_lines(epochs, (("book", "keras"), ("book-bf16", "keras-bf16"),
                                        ("book", "book-denormals")))]
    report(lines, args.save)


if __name__ == "__main__":
    main()
