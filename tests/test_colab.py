"""The Colab notebooks' set-up cell, run as Colab runs it: in a fresh virtual environment
that already has torch, torchvision and IPython (as Colab's runtime has), against a local clone
of this repository tagged with the release's tag (`ISLDL_REPO`); then the chapter's next cells,
in fast mode."""

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from importlib import metadata
from pathlib import Path

import pytest
import torch
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from isldl.source import source_value
from isldl_book.notebooks import REPO_ENV, release_tag

pytestmark = pytest.mark.slow  # see conftest.py

PREINSTALLED = ("torch", "torchvision", "ipython")
"""What the simulated Colab runtime has before the set-up cell runs (with their dependencies)."""


def closure(names) -> set[str]:
    """The installed distributions that `names` need, themselves included."""
    seen, todo = set(), [canonicalize_name(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for line in metadata.requires(name) or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(canonicalize_name(requirement.name))
    return seen


def preinstalled_site(folder: Path) -> Path:
    """A folder of links to this environment's copies of PREINSTALLED and what they need,
    their metadata included, so that pip in another environment sees them as installed."""
    folder.mkdir()
    site = Path(sysconfig.get_paths()["purelib"])
    for name in closure(PREINSTALLED):
        distribution = metadata.distribution(name)
        tops = {Path(str(f)).parts[0] for f in distribution.files or []}
        for top in tops - {".."}:
            if (site / top).exists() and not (folder / top).exists():
                (folder / top).symlink_to(site / top)
    return folder


def fresh_environment(folder: Path) -> tuple[Path, Path]:
    """A new virtual environment in `folder`: its Python and its site-packages."""
    venv.create(folder, with_pip=True)
    python = folder / "bin" / "python"
    packages = Path(subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True).stdout.strip())
    return python, packages


def installed(packages: Path) -> set[str]:
    """The distributions installed in the folder `packages` itself."""
    return {canonicalize_name(d.metadata["Name"]) for d in metadata.distributions(
        path=[str(packages)])}


def tagged_clone(root: Path, folder: Path) -> Path:
    """A git repository holding this working tree's files (tracked and not ignored), one
    commit tagged with the release's tag, as the published repository is at the release."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=root,
                           capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (root / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, folder / name)
    git = ["git", "-C", str(folder), "-c", "user.name=test", "-c", "user.email=test@example"]
    subprocess.run(["git", "init", "--quiet", str(folder)], check=True)
    subprocess.run([*git, "add", "--all"], check=True)
    subprocess.run([*git, "commit", "--quiet", "-m", "release"], check=True)
    subprocess.run([*git, "tag", release_tag(root)], check=True)
    return folder


def lock_without(preinstalled: set[str], root: Path, folder: Path) -> Path:
    """The lock's versions, so that the test does not change with PyPI's newest, except for
    what the runtime has installed already: those are the runtime's, whatever they are."""
    lines = [line for line in (root / "requirements-lock.txt").read_text().splitlines()
             if line.split("#")[0].strip() and canonicalize_name(
                 Requirement(line.split("#")[0]).name) not in preinstalled]
    path = folder / "constraints.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


RUN_CELLS = """
import json, sys
from IPython.core.interactiveshell import InteractiveShell

notebook = json.load(open(sys.argv[1]))
shell = InteractiveShell.instance()
for cell in notebook["cells"]:
    if cell["cell_type"] != "code":
        continue
    source = "".join(cell["source"])
    if source.startswith("mode = "):  # the parameters cell: as papermill would set it
        source = 'mode = "fast"'
    shell.run_cell(source).raise_error()
shell.run_cell(
    "import isldl.state; isldl.state.write_record(sys.argv[2], lm_test_mae=lm_mae)"
).raise_error()
import isldl, isldl.data.tables, torch
print(json.dumps({"isldl": isldl.__file__, "tables": str(isldl.data.tables.TABLES),
                  "torch": torch.__file__, "torch_version": torch.__version__}))
"""


@pytest.mark.skipif(sys.platform == "win32", reason="the runtime is Colab's: Linux")
def test_the_colab_set_up_cell_installs_the_release_keeps_torch_and_runs_the_chapter(
        root, tmp_path):
    python, packages = fresh_environment(tmp_path / "colab")
    before = installed(packages)  # the new environment's own: pip (and setuptools)
    (packages / "colab-runtime.pth").write_text(f"{preinstalled_site(tmp_path / 'runtime')}\n")

    clone = tagged_clone(root, tmp_path / "release")
    metrics = tmp_path / "metrics.json"
    env = {**os.environ, "HOME": str(tmp_path / "home"), REPO_ENV: f"file://{clone}",
           "MPLBACKEND": "Agg",
           "PIP_CONSTRAINT": str(lock_without(closure(PREINSTALLED), root, tmp_path))}
    env.pop("VIRTUAL_ENV", None)
    (tmp_path / "run_cells.py").write_text(RUN_CELLS)
    result = subprocess.run(
        [python, tmp_path / "run_cells.py", root / "notebooks" / "01-hitters.ipynb", metrics],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    where = json.loads(result.stdout.strip().splitlines()[-1])

    # isldl is the installed package, not the clone's code/ (no sys.path), its tables the
    # package's own data; the pins are found from the chapter's folder of the clone
    assert where["isldl"] == str(packages / "isldl" / "__init__.py")
    assert where["tables"] == str(packages / "isldl" / "data" / "csv")
    assert (Path(where["torch"]).parent.parent == tmp_path / "runtime"
            and where["torch_version"] == torch.__version__)  # Colab's torch, kept
    assert not (packages / "torch").exists()
    added = installed(packages) - before  # what the set-up cell installed
    assert "isldl" in added and not added & closure(PREINSTALLED)
    # nor what only runs chapters as notebooks (Colab pins its own ipykernel)
    assert not added & {"ipykernel", "papermill", "nbformat"}

    recorded = json.loads(metrics.read_text())
    assert recorded["mode"] == "fast" and "fast mode" in recorded["not_the_books_results"]
    assert round(recorded["lm_test_mae"], 4) == source_value("hitters.lm_test_mae")
