"""What rendered the book: the session-information appendix (`appendices/session-info.qmd`).

`environment()` gathers the versions of Python, the libraries and Quarto, the machine's
processors and the date of the render; `pinned_results()` reads every pinned fit's record
(`results/*/pin.json`): when and on which processor it was trained, and its test metric.
`environment_table` and `pinned_table` write them as Markdown tables.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path

import pandas as pd

from isldl.chapter import markdown_table
from isldl.machine import arithmetic, cpu_name, default_device, processor_name
from isldl.missing import missing_fits
from isldl.paths import results_root

LIBRARIES = ("torch", "torchvision", "numpy", "pandas", "scikit-learn", "glmstar",
             "matplotlib")
"""The libraries whose versions the appendix lists, by their distribution names."""

NOT_QUARTO = "not rendered by Quarto"


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    """{distribution: installed version}; "not installed" for one that is missing."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def quarto_version(environ: dict | None = None) -> str:
    """The version of the Quarto that is rendering this page.

    `QUARTO_VERSION` where it is set; else, inside a Quarto render (Quarto sets
    `QUARTO_DOCUMENT_PATH` for the kernel), the version file of the Quarto that runs
    (`$QUARTO_SHARE_PATH/version`) or `quarto --version`; else "not rendered by Quarto"
    (a chapter run by `isldl_book.run`, say)."""
    environ = os.environ if environ is None else environ
    if environ.get("QUARTO_VERSION"):
        return environ["QUARTO_VERSION"]
    if not environ.get("QUARTO_DOCUMENT_PATH"):
        return NOT_QUARTO
    share = environ.get("QUARTO_SHARE_PATH")
    if share and (Path(share) / "version").is_file():
        return (Path(share) / "version").read_text().strip()
    binary = (Path(environ["QUARTO_BIN_PATH"]) / "quarto" if environ.get("QUARTO_BIN_PATH")
              else shutil.which("quarto"))
    if binary:
        try:
            return subprocess.run([str(binary), "--version"], capture_output=True, text=True,
                                  timeout=60, check=True).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    return "rendered by Quarto, version unknown"


def gpu_name() -> str:
    """The GPU that training would use (`isldl.machine.default_device`), or "none"."""
    device = default_device()
    if device.type == "cuda":
        return processor_name()
    return "Apple MPS" if device.type == "mps" else "none"


def describe_arithmetic(arithmetic: dict | None) -> str:
    """A pin's or this machine's arithmetic (`isldl.machine.arithmetic`) in a few words."""
    if not arithmetic or arithmetic.get("cpu_capability") is None:
        return "not recorded"
    if arithmetic["device"] != "cpu":
        return f"{arithmetic['processor']} ({arithmetic['device']})"
    return (f"{arithmetic['cpu_capability']}, {arithmetic['processor']}, "
            f"{arithmetic['threads']} thread(s)")


def environment(today: dt.date | None = None) -> dict[str, str]:
    """{what: version or name}, in the order the appendix prints them."""
    info = {"Python": platform.python_version()}
    info.update(library_versions())
    info["Quarto"] = quarto_version()
    info["CPU"] = cpu_name()
    info["GPU"] = gpu_name()
    info["Processor that trains (as pins record it)"] = processor_name()
    info["Arithmetic (CPU capability, processor, threads)"] = describe_arithmetic(arithmetic())
    info["Rendered on"] = (today or dt.date.today()).isoformat()
    return info


def _metric(metrics: dict) -> str:
    def one(name, value):
        name = name.removeprefix("test_").replace("_", " ")
        if isinstance(value, float):
            return f"{name} {value:.4f}" if abs(value) < 1 else f"{name} {value:.2f}"
        return f"{name} {value}"

    return ", ".join(one(name, value) for name, value in metrics.items())


def pinned_results(results: Path | None = None) -> list[dict[str, str]]:
    """One row per pinned fit (`results/*/pin.json`), sorted by name: its date, processor
    (and the device, where not the CPU), torch's version, training time and test metrics
    ("test_" left off); and one per fit recorded as missing, saying why."""
    results, rows = results or results_root(), []
    for pin in sorted(results.glob("*/pin.json")):
        record = json.loads(pin.read_text())
        rows.append({
            "Fit": record.get("name", pin.parent.name),
            "Trained on": record.get("date", "?"),
            "Processor": record.get("processor", "?") + (
                "" if record.get("device", "cpu") == "cpu" else f" ({record['device']})"),
            "torch": record.get("torch", "—").split("+")[0],
            "Training (s)": f"{record['train_seconds']:.1f}" if "train_seconds" in record
            else "?",
            "Arithmetic": describe_arithmetic(record.get("arithmetic")),
            "Test metric": _metric(record.get("metrics", {})),
        })
    for name, missing in missing_fits(results).items():  # their data could not be had
        rows.append({"Fit": name, "Trained on": "not pinned", "Processor": "—",
                     "torch": "—", "Training (s)": "—", "Arithmetic": "—",
                     "Test metric": f"{missing['why']} where the pins were made; "
                                    "see `make pins`"})
    return sorted(rows, key=lambda row: row["Fit"])


def environment_table(info: dict[str, str] | None = None) -> str:
    """`environment()` as a two-column Markdown table."""
    info = environment() if info is None else info
    return markdown_table(pd.DataFrame({"Component": list(info),
                                        "Version or name": list(info.values())}), index=False)


def pinned_table(results: Path | None = None) -> str:
    """`pinned_results()` as a Markdown table."""
    return markdown_table(pd.DataFrame(pinned_results(results)), index=False)
