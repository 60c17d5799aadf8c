"""The benchmarks' saved tables, which the chapters show, and the helpers they share.

No timing is asserted here (timings live in benchmarks/): these tests check that each table a
chapter reads holds its like-for-like rows and says where and when it was measured.
"""

import re
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from isldl.chapter import saved_benchmark, table_frame

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import bf16_accuracy  # noqa: E402
import harness  # noqa: E402

DATE = re.compile(r"\b20\d\d-\d\d-\d\d\b")


def rows(table: str) -> dict[str, list[str]]:
    """{first cell: the other cells} of each row of a saved table."""
    return {row[0]: row[1:] for row in table_frame(table).to_numpy().tolist()}


@pytest.mark.parametrize("name, expected", [
    ("cifar_cnn", {"book": "float32", "keras": "float32", "book-bf16": "bfloat16",
                   "keras-bf16": "bfloat16", "keras-pool-first": "float32",
                   "book-relu-first": "float32"}),
    ("imdb_lstm", {"book": "float32", "keras": "float32", "book-bf16": "bfloat16",
                   "keras-bf16": "bfloat16", "book-denormals": "float32"}),
])
def test_each_speed_table_compares_like_with_like(name, expected):
    measured, table, ratios = saved_benchmark(name)
    assert DATE.search(measured) and "cores" in measured
    assert int(re.search(r"medians of (\d+) interleaved runs", measured)[1]) >= 5
    found = rows(table)
    assert {loop: cells[0] for loop, cells in found.items() if loop in expected} == expected
    # one ratio per precision, each against Keras at that precision
    assert re.search(r"- book is [\d.]+× as fast as keras\b", ratios)
    assert re.search(r"- book-bf16 is [\d.]+× as fast as keras-bf16\b", ratios)


def test_the_bf16_accuracy_table_has_both_precisions_per_seed():
    measured, table, gaps = saved_benchmark("bf16_accuracy")
    assert DATE.search(measured) and "bfloat16 units" in measured
    found = rows(table)
    assert len(found) >= 2
    for seed, (f32, bf16, difference, _) in found.items():
        assert abs(100 * (float(bf16) - float(f32)) - float(difference)) < 0.011, seed
    assert "at most" in gaps and "float32 from seed to seed" in gaps


def test_mnist_is_padded_to_cifars_shape():
    digits = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    x = bf16_accuracy.cifar_shaped(digits)
    assert x.shape == (5, 3, 32, 32) and x.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(x[:, 0, 2:30, 2:30], torch.from_numpy(digits).float() / 255)
    assert torch.equal(x[:, 1], x[:, 0]) and x[:, :, :2].abs().sum() == 0


def test_keras_variants_are_left_out_when_keras_cannot_be_run(capsys):
    pythons = harness.pythons_for(["book", "keras", "keras-bf16"], sys.executable,
                                  "/no/such/python")
    assert pythons == {"book": sys.executable}
    assert "keras: not importable by /no/such/python" in capsys.readouterr().out


def test_bfloat16_variants_are_not_measured_where_the_cpu_has_no_bfloat16_units(capsys):
    variants = ["book", "book-bf16", "keras-bf16"]
    pythons = harness.pythons_for(variants, sys.executable, "/no/such/python", bf16=False)
    assert pythons == {"book": sys.executable}
    assert "bfloat16: not measured, this CPU has no bfloat16 units" in capsys.readouterr().out
    assert harness.precisions_line(pythons) == (
        "precisions measured: float32 (bfloat16: not measured, this CPU has no bfloat16 units)")
    both = harness.pythons_for(variants, sys.executable, sys.executable, bf16=True)
    assert harness.precisions_line(both) == "precisions measured: float32, bfloat16"


def test_a_variant_named_bf16_computes_in_bfloat16():
    assert [harness.precision_of(v) for v in ("book", "keras-bf16", "book-relu-first")] == [
        "float32", "bfloat16", "float32"]


def test_ratios_say_how_much_faster_the_first_of_each_measured_pair_is():
    lines = harness.ratio_lines({"book": 2.0, "keras": 3.0}, [("book", "keras"), ("book", "x")],
                                fastest={"book": 1.0, "keras": 1.5})
    assert lines == ["- book is 1.50× as fast as keras per epoch (fastest runs: 1.50×)"]


def test_the_optimiser_study_names_both_forms_and_repeats_the_pinned_fit():
    """The study's rows are labelled by Keras version; its seed-6 row with the source's
    optimiser is chapter 6's pinned fit, epoch for epoch (same machine, same code)."""
    import pandas as pd

    _, table, _ = saved_benchmark("lstm_rmsprop")
    study = table_frame(table)
    assert set(study["optimiser"]) == {"Keras 2.10, the source's (isldl.rmsprop)",
                                       "Keras 3 (Keras3RMSprop)"}
    seed_6 = next(row for row in study.to_numpy().tolist()
                  if row[0].startswith("Keras 2.10") and row[1] == "6")
    history = pd.read_csv(BENCHMARKS.parent / "results" / "06-imdb-lstm-10" / "history.csv",
                          index_col="epoch")["val_accuracy"]
    late = history.iloc[len(history) // 2:]
    assert seed_6[2:] == [f"{history.iloc[-1]:.4f}", f"{late.min():.4f}", f"{late.max():.4f}"]
