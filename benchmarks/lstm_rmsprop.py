"""The IMDb LSTM's test accuracy with the RMSprop of Keras 2.10 and of Keras 3, over seeds.

    python benchmarks/lstm_rmsprop.py [--seeds 6 7 8] [--epochs 10] [--save FILE]

The two optimisers share every setting (learning rate 0.001, rho 0.9, epsilon 1e-7) and differ
only in where epsilon sits: Keras 2.10, the source's, divides the gradient by
sqrt(v) + epsilon (`isldl.rmsprop`: PyTorch's RMSprop with those settings); Keras 2.11 and
later, Keras 3 included, by sqrt(v + epsilon) (`keras3_rmsprop.py`). For each seed
both fit chapter 6's LSTM from the
same initial weights on the same batches, validated on the 25,000 test reviews after every
epoch, as the chapter does. The table gives the test accuracy after the last epoch and the range
it spans over the second half of the epochs: how far the result depends on where training stops.
This is an accuracy study, not a timing: about 3 minutes per fit on two cores.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

import isldl
from harness import measured_where
from isldl import data, models
from keras3_rmsprop import Keras3RMSprop
from report import report

OPTIMIZERS = {
    "Keras 2.10, the source's (isldl.rmsprop)": isldl.rmsprop,
    "Keras 3 (Keras3RMSprop)": lambda model: Keras3RMSprop(model.parameters()),
}


def accuracy_by_epoch(make_optimizer, seed: int, epochs: int, train, test) -> list[float]:
    """The test accuracy after each epoch of one fit."""
    isldl.set_seed(seed)
    model = models.ImdbLSTM()
    history = isldl.fit(model, *train, loss="binary_crossentropy", metrics=("accuracy",),
                        epochs=epochs, batch_size=128, optimizer=make_optimizer(model),
                        validation_data=test, seed=seed)
    return history["val_accuracy"].tolist()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[6, 7, 8])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--save", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    imdb = data.load_imdb(num_words=10_000)
    train = data.pad_sequences(imdb.x_train, maxlen=500), imdb.y_train
    test = data.pad_sequences(imdb.x_test, maxlen=500), imdb.y_test
    late = args.epochs // 2  # the second half of the epochs: epochs late + 1 … last
    lines = [f"LSTM of chapter 6, {args.epochs} epochs; test accuracy after the last epoch, and "
             f"its lowest and highest over epochs {late + 1}–{args.epochs}; "
             f"{measured_where()}.", "",
             "| optimiser | seed | last epoch | lowest | highest |", "|:--|--:|--:|--:|--:|"]
    finals: dict[str, list[float]] = {name: [] for name in OPTIMIZERS}
    for seed in args.seeds:  # both optimisers per seed, so a busy spell hurts both alike
        for name, make_optimizer in OPTIMIZERS.items():
            accuracy = accuracy_by_epoch(make_optimizer, seed, args.epochs, train, test)
            finals[name].append(accuracy[-1])
            lines.append(f"| {name} | {seed} | {accuracy[-1]:.4f} | {min(accuracy[late:]):.4f} "
                         f"| {max(accuracy[late:]):.4f} |")
            print(lines[-1], flush=True)
    lines.append("")
    for name, values in finals.items():
        lines.append(f"- {name}: median {statistics.median(values):.4f} after the last epoch")
    report(lines, args.save)


if __name__ == "__main__":
    main()
