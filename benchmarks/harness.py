"""What the timing benchmarks share: each variant in its own process, repetitions interleaved.

A benchmark script defines its variants as functions `time_<variant>(steps) -> dict` and calls
`compare`, which runs `python <script> --variant <name> --steps N` for every variant in turn,
`repeats` times, so that a busy moment of the machine hurts every variant alike. Keras'
variants run in a Python that can import TensorFlow (`--keras-python`), which need not have
isldl installed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def arguments(doc: str, variants: dict, steps: int) -> argparse.Namespace:
    """The command line of a timing benchmark (`doc` is its docstring). In a variant's own
    process (`--variant`), time that variant, print its timings as JSON and exit."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--steps", type=int, default=steps)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--keras-python", default=sys.executable,
                        help="a Python that can import keras and tensorflow")
    parser.add_argument("--save", type=Path, help="also write the table to this file")
    parser.add_argument("--variant", choices=variants, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:
        print(json.dumps(variants[args.variant](args.steps)))
        sys.exit(0)
    return args


def run_variant(script: str, name: str, steps: int, python: str) -> dict | None:
    """The timings that one variant printed as JSON, or None if its process failed."""
    result = subprocess.run([python, script, "--variant", name, "--steps", str(steps)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        print(f"{name} failed: {result.stderr.strip().splitlines()[-1:]}")
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def keras_available(python: str) -> bool:
    """Whether `python` can import Keras and TensorFlow (False if it cannot be run at all)."""
    try:
        return subprocess.run([python, "-c", "import keras, tensorflow"],
                              capture_output=True).returncode == 0
    except OSError:
        return False


def compare(script: str, pythons: dict[str, str], steps: int,
            repeats: int) -> dict[str, list[dict]]:
    """Every variant's timings, `repeats` of them, the variants taking turns."""
    runs: dict[str, list[dict]] = {name: [] for name in pythons}
    for _ in range(repeats):
        for name, python in pythons.items():
            result = run_variant(script, name, steps, python)
            if result is not None:
                runs[name].append(result)
    return runs


NO_BF16 = "not measured, this CPU has no bfloat16 units"


def bf16_units() -> bool:
    """Whether this machine computes bfloat16 natively (elsewhere it is emulated: a 2048 ×
    2048 product took 12 s on an AVX2-only CPU, against 0.1 s in float32)."""
    import torch

    from isldl.machine import bf16_is_fast

    return bf16_is_fast(torch.device("cpu"))


def pythons_for(variants, python: str, keras_python: str,
                bf16: bool | None = None) -> dict[str, str]:
    """The Python that runs each variant; Keras' variants are left out (and said so) when
    `keras_python` cannot import Keras, and the bfloat16 variants where the machine has no
    bfloat16 units (`bf16`, by default `bf16_units()`)."""
    keras = keras_available(keras_python)
    if not keras:
        print(f"keras: not importable by {keras_python}; its variants are skipped")
    bf16 = bf16_units() if bf16 is None else bf16
    if not bf16:
        print(f"bfloat16: {NO_BF16}; its variants are skipped")
    return {name: keras_python if name.startswith("keras") else python
            for name in variants if (keras or not name.startswith("keras"))
            and (bf16 or precision_of(name) != "bfloat16")}



def precisions_line(pythons: dict[str, str]) -> str:
    """Which precisions this run measured, for the line above a table."""
    measured = sorted({precision_of(name) for name in pythons}, reverse=True)
    note = "" if "bfloat16" in measured else f" (bfloat16: {NO_BF16})"
    return f"precisions measured: {', '.join(measured)}{note}"


def precision_of(variant: str) -> str:
    """The precision a variant computes in: its name ends in `-bf16` for bfloat16."""
    return "bfloat16" if variant.endswith("-bf16") else "float32"


def ratio_lines(seconds: dict[str, float], pairs, fastest: dict[str, float] | None = None,
                unit: str = "per epoch") -> list[str]:
    """'- a is r× as fast as b' for each pair (a, b) of `pairs` that was measured, from the
    medians `seconds` (and the ratio of the fastest runs, where `fastest` is given)."""
    lines = []
    for a, b in pairs:
        if a in seconds and b in seconds:
            line = f"- {a} is {seconds[b] / seconds[a]:.2f}× as fast as {b} {unit}"
            if fastest:
                line += f" (fastest runs: {fastest[b] / fastest[a]:.2f}×)"
            lines.append(line)
    return lines


def matmul_gflops(dtype: str = "float32", rounds: int = 5) -> float:
    """The machine's matrix-multiply speed at a precision, as a practical peak: the best of
    `rounds` rounds of ten products of 2048 × 2048 matrices."""
    import torch

    a, b = (torch.rand(2048, 2048, dtype=getattr(torch, dtype)) for _ in range(2))
    a @ b
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(10):
            a @ b
        best = min(best, time.perf_counter() - start)
    return 10 * 2 * 2048 ** 3 / best / 1e9


def measured_where() -> str:
    """The processor (its name, and its vendor, family and model: one name covers several
    generations), its cores and the date, for the line above a table."""
    import os

    from isldl.machine import cpu_id, processor_name

    return (f"{processor_name()} ({cpu_id()}), {os.cpu_count()} cores, "
            f"{time.strftime('%Y-%m-%d')}")
