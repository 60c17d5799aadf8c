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


def test_pull_requests_run_the_tests_on_three_systems_with_the_oldest_and_newest_python(root):
    tests = workflow("tests.yml")
    assert "pull_request" in tests["on"]
    job = tests["jobs"]["tests"]
    matrix = job["strategy"]["matrix"]
    assert set(matrix["os"]) == {"ubuntu-latest", "macos-latest", "windows-latest"}
    oldest = re.search(r'requires-python = ">=(\d\.\d+)"', (root / "pyproject.toml")
                            .read_text())[1]
    assert matrix["python"] == [oldest, "3.13"]
    text = steps_text(job)
    assert "CPU_TORCH=1" in text and "isldl_book.train_missing" in text
    # where TeX cannot be installed, its tests are deselected, and the log says why
    assert '-m "not tex"' in text and "::notice::Tests marked 'tex' skipped" in text


@pytest.mark.parametrize("name", ["latest.yml", "links.yml"])
def test_the_weekly_runs_open_an_issue_when_they_fail(name):
    weekly = workflow(name)
    assert weekly["on"]["schedule"][0]["cron"].endswith("* * 1")  # Mondays
    assert weekly["permissions"]["issues"] == "write"
    (job,) = weekly["jobs"].values()
    text = steps_text(job)
    assert "gh issue create" in text and "gh issue comment" in text
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
