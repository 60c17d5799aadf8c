"""Train once each pin that is missing because its data could not be had where the pins were
made (`results/<fit>/missing.json`), now that the data can be had here.

    python -m isldl_book.train_missing   # `make pins`, which `make book` runs before rendering

For each such fit it first fetches the data the fit needs (downloading it where the network
allows). Where that fails, the fit is left missing and its chapter will say so on its page;
otherwise the chapter runs in `missing` mode, which trains and pins only the fits recorded as
missing, its output (the announcement of the fit, why and about how long, and the progress
bar) shown here. Commit the new `results/<fit>/` afterwards so that the next build loads it.
Any other pin of that chapter is loaded as a render loads it: a stale or damaged one stops
the run with its error, never retrained here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from isldl.data.files import DataError, fetch
from isldl.missing import missing_fits
from isldl.paths import results_root

from . import BOOK_ROOT
from .run import ChapterError, run_chapter


def train_missing(root: Path = BOOK_ROOT, out: Path = Path("build/pins")) -> list[str]:
    """Train the missing pins (under `isldl.paths.results_root()`) whose data can be had now;
    return the names of those trained."""
    results, trained = results_root(), []
    for name, missing in missing_fits(results).items():
        try:
            for file in missing["data"]:
                fetch(file)
        except DataError as err:
            print(f"{name}: not trained, its data still cannot be had here ({err})")
            continue
        chapter = f"chapters/{missing['chapter']}.qmd"
        print(f"{name}: its data can be had now; running {chapter} in missing mode", flush=True)
        metrics = run_chapter(root / chapter, {"mode": "missing"}, out, show_output=True)
        if "data_error" in metrics:  # the chapter found more data missing than was recorded
            print(f"{name}: not trained, its chapter ran on stand-in data "
                  f"({metrics['data_error']})")
            continue
        if not (results / name / "pin.json").exists():
            raise ChapterError(f"{chapter} ran but did not pin {name!r}")
        trained.append(name)
    if trained:
        print(f"pinned {', '.join(trained)} in {results}: commit them so that the next build "
              "loads them")
    return trained


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl_book.train_missing",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("build/pins"),
                        help="folder for the chapters' executed notebooks (default build/pins)")
    args = parser.parse_args(argv)
    try:
        train_missing(out=args.out)
    except ChapterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
