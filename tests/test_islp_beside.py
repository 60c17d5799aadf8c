"""isldl beside ISLP, the official Python companion of ISLR2, which this book's readers are the
likeliest to have: in one fresh virtual environment, ISLP 0.6.0 (with its glmstar, whose module
is `glmnet`) and then isldl with the book's tooling; chapters 1 and 5, whose lasso runs
glmstar, in fast mode; and ISLP with its `glmnet` still importable afterwards.

torch and torchvision are this environment's, linked in as the Colab test links Colab's
(`test_colab.preinstalled_site`), so that nothing of several GB is downloaded; the rest comes
from PyPI as a reader gets it, not at the lock's versions: ISLP's pygam needs a SciPy older
than the lock's."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_colab import fresh_environment, preinstalled_site, tagged_clone

pytestmark = pytest.mark.slow  # see conftest.py

ISLP = "ISLP==0.6.0"


def pip(python: Path, *arguments, env: dict) -> None:
    result = subprocess.run([python, "-m", "pip", "install", "--quiet", *arguments], env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ISLP 0.6.0 needs Python 3.11")
@pytest.mark.skipif(sys.platform == "win32", reason="the virtual environment's layout is POSIX")
def test_chapters_1_and_5_run_beside_islp_and_islp_still_imports(root, tmp_path):
    python, packages = fresh_environment(tmp_path / "with-islp")
    (packages / "linked-torch.pth").write_text(f"{preinstalled_site(tmp_path / 'torch')}\n")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    env.pop("VIRTUAL_ENV", None)
    pip(python, ISLP, env=env)
    # isldl as a reader installs it (not editable), then the book's tooling to run chapters,
    # from a copy of the checkout (pip builds in the source tree)
    checkout = tagged_clone(root, tmp_path / "checkout")
    pip(python, f"{checkout}[tools]", env=env)
    pip(python, "--no-deps", str(checkout / "book_tools"), env=env)

    # each chapter run by the book's runner inside that environment, with the tests' values
    run = ("import json, sys; sys.path.insert(0, 'tests'); from pathlib import Path; "
           "from chapter_values import run_for_tests; "
           "print(json.dumps(run_for_tests(Path(sys.argv[1]), {'mode': 'fast'}, "
           "Path(sys.argv[2]))))")
    recorded = {}
    for chapter in ("01-hitters", "05-imdb-bag-of-words"):
        result = subprocess.run(
            [python, "-c", run, f"chapters/{chapter}.qmd", str(tmp_path / "runs")],
            cwd=checkout,
            env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, (chapter, result.stderr[-3000:])
        recorded[chapter] = json.loads(result.stdout.strip().splitlines()[-1])
    # glmstar, the module ISLP brought, ran both lasso fits
    assert recorded["05-imdb-bag-of-words"]["lasso_solver"] == "glmnet"
    assert recorded["01-hitters"]["lasso_solver"] == "glmnet"

    check = subprocess.run(
        [python, "-c", "import ISLP, glmnet, isldl; from glmnet import GaussNet, LogNet; "
                       "from ISLP import load_data; print(glmnet.__file__, isldl.__file__)"],
        env=env, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr[-3000:]
    glmnet_file, isldl_file = check.stdout.split()
    assert Path(glmnet_file).is_relative_to(packages)
    assert Path(isldl_file).is_relative_to(packages)  # the installed package, not code/
    conflicts = subprocess.run([python, "-m", "pip", "check"], env=env, capture_output=True,
                               text=True)
    assert conflicts.returncode == 0, conflicts.stdout
