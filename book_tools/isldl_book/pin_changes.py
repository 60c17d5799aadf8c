"""What a retraining changed: each pin's test metrics before (at a git revision) and now.

    python -m isldl_book.pin_changes REVISION --why "…" --out results/changes/NAME.json

Run after `make retrain`, with the revision of the pins before it. Each pin's `pin.json` is
read at that revision (`git show`) and in the working tree; the file written lists, for every
fit, its chapter, its test metrics, processor and date before and after, so that the book
shows what moved (the errata appendix reads it) without a number typed in.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from isldl.data.files import atomic_write

from . import BOOK_ROOT

def pin_at(revision: str, name: str, root: Path = BOOK_ROOT) -> dict | None:
    """results/<name>/pin.json as it was at `revision`, or None where it did not exist."""
    shown = subprocess.run(["git", "show", f"{revision}:results/{name}/pin.json"], cwd=root,
                           capture_output=True, text=True)
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def _facts(record: dict) -> dict:
    return {"metrics": dict(record["metrics"]), "processor": record["processor"],
            "date": record["date"]}


def nyse_r2(test_loss: float) -> float:
    """The source's test R² of a NYSE fit from its test loss: 1 − MSE / V0, V0 the variance
    of the test years' log volume (R's var), as chapter 7 computes it."""
    from isldl.data import load_nyse
    from isldl.timeseries import ar_frame, r2_from_mse

    frame, train = ar_frame(load_nyse())
    return r2_from_mse(test_loss, frame["log_volume"].to_numpy()[~train])


def changes(revision: str, root: Path = BOOK_ROOT) -> dict[str, dict]:
    """{fit: {chapter, before, after}} for every pin of the working tree. A fit whose pin
    recorded its R² before and records its test loss now (chapter 7's) gets its R² now too,
    computed from the loss, so that the two can be compared."""
    found = {}
    for path in sorted((root / "results").glob("*/pin.json")):
        record = json.loads(path.read_text())
        now, before = _facts(record), pin_at(revision, path.parent.name, root)
        before = _facts(before) if before else None
        if before and "test_r2" in before["metrics"] and "test_r2" not in now["metrics"]:
            now["metrics"]["test_r2"] = nyse_r2(now["metrics"]["test_loss"])
        found[path.parent.name] = {"chapter": record.get("chapter"), "before": before,
                                   "after": now}
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl_book.pin_changes",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("revision", help="the git revision of the pins before the retraining")
    parser.add_argument("--why", required=True, help="what changed in the training")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", args.revision], cwd=BOOK_ROOT,
                            capture_output=True, text=True)
    if commit.returncode != 0:
        print(f"error: no git revision {args.revision!r}", file=sys.stderr)
        return 1
    record = {"before": commit.stdout.strip(), "why": args.why,
              "fits": changes(args.revision)}
    atomic_write(args.out, lambda tmp: tmp.write_text(json.dumps(record, indent=2) + "\n"))
    print(f"wrote {args.out}: {len(record['fits'])} fits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
