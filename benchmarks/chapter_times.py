"""Wall time of each chapter run through `isldl.run`, with its pinned results and retraining.

    python benchmarks/chapter_times.py [--retrain] [--repeats N] [--save FILE]

Prints one row per chapter: the median seconds over the repeats (kernel start included).
Retraining rewrites the pinned results (at the source's budgets), so `--retrain` is what
`make retrain` measures.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

from isldl.run import parameters_of, qmd_to_notebook

ROOT = Path(__file__).resolve().parents[1]


def time_chapter(chapter: Path, retrain: bool) -> float | str:
    """Seconds to run the chapter, or why it failed (e.g. its data cannot be had here)."""
    command = [sys.executable, "-m", "isldl.run", str(chapter), "--out", "build/bench"]
    if retrain and "retrain" in parameters_of(qmd_to_notebook(chapter)):
        command += ["-p", "retrain", "true"]  # a chapter that trains nothing has no `retrain`
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        return "failed: " + result.stderr.strip().splitlines()[-1][:150]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--save", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    mode = "retrained" if args.retrain else "pinned"
    lines = [f"| chapter | seconds ({mode}, median of {args.repeats}) |", "|:--|--:|"]
    total = 0.0
    for chapter in sorted((ROOT / "chapters").glob("*.qmd")):
        runs = [time_chapter(chapter, args.retrain) for _ in range(args.repeats)]
        failures = [r for r in runs if isinstance(r, str)]
        if failures:
            lines.append(f"| {chapter.stem} | {failures[0]} |")
        else:
            total += statistics.median(runs)
            lines.append(f"| {chapter.stem} | {statistics.median(runs):.1f} |")
        print(lines[-1], flush=True)
    lines.append(f"| **all that ran** | {total:.1f} |")
    print(lines[-1])
    if args.save:
        args.save.write_text("\n".join(lines) + "\n")
    if any("failed" in line for line in lines):
        sys.exit(1)


if __name__ == "__main__":
    main()
