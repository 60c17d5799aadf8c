"""Does bfloat16 cost accuracy? The CIFAR chapter's CNN on MNIST, in float32 and in bfloat16.

    python benchmarks/bf16_accuracy.py [--seeds 0 1] [--epochs 2] [--save FILE]

CIFAR-100 cannot be had on the project's machine, so the test is made on data that can: the
60,000 MNIST digits, padded to 32 × 32 and repeated in three channels, CIFAR's shape. For each
seed the chapter's CNN (10 classes) is fitted twice from the same initial weights on the same
batches, with `mixed_precision` off (float32) and on (bfloat16 autocast; the weights, their
updates and the loss stay in float32), and scored on the 10,000 test digits. The difference
between two seeds in float32 is the yardstick: bfloat16 should change the accuracy by no more.
This is an accuracy study, with the seconds of each fit for scale (not an interleaved timing).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import numpy as np
import torch

import isldl
from harness import measured_where
from isldl import data, models
from report import report


def cifar_shaped(images: np.ndarray) -> torch.Tensor:
    """28 × 28 grey digits as 3 × 32 × 32 images in [0, 1], channels last in memory."""
    x = torch.from_numpy(np.pad(images, ((0, 0), (2, 2), (2, 2)))).float() / 255
    return x[:, None].expand(-1, 3, -1, -1).contiguous(memory_format=torch.channels_last)


def test_accuracy(seed: int, epochs: int, mixed_precision: bool, mnist) -> tuple[float, float]:
    """Test accuracy and training seconds of one fit."""
    isldl.set_seed(seed)
    model = models.cifar_cnn(n_classes=10).to(memory_format=torch.channels_last)
    x_train, x_test = cifar_shaped(mnist.x_train), cifar_shaped(mnist.x_test)
    with isldl.Timer() as timer:
        isldl.fit(model, x_train, mnist.y_train.astype(np.int64), epochs=epochs, seed=seed,
                  loss="categorical_crossentropy", batch_size=128,
                  mixed_precision=mixed_precision)
    predicted = isldl.predict(model, x_test, batch_size=512).argmax(axis=1)
    return float((predicted == mnist.y_test).mean()), timer.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--save", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    mnist = data.load_mnist()
    native = isldl.bf16_is_fast(torch.device("cpu"))
    lines = [f"The CIFAR chapter's CNN on MNIST padded to 32 × 32 × 3, {args.epochs} epochs, "
             f"batches of 128; {measured_where()}; bfloat16 units: "
             f"{'yes' if native else 'no (both columns computed in float32)'}.", "",
             "| seed | float32 | bfloat16 | difference (points) | seconds, float32 / bfloat16 |",
             "|--:|--:|--:|--:|--:|"]
    results = {}
    for seed in args.seeds:
        (f32, f32_s), (bf16, bf16_s) = (test_accuracy(seed, args.epochs, mixed, mnist)
                                        for mixed in (False, True))
        results[seed] = f32, bf16
        lines.append(f"| {seed} | {f32:.4f} | {bf16:.4f} | {100 * (bf16 - f32):+.2f} "
                     f"| {f32_s:.0f} / {bf16_s:.0f} |")
        print(lines[-1], flush=True)
    largest = max(abs(bf16 - f32) for f32, bf16 in results.values())
    lines += ["", f"- bfloat16 against float32, same seed: at most {100 * largest:.2f} points "
              f"apart (the goal: within 0.5)"]
    if len(results) > 1:
        f32s = [f32 for f32, _ in results.values()]
        lines.append(f"- float32 from seed to seed: {100 * (max(f32s) - min(f32s)):.2f} points "
                     f"apart (median {statistics.median(f32s):.4f})")
    report(lines, args.save)


if __name__ == "__main__":
    main()
