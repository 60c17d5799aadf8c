"""What a chapter reports: `record(name=value, …)` keeps its key results for the tests.

When `isldl.run` executes a chapter it names a metrics file in the environment; `record`
merges the values into it. Under Quarto (no such file) `record` does nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .data.files import atomic_write

METRICS_ENV = "ISLDL_METRICS"


def record(**metrics) -> dict:
    """Record a chapter's key results: written to the metrics file when run by `isldl.run`."""
    path = os.environ.get(METRICS_ENV)
    if path:
        path = Path(path)
        current = json.loads(path.read_text()) if path.exists() else {}
        current.update({k: _plain(v) for k, v in metrics.items()})
        atomic_write(path, lambda tmp: tmp.write_text(json.dumps(current, indent=2)))
    return metrics


def _plain(value):
    """NumPy and torch scalars as plain Python numbers, for JSON."""
    return value.item() if hasattr(value, "item") else value
