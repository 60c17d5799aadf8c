"""Wall time of each chapter run through `isldl_book.run`, with its pinned results or retraining.

    python benchmarks/chapter_times.py [--mode load|retrain|update] [--repeats N] [--jobs N]
                                       [--save FILE]

Prints one row per chapter: the median seconds over the repeats (kernel start included), and
the wall time of the whole book. With `--jobs N`, N chapters run at a time, each with its
share of the cores as PyTorch's threads (two kernels of two threads each would oversubscribe
two cores). `--mode retrain` rewrites every pinned result at the source's budgets: it is what
`make retrain` measures; `--mode update` retrains only the pins that are not current. A
chapter whose data cannot be had here (it ran on stand-in data) is reported as skipped; the
exit status is 1 only when a chapter failed.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness import measured_where
from report import report

ROOT = Path(__file__).resolve().parents[1]


def time_chapter(chapter: Path, mode: str, threads: int | None) -> float | str:
    """Seconds to run the chapter, or why it did not run: "failed: …" or "skipped: …"."""
    out = ROOT / "build" / "bench"
    command = [sys.executable, "-m", "isldl_book.run", str(chapter.relative_to(ROOT)),
               "--out", str(out.relative_to(ROOT)), "-p", "mode", mode]
    env = os.environ | ({"OMP_NUM_THREADS": str(threads)} if threads else {})
    start = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        last = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no message"
        return "failed: " + last.replace(str(ROOT) + "/", "")[:150]
    metrics = json.loads((out / f"{chapter.stem}.metrics.json").read_text())
    if "stand-in data" in metrics.get("not_the_books_results", []):
        return "skipped: its data cannot be had here"
    return seconds


def saved_seconds(table: Path | None) -> dict[str, float]:
    """{chapter: seconds} from a table this script saved before (none if there is none)."""
    if table is None or not table.exists():
        return {}
    cells = [line.strip("|").split("|") for line in table.read_text().splitlines()]
    return {c[0].strip(): float(c[1]) for c in cells
            if len(c) == 2 and c[1].strip().replace(".", "", 1).isdigit()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", choices=("load", "retrain", "update", "rekey"), default="load")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=1, help="chapters run at a time")
    parser.add_argument("--save", type=Path, help="also write the table to this file")
    args = parser.parse_args()
    threads = max(1, (os.cpu_count() or 1) // args.jobs) if args.jobs > 1 else None
    chapters = sorted((ROOT / "chapters").glob("*.qmd"))
    runs, walls = {chapter: [] for chapter in chapters}, []
    before = saved_seconds(args.save)
    for _ in range(args.repeats):
        start = time.perf_counter()
        with ThreadPoolExecutor(args.jobs) as pool:
            # the longest chapters first (by this run's repeats so far, else the saved table),
            # so that the queues end together
            order = sorted(chapters, key=lambda c: -statistics.median(
                [r for r in runs[c] if not isinstance(r, str)] or [before.get(c.stem, 0)]))
            times = pool.map(lambda c: time_chapter(c, args.mode, threads), order)
            for chapter, seconds in zip(order, times):
                runs[chapter].append(seconds)
        walls.append(time.perf_counter() - start)
    what = {"load": "pinned", "retrain": "retrained", "update": "updated",
            "rekey": "re-keyed"}[args.mode]
    lines = [f"Measured on {measured_where()}.", "",
             f"| chapter | seconds ({what}, median of {args.repeats}, {args.jobs} at a time) |",
             "|:--|--:|"]
    failed = False
    for chapter in chapters:
        failures = [r for r in runs[chapter] if isinstance(r, str)]
        failed = failed or any(r.startswith("failed") for r in failures)
        if failures:
            lines.append(f"| {chapter.stem} | {failures[0]} |")
        else:
            lines.append(f"| {chapter.stem} | {statistics.median(runs[chapter]):.1f} |")
    lines.append(f"| **the whole book, wall time** | {statistics.median(walls):.1f} |")
    report(lines, args.save)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
