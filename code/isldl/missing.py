"""Fits whose data could not be had where the pins were made, and `make pins`, which trains
each of them once where the data can be had.

Such a fit has no pin: its chapter ran on stand-in data. Retraining there leaves
`results/<name>/missing.json` instead, which says why and how long the fit takes. In `load`
mode the fit is a `PinError` that names `make pins` (part of `make book`), which runs its
chapter in `missing` mode where the data can now be had, announcing the fit, why and about
how long, with a progress bar.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from . import state
from . import train as training
from .data.files import atomic_write
from .machine import run_facts
from .paths import results_root

MISSING = "missing.json"
"""The file that stands for a pin whose data could not be had where the pins were made."""
TRAIN_MISSING = "make pins"
"""The command that trains each missing pin once (`python -m isldl_book.train_missing`)."""


def read_missing(folder: Path) -> dict | None:
    """missing.json of a pin whose data could not be had where the pins were made, if any."""
    path = folder / MISSING
    return json.loads(path.read_text()) if path.exists() else None


def missing_fits(results: Path | None = None) -> dict[str, dict]:
    """{fit: its missing.json} for every fit recorded as missing and not pinned since."""
    return {path.parent.name: read_missing(path.parent)
            for path in sorted((results or results_root()).glob(f"*/{MISSING}"))
            if not (path.parent / "pin.json").exists()}


def _examples(x, settings: dict) -> int:
    """How many examples a fit passes over: its rows times its epochs."""
    return x.shape[0] * settings.get("epochs", 1)


def record_missing(folder: Path, model, x, y, settings: dict) -> None:
    """Write missing.json: the fit could not be pinned here, since its data could not be had;
    with its speed on the stand-in data, to estimate the real fit's time. The speed is that of
    a second fit, on a copy of the model: the first paid for one-off set-up."""
    with training.Timer() as timer:
        training.fit(copy.deepcopy(model), x, y, **settings)
    record = {"name": folder.name, "why": state.stand_in()["why"],
              "data": state.stand_in()["data"], "chapter": state.chapter(),
              "seconds_per_example": timer.seconds / _examples(x, settings),
              **run_facts(timer.seconds)}
    del record["train_seconds"]
    atomic_write(folder / MISSING, lambda tmp: tmp.write_text(json.dumps(record, indent=2)))


def announce(folder: Path, x, settings: dict) -> bool:
    """Say which missing pin is trained now, why it was missing and about how long it takes;
    whether it was one."""
    missing = read_missing(folder)
    if missing is None:
        return False
    minutes = missing["seconds_per_example"] * _examples(x, settings) / 60
    print(f"Training the fit {folder.name!r} once, at its chapter's budget: it has no pin "
          f"because {missing['why']} where the pins were made ({missing['processor']}, "
          f"{missing['date']}). About {max(minutes, 0.1):.1f} minutes at that machine's speed.",
          flush=True)
    return True
