"""How far the pinned fits' test metrics move when another processor computes them.

    python benchmarks/pin_arithmetic.py [--save FILE] [--chapters 02-mnist ...]

Runs every chapter that has pins in `load` mode under each simulated processor: PyTorch's CPU
capability (`ATEN_CPU_CAPABILITY`) with oneDNN's instruction set to match
(`ONEDNN_MAX_CPU_ISA`), with one thread and with two; then, for each pin, prints the largest
relative change of its test loss and the largest change of its accuracy, counted in test
examples, against the metrics recorded when it was trained. This is the measurement behind
`isldl.machine.LOSS_RTOL` and `ACCURACY_FLIPS`: the tolerance that the tests allow where the
arithmetic is not the pin's.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from harness import measured_where
from isldl.machine import SIMULATED, simulated_env
from report import report

ROOT = Path(__file__).resolve().parents[1]


def pin_outcomes(chapter: str, env: dict, out: Path) -> dict:
    """{pin: {"metrics": now, "recorded": at training}} of the chapter run in load mode."""
    command = [sys.executable, "-m", "isldl_book.run", f"chapters/{chapter}.qmd",
               "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, env=os.environ | env)
    metrics = json.loads((out / f"{chapter}.metrics.json").read_text())
    return {k[4:]: v for k, v in metrics.items() if k.startswith("pin:") and v["metrics"]}


def pinned_chapters() -> list[str]:
    """The chapters that make pins, as their pin.json files name them."""
    return sorted({json.loads(path.read_text())["chapter"]
                   for path in (ROOT / "results").glob("*/pin.json")})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chapters", nargs="*", default=pinned_chapters(),
                        help="the chapters to run (by default every one that has a pin)")
    parser.add_argument("--save", type=Path)
    args = parser.parse_args()
    out = ROOT / "build" / "pin-arithmetic"
    worst: dict[str, dict] = {}
    for capability in SIMULATED:
        for threads in (1, 2):
            env = simulated_env(capability, threads)
            for chapter in args.chapters:
                for pin, outcome in pin_outcomes(chapter, env, out).items():
                    row = worst.setdefault(pin, {"loss": 0.0, "accuracy": 0.0, "where": ""})
                    now, then = outcome["metrics"], outcome["recorded"]
                    loss = abs(now["test_loss"] / then["test_loss"] - 1)
                    accuracy = abs(now.get("test_accuracy", 0) - then.get("test_accuracy", 0))
                    if loss > row["loss"]:
                        row.update(loss=loss, where=f"{capability}, {threads} thread(s)")
                    row["accuracy"] = max(row["accuracy"], accuracy)
            print(f"done: {capability}, {threads} thread(s)", flush=True)
    lines = [f"The pinned fits' test metrics recomputed under each simulated processor "
             f"({', '.join(SIMULATED)}; 1 and 2 threads); {measured_where()}.", "",
             "| pin | largest relative change of the test loss | where | largest change "
             "of the test accuracy |", "|:--|--:|:--|--:|"]
    lines += [f"| {pin} | {row['loss']:.2e} | {row['where'] or '(none)'} | "
              f"{row['accuracy']:.4f} |" for pin, row in sorted(worst.items())]
    lines += ["", f"- largest relative change of a test loss: "
              f"{max(r['loss'] for r in worst.values()):.2e}",
              f"- largest change of a test accuracy: "
              f"{max(r['accuracy'] for r in worst.values()):.4f}"]
    report(lines, args.save)


if __name__ == "__main__":
    main()
