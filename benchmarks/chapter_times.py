"""Wall time of each chapter run through `isldl.run`, with its pinned results and retraining.

    python benchmarks/chapter_times.py [--retrain] [--repeats N]

Prints one row per chapter: the median seconds over the repeats. Retraining rewrites the pinned
results (at the source's budgets), so `--retrain` is what `make retrain` measures.
"""

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def time_chapter(chapter: Path, retrain: bool) -> float:
    command = [sys.executable, "-m", "isldl.run", str(chapter), "--out", "build/bench"]
    if retrain:
        command += ["-p", "retrain", "true"]
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--retrain", action="store_true")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    chapters = sorted((ROOT / "chapters").glob("*.qmd"))
    mode = "retrained" if args.retrain else "pinned"
    print(f"| chapter | seconds ({mode}, median of {args.repeats}) |\n|:--|--:|")
    total = 0.0
    for chapter in chapters:
        seconds = statistics.median(time_chapter(chapter, args.retrain)
                                    for _ in range(args.repeats))
        total += seconds
        print(f"| {chapter.stem} | {seconds:.1f} |", flush=True)
    print(f"| **all** | {total:.1f} |")


if __name__ == "__main__":
    main()
