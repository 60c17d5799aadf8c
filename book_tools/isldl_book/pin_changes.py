"""What a retraining changed: each pin's test metrics before (at a git revision) and now.

    python -m isldl_book.pin_changes REVISION --why "…" --out results/changes/NAME.json
                                     [--fits NAME ...]

Run after `make retrain` (or after retraining the pins named by `--fits`), with the revision of
the pins before it. Each pin's `pin.json` is read at that revision (`git show`) and in the
working tree; the file written lists, for every fit, its chapter, its test metrics, processor
and date before and after, and, for a pinned result that is not a fit (`result.npz`), the
largest change of each of its arrays, so that the book shows what moved (the errata appendix
reads it) without a number typed in.
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from isldl.data.files import atomic_write

from . import BOOK_ROOT


def pin_at(revision: str, name: str, root: Path = BOOK_ROOT) -> dict | None:
    """results/<name>/pin.json as it was at `revision`, or None where it did not exist."""
    shown = subprocess.run(["git", "show", f"{revision}:results/{name}/pin.json"], cwd=root,
                           capture_output=True, text=True)
    return json.loads(shown.stdout) if shown.returncode == 0 else None


def array_changes(revision: str, name: str, root: Path = BOOK_ROOT) -> dict[str, float]:
    """{array: largest absolute change} between results/<name>/result.npz at `revision` and
    now, over the entries that both hold (a path may be longer on one side); a text array
    (the solver's name) counts 0 where it is unchanged, else 1."""
    shown = subprocess.run(["git", "show", f"{revision}:results/{name}/result.npz"], cwd=root,
                           capture_output=True)
    if shown.returncode != 0:
        return {}
    with np.load(io.BytesIO(shown.stdout)) as before, \
            np.load(root / "results" / name / "result.npz") as after:
        changes = {}
        for key in after.files:
            old, new = before[key], after[key]
            if new.dtype.kind in "US":
                changes[key] = float(not np.array_equal(old, new))
                continue
            rows = min(len(old), len(new)) if new.ndim else None
            changes[key] = float(np.max(np.abs(new[:rows] - old[:rows])))
        return changes


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


def changes(revision: str, root: Path = BOOK_ROOT,
            fits: list[str] | None = None) -> dict[str, dict]:
    """{fit: {chapter, before, after}} for every pin of the working tree (or those named in
    `fits`). A fit whose pin recorded its R² before and records its test loss now (chapter
    7's) gets its R² now too, computed from the loss, so that the two can be compared."""
    found = {}
    for path in sorted((root / "results").glob("*/pin.json")):
        if fits and path.parent.name not in fits:
            continue
        record = json.loads(path.read_text())
        now, before = _facts(record), pin_at(revision, path.parent.name, root)
        before = _facts(before) if before else None
        if before and "test_r2" in before["metrics"] and "test_r2" not in now["metrics"]:
            now["metrics"]["test_r2"] = nyse_r2(now["metrics"]["test_loss"])
        found[path.parent.name] = {"chapter": record.get("chapter"), "before": before,
                                   "after": now}
        if (path.parent / "result.npz").exists():
            found[path.parent.name]["arrays"] = array_changes(revision, path.parent.name, root)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl_book.pin_changes",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("revision", help="the git revision of the pins before the retraining")
    parser.add_argument("--why", required=True, help="what changed in the training")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--fits", nargs="+", help="only these pins (all by default)")
    args = parser.parse_args(argv)
    commit = subprocess.run(["git", "rev-parse", args.revision], cwd=BOOK_ROOT,
                            capture_output=True, text=True)
    if commit.returncode != 0:
        print(f"error: no git revision {args.revision!r}", file=sys.stderr)
        return 1
    record = {"before": commit.stdout.strip(), "why": args.why,
              "fits": changes(args.revision, fits=args.fits)}
    atomic_write(args.out, lambda tmp: tmp.write_text(json.dumps(record, indent=2) + "\n"))
    print(f"wrote {args.out}: {len(record['fits'])} fits")
    return 0


if __name__ == "__main__":
    sys.exit(main())
