"""The GitHub workflows, for what this machine cannot run: valid against GitHub's schema
(check-jsonschema's vendored copy), and doing what the README says they do."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"


def workflow(name: str) -> dict:
    loaded = yaml.safe_load((WORKFLOWS / name).read_text())
    loaded["on"] = loaded.pop(True, loaded.get("on"))  # YAML 1.1 reads the key `on` as True
    return loaded


def steps_text(job: dict) -> str:
    return "\n".join(str(step.get("run", "")) + str(step.get("uses", "")) for step in job["steps"])


def test_every_workflow_is_valid_against_githubs_schema():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {f.name for f in files} >= {"publish.yml", "tests.yml", "latest.yml", "links.yml"}
    command = shutil.which("check-jsonschema") or str(
        Path(sys.executable).with_name("check-jsonschema"))
    result = subprocess.run([command, "--builtin-schema", "vendor.github-workflows", *files],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pull_requests_run_the_readmes_test_command_on_linux_and_macos_with_every_python(root):
    tests = workflow("tests.yml")
    assert "pull_request" in tests["on"]
    job = tests["jobs"]["tests"]
    matrix = job["strategy"]["matrix"]
    assert set(matrix["os"]) == {"ubuntu-latest", "macos-latest", "windows-latest"}
    oldest = re.search(r'requires-python = ">=(\d\.\d+)"', (root / "pyproject.toml")
                       .read_text())[1]
    assert matrix["python"] == [oldest, "3.13", "3.14"]
    make_test = next(step for step in job["steps"] if step.get("name") == "make test")
    assert make_test["run"].startswith("make test ") and make_test["if"] == "runner.os != 'Windows'"
    # Windows: the library, with the lock's two pip commands, and the missing pins trained
    assert "isldl_book.train_missing" in steps_text(job)


def test_the_pinned_tests_run_as_each_simulated_processor_computes(root):
    job = workflow("tests.yml")["jobs"]["simulated"]
    assert "make test-simulated" in steps_text(job)
    makefile = (root / "Makefile").read_text()
    assert re.search(r"^test-simulated: .*\n\t\$\(PY\) -m isldl_book.simulated -- "
                     r"\$\(PY\) -m pytest -m pinned", makefile, flags=re.MULTILINE)


def quarto_version(root) -> str:
    return re.search(r'"quarto-cli==([\d.]+)"', (root / "pyproject.toml").read_text())[1]


def test_every_workflow_sets_up_the_tested_quarto_but_the_weekly_newest(root):
    tested = quarto_version(root)
    for path in sorted(WORKFLOWS.glob("*.yml")):
        for name, job in workflow(path.name)["jobs"].items():
            for step in job["steps"]:
                if step.get("uses", "").startswith("quarto-dev/quarto-actions/setup"):
                    expected = "release" if name == "newest-quarto" else tested
                    assert str(step["with"]["version"]) == expected, (path.name, name)
    assert f"/opt/quarto-{tested}/" in (root / ".ci" / "run").read_text()


def test_the_weekly_run_renders_the_book_with_the_newest_quarto():
    job = workflow("latest.yml")["jobs"]["newest-quarto"]
    text = steps_text(job)
    assert "make book" in text and "make check-book" in text
    assert "gh issue create" in text and "newest Quarto" in text


@pytest.mark.parametrize("name", ["latest.yml", "links.yml"])
def test_the_weekly_runs_open_an_issue_when_they_fail(name):
    weekly = workflow(name)
    assert weekly["on"]["schedule"][0]["cron"].endswith("* * 1")  # Mondays
    assert weekly["permissions"]["issues"] == "write"
    for job in weekly["jobs"].values():
        text = steps_text(job)
        assert "gh issue create" in text and "gh issue comment" in text
    text = steps_text(next(iter(weekly["jobs"].values())))
    assert ("make test-latest" if name == "latest.yml" else "python -m isldl_book.links") in text


def test_the_publishing_workflow_trains_missing_pins_and_hands_them_back():
    publish = workflow("publish.yml")
    steps = publish["jobs"]["book"]["steps"]
    render = next(i for i, s in enumerate(steps) if "make book" in s.get("run", ""))
    hand_back = next(i for i, s in enumerate(steps)
                     if s.get("uses", "").startswith("peter-evans/create-pull-request"))
    assert render < hand_back and steps[hand_back]["with"]["add-paths"] == "results/"
    assert publish["jobs"]["book"]["permissions"]["pull-requests"] == "write"


def test_make_book_trains_the_missing_pins_before_it_renders(root):
    makefile = (root / "Makefile").read_text()
    assert re.search(r"^book: .*\bpins\b", makefile, flags=re.MULTILINE)
    assert re.search(r"^pins: .*\n\t\$\(PY\) -m isldl_book.train_missing$", makefile,
                     flags=re.MULTILINE)
