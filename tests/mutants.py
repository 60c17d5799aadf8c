"""Deliberate bugs ("mutants") put into a copy of the package, to check that the tests catch them.

    python tests/mutants.py [NAME ...]      (or `make mutants`; not part of `make test`)

Each mutant replaces one piece of the code (`code/isldl`, `book_tools/isldl_book`) in a scratch
copy of the repository, runs the
tests that should catch it, and is reported as killed (a test failed) or survived. The exit
status is 1 if any survived. The list holds the bugs that once passed the whole suite.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Mutant:
    name: str
    file: str  # from the repository's root
    old: str
    new: str
    tests: tuple[str, ...]


MUTANTS = [
    Mutant("S1 binary accuracy at 0.5", "code/isldl/train.py", "(out.squeeze(-1) > 0)",
           "(out.squeeze(-1) > 0.5)", ("tests/test_exact.py",)),
    Mutant("S2 IMDb validation positions 1-based", "code/isldl/data/tables.py",
           "[column].to_numpy() - 1", "[column].to_numpy()",
           ("tests/test_exact.py",)),
    Mutant("S3 CIFAR fine and coarse labels swapped", "code/isldl/data/cifar.py",
           'labels(train, "fine_labels"), images(test), labels(test, "fine_labels")',
           'labels(train, "coarse_labels"), images(test), labels(test, "coarse_labels")',
           ("tests/test_data.py::test_cifar_reader_on_a_fixture",)),
    Mutant("S4 key without the seed", "code/isldl/pinned.py",
           'if k != "validation_data"}', 'if k not in ("validation_data", "seed")}',
           ("tests/test_pinned.py",)),
    Mutant("S4 key without the training code", "code/isldl/keys.py",
           '"code": sha(fit_code(model).encode()),', '"code": "",', ("tests/test_pinned.py",)),
    Mutant("S4 key without the code of layers inside a Sequential", "code/isldl/keys.py",
           "for m in model.modules()", "for m in [model]", ("tests/test_pinned.py",)),
    Mutant("S4 initial weights compared bit for bit", "code/isldl/keys.py",
           "rtol=1e-5, atol=1e-6", "rtol=0, atol=0", ("tests/test_pinned.py",)),
    Mutant("S4 update mode retrains current pins too", "code/isldl/pinned.py",
           "        return True\n\n    def rekey(", "        return False\n\n    def rekey(",
           ("tests/test_pinned.py",)),
    Mutant("S5 one_hot columns shifted", "code/isldl/data/imdb.py",
           "cols = np.concatenate(sequences)",
           "cols = np.concatenate(sequences) + 1", ("tests/test_exact.py",)),
    Mutant("S5 one_hot counts not binarised", "code/isldl/data/imdb.py",
           "matrix.data[:] = 1.0  # a word", "matrix.data[:] *= 1.0  # a word",
           ("tests/test_exact.py",)),
    Mutant("S6 no reshuffle between epochs", "code/isldl/train.py",
           "order = torch.randperm(_length(x), generator=generator)",
           "order = torch.randperm(_length(x), generator=torch.Generator().manual_seed(seed))",
           ("tests/test_exact.py",)),
    Mutant("S6 fit ignores its seed", "code/isldl/train.py",
           "generator = torch.Generator().manual_seed(seed)",
           "generator = torch.Generator().manual_seed(0)", ("tests/test_exact.py",)),
    Mutant("S6 metrics weighted by batch, not by sample", "code/isldl/train.py",
           "totals[name] += fn(out, yb) * len(index)", "totals[name] += fn(out, yb) * batch_size",
           ("tests/test_exact.py",)),
    Mutant("S6 Keras' initialisation replaced by uniform ±0.05", "code/isldl/train.py",
           "            nn.init.xavier_uniform_(module.weight)",
           "            nn.init.uniform_(module.weight, -0.05, 0.05)", ("tests/test_exact.py",)),
    Mutant("S6 LSTM forget-gate bias zero", "code/isldl/models.py",
           "[units:2 * units] = 1.0", "[units:2 * units] = 0.0",
           ("tests/test_exact.py",)),
    Mutant("S7 run_chapter does not restore the environment", "book_tools/isldl_book/run.py",
           "                os.environ[name] = value", "                pass",
           ("tests/test_run.py",)),
    Mutant("S7 unclosed-cell check deleted", "book_tools/isldl_book/run.py",
           "    if in_code:\n        raise ChapterError",
           "    if False:\n        raise ChapterError", ("tests/test_run.py",)),
    Mutant("Hitters CV folds rolled by one", "code/isldl/data/tables.py",
           '["foldid"].to_numpy()', '["foldid"].to_numpy()[[-1, *range(175)]]',
           ("tests/test_exact.py",)),
    Mutant("lambda_min one step off", "code/isldl/lasso.py",
           "lambda_min = lambdas[cv_mean <= cv_mean.min()].max()",
           "lambda_min = lambdas[int(np.argmin(cv_mean)) + 1]", ("tests/test_exact.py",)),
    Mutant("lasso path in the order of NumPy's global seed", "code/isldl/lasso.py",
           "random_state=0)", "random_state=None)", ("tests/test_exact.py",)),
    Mutant("the batches' order depends on the number of epochs", "code/isldl/train.py",
           "generator = torch.Generator().manual_seed(seed)",
           "generator = torch.Generator().manual_seed(seed + epochs)", ("tests/test_train.py",)),
    Mutant("glmnet standardises the words", "code/isldl/lasso.py",
           "standardize=False,", "standardize=True,", ("tests/test_exact.py",)),
    Mutant("glmnet's path ignores the ratio asked for", "code/isldl/lasso.py",
           ", lambda_min_ratio=ratio)", ")", ("tests/test_exact.py",)),
    Mutant("liblinear penalises the intercept", "code/isldl/lasso.py",
           "intercept_scaling=100.0", "intercept_scaling=1.0", ("tests/test_exact.py",)),
]


def run(mutant: Mutant, scratch: Path) -> str:
    target = scratch / mutant.file
    original = target.read_text()
    if original.count(mutant.old) != 1:
        return f"not applied: {mutant.old!r} is not found once in {mutant.file}"
    target.write_text(original.replace(mutant.old, mutant.new))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *mutant.tests],
            cwd=scratch, capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(
                [str(scratch / "code"), str(scratch / "book_tools")])})
    finally:
        target.write_text(original)
    return "killed" if result.returncode == 1 else (
        "survived" if result.returncode == 0 else f"error (pytest exit {result.returncode})")


def main(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or any(n in m.name for n in names)]
    survived = 0
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp) / ROOT.name  # beside it, ../shared as the tests expect
        shutil.copytree(ROOT, scratch, ignore=shutil.ignore_patterns(
            ".git", ".venv", "_book", "build", "results", "*.egg-info", "__pycache__"))
        (scratch / "results").symlink_to(ROOT / "results")
        (Path(tmp) / "shared").symlink_to(ROOT.parent / "shared")
        for mutant in chosen:
            outcome = run(mutant, scratch)
            survived += outcome != "killed"
            print(f"{outcome:>9}  {mutant.name}", flush=True)
    print(f"{len(chosen) - survived} of {len(chosen)} killed")
    return 1 if survived else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
