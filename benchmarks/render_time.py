"""The render's wall time, before and after each page was executed once for both formats.

    python benchmarks/render_time.py --before 4d195db [--after HEAD] [--repeats 5]
        [--save benchmarks/render_time.md]

Renders the book (PDF and HTML, from the pinned results, as `make book` does after its
install) from two commits, each in a clean worktree with its own `isldl` and `isldl_book`,
alternately, `--repeats` times each, on this machine:

- before: Quarto renders each format and executes every page for each (`quarto render --to
  pdf`, then `--to html`), as `make book` did up to commit 4d195db;
- after: `python -m isldl_book.render --formats pdf html`, each page executed once, two at a
  time, for both, then both formats rendered at once (`make book` renders the EPUB too).

Prints each time, the medians and their ratio; `--save` writes them as Markdown.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from isldl.machine import cpu_id

ROOT = Path(__file__).resolve().parents[1]

# `make book`'s render before isldl_book.render: each format executes every page.
PER_FORMAT = ("rm -rf _book build/pdf && quarto render --to pdf && mkdir -p build/pdf "
              "&& mv _book/*.pdf build/pdf/ && quarto render --to html "
              "&& mv build/pdf/*.pdf _book/")
ONCE = f"{sys.executable} -m isldl_book.render --formats pdf html"


def worktree(commit: str, parent: Path) -> Path:
    """A clean checkout of `commit`, with Quarto's project cache made (untimed, on both sides:
    39fc91b's render could race to make it)."""
    folder = parent / commit
    subprocess.run(["git", "worktree", "add", "--detach", str(folder), commit], cwd=ROOT,
                   check=True, capture_output=True)
    subprocess.run(["quarto", "inspect"], cwd=folder, check=True, capture_output=True)
    return folder


def timed_render(folder: Path, command: str) -> float:
    """Seconds to run `command` in `folder` with that checkout's own packages."""
    env = os.environ | {"QUARTO_PYTHON": sys.executable,
                        "PYTHONPATH": f"{folder / 'code'}{os.pathsep}{folder / 'book_tools'}"}
    start = time.perf_counter()
    done = subprocess.run(command, shell=True, cwd=folder, env=env, capture_output=True,
                          text=True)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"{command} failed in {folder}:\n{done.stdout[-3000:]}{done.stderr}")
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--before", required=True, help="a commit that renders per format")
    parser.add_argument("--after", default="HEAD")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--save", type=Path)
    args = parser.parse_args(argv)
    parent = Path(tempfile.mkdtemp(prefix="isldl-render-"))
    sides = {"before (each format executes every page)": (args.before, PER_FORMAT),
             "after (each page executed once, the formats at once)": (args.after, ONCE)}
    times = {side: [] for side in sides}
    try:
        folders = {side: worktree(commit, parent) for side, (commit, _) in sides.items()}
        for repeat in range(args.repeats):
            for side, (_, command) in sides.items():  # alternately: the same load on both
                times[side].append(timed_render(folders[side], command))
                print(f"{repeat + 1}/{args.repeats} {side}: {times[side][-1]:.0f} s",
                      flush=True)
    finally:
        for folder in parent.glob("*"):
            subprocess.run(["git", "worktree", "remove", "--force", str(folder)], cwd=ROOT,
                           capture_output=True)
        shutil.rmtree(parent, ignore_errors=True)
    medians = {side: statistics.median(values) for side, values in times.items()}
    before, after = medians.values()
    lines = [
        f"# The render's wall time: {args.before} against {args.after}",
        "",
        f"{cpu_id()}, {os.cpu_count()} cores; PDF and "
        f"HTML from the pinned results, {args.repeats} renders each, alternately.",
        "",
        "| render | median (s) | each (s) |",
        "|:--|--:|:--|",
        *(f"| {side} | {medians[side]:.0f} | {', '.join(f'{t:.0f}' for t in values)} |"
          for side, values in times.items()),
        "",
        f"After / before: {after / before:.2f} (the target: under 0.5).",
    ]
    print("\n".join(lines))
    if args.save:
        args.save.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
