"""What the book offers its readers beyond the chapters: notebooks (executed, practice, Colab),
licences and citation, errata, session information, the lock file and the dark theme."""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from isldl.chapter import markdown_table
from isldl_book import errata, notebooks, session
from isldl_book.markdown import chapters
from isldl_book.run import qmd_to_notebook
from isldl_book.structure import book_files, labels_in, quarto_config


def pyproject_version(root):
    text = (root / "pyproject.toml").read_text()
    return re.search(r'^version = "([^"]+)"', text, re.MULTILINE)[1]


# ------------------------------------------------------------------------------ notebooks


def test_the_committed_colab_notebooks_are_what_the_generator_writes_now(root):
    """`make notebooks` after any change to a chapter, _quarto.yml or the version."""
    expected = notebooks.colab_files(root)
    folder = root / "notebooks"
    committed = {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
                 for p in folder.rglob("*") if p.is_file()}
    stale = sorted(name for name in expected if committed.get(name) != expected[name])
    extra = sorted(set(committed) - set(expected))
    assert (stale, extra) == ([], []), "run `make notebooks`"


def test_each_chapter_has_a_colab_notebook_that_installs_the_release(root):
    tag = f"v{pyproject_version(root)}"
    listed = [qmd.stem for qmd in chapters(root)]
    links = json.loads((root / "notebooks" / "links.json").read_text())
    assert list(links["chapters"]) == listed and links["tag"] == tag
    for stem in listed:
        notebook = nbformat.read(root / "notebooks" / f"{stem}.ipynb", as_version=4)
        nbformat.validate(notebook)
        first_code = next(c for c in notebook.cells if c.cell_type == "code")
        assert f'"--branch", "{tag}"' in first_code.source
        assert notebooks.repo_url(root) in first_code.source
        assert "pip" in first_code.source and "install" in first_code.source
        assert "sys.path" not in first_code.source  # the installed package, as a reader has
        assert not any(c.get("outputs") for c in notebook.cells if c.cell_type == "code")
        assert not any(line.startswith("#|") for c in notebook.cells
                       for line in c.source.splitlines())


def test_every_link_points_at_a_file_the_build_or_the_repository_holds(root, tmp_path):
    """Executed and practice notebooks: exactly the files `write_downloads` writes into
    _book/notebooks/; Colab: the committed notebook at the release's tag, never a branch."""
    tag = f"v{pyproject_version(root)}"
    owner_name = re.match(r"https://github\.com/(.+)$", quarto_config(root)["book"]["repo-url"])[1]
    links = notebooks.links(root)
    assert links == json.loads((root / "notebooks" / "links.json").read_text())
    # The build: kept notebooks as Quarto leaves them, then `make book`'s step.
    book = copy_book(root, tmp_path)
    for qmd in chapters(book):
        nbformat.write(qmd_to_notebook(qmd), qmd.with_suffix(".quarto_ipynb"))
    written = notebooks.write_downloads(book)
    assert {p.relative_to(book / "_book").as_posix() for p in written} == {
        target for entry in links["chapters"].values()
        for kind, target in entry.items() if not kind.startswith("colab")}
    assert not list(book.rglob("*.quarto_ipynb"))
    for stem, entry in links["chapters"].items():
        assert entry["colab"] == (f"https://colab.research.google.com/github/{owner_name}/"
                                  f"blob/{tag}/notebooks/{stem}.ipynb")
        assert entry["colab_student"] == entry["colab"].replace("/notebooks/",
                                                                "/notebooks/student/")
        assert (root / "notebooks" / f"{stem}.ipynb").is_file()
        assert (root / "notebooks" / "student" / f"{stem}.ipynb").is_file()
        assert "/main/" not in entry["colab"] and "/master/" not in entry["colab"]


def test_a_new_chapter_gets_its_notebooks_from_the_chapter_list(root, tmp_path):
    book = copy_book(root, tmp_path)
    new = book / "chapters" / "99-new.qmd"
    new.write_text("# A new chapter {#sec-new}\n\nText.\n\n```{python}\n#| label: parameters\n"
                   "#| tags: [parameters]\nmode = \"load\"\n```\n")
    config = (book / "_quarto.yml").read_text()
    (book / "_quarto.yml").write_text(config.replace(
        "    - references.qmd\n", "    - chapters/99-new.qmd\n    - references.qmd\n", 1))
    assert "99-new" in notebooks.links(book)["chapters"]
    notebooks.write_colab(book)
    assert (book / "notebooks" / "99-new.ipynb").is_file()


def test_a_notebook_from_a_fast_render_is_not_offered(root, tmp_path):
    kept = tmp_path / "01-hitters.quarto_ipynb"
    notebook = qmd_to_notebook(root / "chapters" / "01-hitters.qmd")
    notebook.cells[2].outputs = [nbformat.v4.new_output(
        "display_data", data={"text/markdown": "Fast run: these are not the book's results"})]
    nbformat.write(notebook, kept)
    with pytest.raises(ValueError, match="not the book's results"):
        notebooks.executed_notebook(kept, root)


def test_the_html_book_keeps_its_notebooks_and_links_them_under_each_title(root):
    config = quarto_config(root)
    assert config["format"]["html"]["keep-ipynb"] is True
    assert "keep-ipynb" not in config["format"]["pdf"]
    assert "filters/notebook-links.lua" in config["filters"]
    assert config["filters"].index("filters/notebook-links.lua") < config["filters"].index("quarto")
    lua = (root / "filters" / "notebook-links.lua").read_text()
    assert 'quarto.doc.is_format("html")' in lua and "links.json" in lua
    assert "data-noresolveinput" in lua  # else Quarto warns about the .ipynb links
    makefile = (root / "Makefile").read_text()
    book_recipe = makefile.split("\nbook:", 1)[1].split("\n\n", 1)[0]
    assert "$(call render_editions,instructor)" in book_recipe
    render_editions = makefile.split("\ndefine render_editions\n", 1)[1].split("\nendef", 1)[0]
    assert (render_editions.index("isldl_book.render")  # the notebooks the HTML render kept
            < render_editions.index("isldl_book.notebooks downloads"))
    assert "make book" in (root / ".github" / "workflows" / "publish.yml").read_text()


def copy_book(root: Path, to: Path) -> Path:
    """The book's sources, without the results or the rendered book."""
    for name in ("_quarto.yml", "pyproject.toml", "references.bib", "index.qmd",
                 "references.qmd", "errata.qmd"):
        shutil.copy(root / name, to / name)
    shutil.copytree(root / "chapters", to / "chapters",
                    ignore=shutil.ignore_patterns("*.quarto_ipynb"))
    shutil.copytree(root / "appendices", to / "appendices",
                    ignore=shutil.ignore_patterns("*.quarto_ipynb"))
    return to


# ------------------------------------------------------------------ licences and citation


def test_the_licences_are_stated_in_license_readme_and_the_book(root):
    licence = (root / "LICENSE").read_text()
    assert "MIT License" in licence and "CC BY-NC-SA 4.0" in licence
    assert "Permission is hereby granted, free of charge" in licence
    assert 'license = { text = "MIT" }' in (root / "pyproject.toml").read_text()
    readme = (root / "README.md").read_text()
    assert "MIT" in readme and "CC BY-NC-SA 4.0" in readme
    footer = quarto_config(root)["book"]["page-footer"]["center"]
    assert "CC BY-NC-SA 4.0" in footer and "MIT" in footer
    preface = (root / "index.qmd").read_text()
    assert "CC BY-NC-SA 4.0" in preface and "MIT" in preface
    assert "::: {#book-citation}" in preface


def test_citation_cff_is_valid_and_matches_the_package_and_the_book(root):
    cff = yaml.safe_load((root / "CITATION.cff").read_text())
    assert cff["cff-version"] == "1.2.0"
    for key in ("cff-version", "message", "title", "authors"):  # CFF 1.2.0's required keys
        assert cff.get(key), key
    assert all(a.get("name") or a.get("family-names") for a in cff["authors"])
    assert str(cff["version"]) == pyproject_version(root)
    dt.date.fromisoformat(str(cff["date-released"]))
    assert set(cff["license"]) == {"MIT", "CC-BY-NC-SA-4.0"}
    config = quarto_config(root)
    assert cff["repository-code"] == config["book"]["repo-url"]
    citation = config["citation"]
    assert citation["title"] == cff["title"] == config["book"]["title"]
    assert str(citation["version"]) == str(cff["version"])
    assert citation["url"] == cff["url"]
    assert citation["author"] == cff["authors"][0]["name"] == config["book"]["author"]
    assert "filters/citation.lua" in config["filters"]


# --------------------------------------------------------------------------------- errata


def test_the_errata_page_is_in_the_book_and_reads_errata_yml(root):
    appendices = quarto_config(root)["book"]["appendices"]
    assert "errata.qmd" in appendices
    page = (root / "errata.qmd").read_text()
    assert "issues/new?template=erratum.yml" in page
    assert (root / ".github" / "ISSUE_TEMPLATE" / "erratum.yml").is_file()
    entries = errata.read_errata(root / "errata.yml")
    assert entries
    labels = set().union(*(labels_in(p.read_text()) for p in book_files(root)))
    for entry in entries:
        assert entry["where"] == "book" or entry["where"] in labels, entry["where"]
    table = errata.errata_table(entries)
    assert table.splitlines()[0] == "| Where | Kind | What | Status |"
    assert len(table.splitlines()) == len(entries) + 2


HEADING = re.compile(r"^(#+) .*\{#(sec-[\w-]+)\}")
DIFFERENCE = re.compile(r"\[[^\]]+\]\{\.difference\}")


def disclosed_differences(root) -> list[tuple[str, set[str]]]:
    """Each `[…]{.difference}` span of the book's pages (a place where the page says that it
    departs from the source), with the labels of the sections around it."""
    found = []
    for page in book_files(root):
        sections: list[tuple[int, str]] = []
        text = re.sub(r"```\{python\}.*?```", "", page.read_text(), flags=re.S)
        for paragraph in text.split("\n\n"):
            heading = HEADING.match(paragraph)
            if heading:
                level = len(heading[1])
                sections = [s for s in sections if s[0] < level] + [(level, heading[2])]
            for span in DIFFERENCE.findall(" ".join(paragraph.split())):
                found.append((span, {label for _, label in sections}))
    return found


def test_every_difference_a_page_discloses_has_its_errata_entry_and_back(root):
    """The errata are complete: a difference that a page discloses (marked
    `[…]{.difference}`) has an entry of errata.yml for its section or one around it, and
    each entry of kind difference is disclosed on its page."""
    entries = errata.read_errata(root / "errata.yml")
    where = {entry["where"] for entry in entries}
    disclosed = disclosed_differences(root)
    assert len(disclosed) >= 10
    for span, sections in disclosed:
        assert sections & where, (span, sections)
    for entry in entries:
        if entry["kind"] == "difference" and entry["where"] != "book":
            assert any(entry["where"] in sections for _, sections in disclosed), entry


def test_an_erratum_without_a_field_or_with_an_unknown_kind_is_refused(tmp_path):
    path = tmp_path / "errata.yml"
    path.write_text("- {where: book, kind: difference, what: x}\n")
    with pytest.raises(ValueError, match="entry 1 lacks status"):
        errata.read_errata(path)
    path.write_text("- {where: book, kind: typo, what: x, status: open}\n")
    with pytest.raises(ValueError, match="kind 'typo'"):
        errata.read_errata(path)


# ------------------------------------------------------------------------ session information


def test_the_session_appendix_is_listed_and_uses_the_module(root):
    assert "appendices/session-info.qmd" in quarto_config(root)["book"]["appendices"]
    page = (root / "appendices" / "session-info.qmd").read_text()
    assert "session.environment_table()" in page and "session.pinned_table()" in page
    assert "<table" not in page


def test_the_environment_lists_every_version_and_the_machine():
    info = session.environment(today=dt.date(2026, 1, 2))
    for name in ("Python", "Quarto", "CPU", "GPU"):
        assert info[name], name
    for name in session.LIBRARIES:  # every library the book needs is installed here
        assert re.match(r"\d+\.\d+", info[name]), (name, info[name])
    assert info["Rendered on"] == "2026-01-02"
    assert re.match(r"\d+\.\d+", info["torch"]) and re.match(r"\d+\.\d+", info["numpy"])


def test_quartos_version_comes_from_quarto_or_says_there_was_none(tmp_path):
    assert session.quarto_version({"QUARTO_VERSION": "9.9.9"}) == "9.9.9"
    assert session.quarto_version({}) == session.NOT_QUARTO
    (tmp_path / "version").write_text("1.7.34\n")
    assert session.quarto_version({"QUARTO_DOCUMENT_PATH": "/x",
                                   "QUARTO_SHARE_PATH": str(tmp_path)}) == "1.7.34"


def test_pinned_results_are_read_from_every_pin(tmp_path, root):
    for name, metrics in (("02-b", {"test_accuracy": 0.98174}), ("01-a", {"test_mae": 259.9})):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pin.json").write_text(json.dumps({
            "name": name, "date": "2026-11-27", "processor": "AMD EPYC", "device": "cpu",
            "torch": "2.14.1", "train_seconds": 13.94, "metrics": metrics}))
    (tmp_path / "03-c").mkdir()
    (tmp_path / "03-c" / "missing.json").write_text(json.dumps({
        "name": "03-c", "why": "CIFAR-100 (Krizhevsky 2009) could not be had"}))
    record = json.loads((tmp_path / "01-a" / "pin.json").read_text())
    record["arithmetic"] = {"torch": "2.14.1", "device": "cpu", "cpu_capability": "AVX2",
                            "processor": "AuthenticAMD family 23 model 49", "threads": 2}
    (tmp_path / "01-a" / "pin.json").write_text(json.dumps(record))
    rows = session.pinned_results(tmp_path)
    assert [r["Fit"] for r in rows] == ["01-a", "02-b", "03-c"]
    assert rows[0]["Arithmetic"] == "AVX2, AuthenticAMD family 23 model 49, 2 thread(s)"
    assert rows[1]["Arithmetic"] == "not recorded"  # a pin from before it was recorded
    assert rows[2]["Trained on"] == "not pinned" and rows[2]["Test metric"].startswith(
        "CIFAR-100 (Krizhevsky 2009) could not be had where the pins were made")
    assert rows[0]["Test metric"] == "mae 259.90"
    assert rows[1]["Test metric"] == "accuracy 0.9817"
    assert rows[0]["Training (s)"] == "13.9" and rows[0]["Trained on"] == "2026-11-27"
    assert rows[0]["Processor"] == "AMD EPYC" and rows[0]["torch"] == "2.14.1"
    table = session.pinned_table(tmp_path)
    assert table.splitlines()[1] == "|:--|:--|:--|:--|--:|:--|:--|"
    assert len(session.pinned_results(root / "results")) == len(
        {p.parent for p in (root / "results").glob("*/*.json")
         if p.name in ("pin.json", "missing.json")})


def test_a_markdown_table_escapes_pipes():
    frame = pd.DataFrame({"a": ["x|y"]})
    assert markdown_table(frame, index=False) == "| a |\n|:--|\n| x\\|y |"


# ------------------------------------------------------------------------------ the lock file


def lock_lines(root) -> list[Requirement]:
    """requirements-lock.txt's lines: one pinned version each, with its markers."""
    lines = [line.split("#", 1)[0].strip()
             for line in (root / "requirements-lock.txt").read_text().splitlines()]
    return [Requirement(line) for line in lines if line]


EXTRAS = ("", "tools", "test", "book")  # `make test` and `make book` install test and book,
# which include tools


def declared_requirements() -> list[Requirement]:
    """isldl's requirements and those of its extras that `make` installs, as installed."""
    found = []
    for line in metadata.requires("isldl"):
        requirement = Requirement(line)
        if requirement.name == "isldl":  # an extra that includes another: isldl[tools]
            continue
        if requirement.marker is None or any(requirement.marker.evaluate({"extra": extra})
                                             for extra in EXTRAS):
            found.append(requirement)
    return found


# Where the lock must install: each Python that isldl declares, on each system.
PLATFORMS = {"linux": ("Linux", "x86_64"), "darwin": ("Darwin", "arm64"),
             "win32": ("Windows", "AMD64")}
LOCKED_FOR = [{"python_version": version, "python_full_version": f"{version}.0",
               "sys_platform": platform, "platform_system": system, "platform_machine": machine,
               "implementation_name": "cpython", "platform_python_implementation": "CPython",
               "os_name": "nt" if platform == "win32" else "posix"}
              for version in ("3.10", "3.11", "3.12", "3.13", "3.14")
              for platform, (system, machine) in PLATFORMS.items()]


@pytest.mark.parametrize("environment", LOCKED_FOR,
                         ids=[f"{e['python_version']}-{e['sys_platform']}" for e in LOCKED_FOR])
def test_the_lock_pins_each_dependency_once_within_its_range_for_each_python(environment):
    declared = declared_requirements()
    assert len(declared) >= 20
    lock = lock_lines(Path(__file__).resolve().parents[1])
    for requirement in declared:
        context = {**environment, "extra": ""}
        if requirement.marker and not any(requirement.marker.evaluate({**context, "extra": e})
                                          for e in EXTRAS):
            continue  # glmstar where it has no wheel
        name = canonicalize_name(requirement.name)
        pins = [line for line in lock if canonicalize_name(line.name) == name
                and (line.marker is None or line.marker.evaluate(context))]
        assert len(pins) == 1, (name, environment["python_version"], [str(p) for p in pins])
        (spec,) = pins[0].specifier
        assert spec.operator == "==", str(pins[0])
        assert requirement.specifier.contains(Version(spec.version), prereleases=True), (
            str(requirement), str(pins[0]))


# uv's names of the systems whose wheels the lock must have (macOS: torch's wheels need 14).
UV_PLATFORMS = {"linux": "x86_64-manylinux_2_28", "darwin": "aarch64-apple-darwin",
                "win32": "x86_64-pc-windows-msvc"}


@pytest.mark.slow  # asks PyPI
def test_every_line_of_the_lock_has_a_wheel_for_each_python_and_system(root):
    """No package of the lock is built from source on a reader's machine (python-glmnet had
    no wheel for Python 3.14, nor for macOS and Windows): uv resolves the lock's pins with
    wheels only, from PyPI, for Python 3.10 to 3.14 on each system (at once: each resolution
    mostly waits on PyPI)."""
    from concurrent.futures import ThreadPoolExecutor

    uv = Path(sys.executable).with_name("uv")

    def resolve(python, platform):
        return subprocess.run(
            [uv, "pip", "compile", "requirements-lock.txt", "--python-version", python,
             "--python-platform", platform, "--only-binary", ":all:", "--no-deps",
             "--quiet", "-o", os.devnull], cwd=root, capture_output=True, text=True,
            env={**os.environ, "MACOSX_DEPLOYMENT_TARGET": "14.0",
                 "UV_PYTHON_DOWNLOADS": "never"})  # resolve for it, never fetch it

    targets = [(python, platform) for python in ("3.10", "3.11", "3.12", "3.13", "3.14")
               for platform in UV_PLATFORMS.values()]
    with ThreadPoolExecutor(len(targets)) as pool:
        results = list(pool.map(lambda target: resolve(*target), targets))
    for (python, platform), result in zip(targets, results):
        assert result.returncode == 0, (python, platform, result.stderr[-2000:])


def make_dry_run(root, target: str, path: str, **variables) -> str:
    """What `make -n target` would run, with PATH set to `path` (a stand-in system)."""
    arguments = [f"{name}={value}" for name, value in variables.items()]
    result = subprocess.run(["make", "-n", "-W", "pyproject.toml", target, *arguments],
                            cwd=root, capture_output=True, text=True,
                            env={**os.environ, "PATH": path})
    assert result.returncode == 0, result.stderr
    return result.stdout


def fake_command(folder: Path, name: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("#!/bin/sh\nexit 0\n")
    (folder / name).chmod(0o755)
    return folder


@pytest.mark.skipif(sys.platform != "linux", reason="the choice is Linux's")
def test_the_install_chooses_torchs_cpu_build_on_linux_without_an_nvidia_gpu(root, tmp_path):
    if Path("/proc/driver/nvidia").exists():
        pytest.skip("this machine has an NVIDIA driver")
    path = os.environ["PATH"]
    without_gpu = make_dry_run(root, ".venv/.installed-test", path)
    assert "torch: the CPU-only build, as this is Linux without an NVIDIA GPU" in without_gpu
    assert "--index-url https://download.pytorch.org/whl/cpu" in without_gpu
    with_gpu = make_dry_run(root, ".venv/.installed-test",
                            f"{fake_command(tmp_path / 'gpu', 'nvidia-smi')}:{path}")
    assert "torch: PyPI's build, as this machine has an NVIDIA GPU" in with_gpu
    forced = make_dry_run(root, ".venv/.installed-test", path, CPU_TORCH="0")
    assert "torch: PyPI's build (CPU_TORCH=0" in forced
    assert "torch: the CPU-only build (CPU_TORCH=1)" in make_dry_run(
        root, ".venv/.installed-test", f"{tmp_path / 'gpu'}:{path}", CPU_TORCH="1")


def test_make_tex_says_what_to_install_where_there_is_no_apt_get(root, tmp_path):
    """macOS: no apt-get, no xelatex; `make tex` names what to install and succeeds."""
    bare = tmp_path / "bin"
    bare.mkdir()
    for tool in ("sh", "make", "uname", "cat", "sed", "grep", "id"):
        found = shutil.which(tool)
        if found:
            (bare / tool).symlink_to(found)
    result = subprocess.run(["make", "tex"], cwd=root, capture_output=True, text=True,
                            env={**os.environ, "PATH": str(bare)})
    assert result.returncode == 0, result.stderr
    assert "no apt-get here" in result.stdout and "mactex" in result.stdout


def test_make_installs_the_lock_then_the_package_without_dependencies(root):
    makefile = (root / "Makefile").read_text()
    recipe = makefile.split("define install_locked", 1)[1].split("endef", 1)[0]
    assert "-r $(LOCK)" in recipe and "--no-deps --editable ." in recipe
    assert "LOCK := requirements-lock.txt" in makefile
    assert "requirements-lock.txt" in (root / "README.md").read_text()
    assert "requirements-lock.txt" in (root / "CONTRIBUTING.md").read_text()


# ------------------------------------------------------------------------------ dark theme


def test_the_html_book_has_a_light_and_a_dark_theme(root):
    html = quarto_config(root)["format"]["html"]
    assert set(html["theme"]) == {"light", "dark"}
    # One of Quarto's adaptive styles (a light and a dark variant). The form
    # {light: github-light, dark: github-dark} links no highlighting stylesheet in Quarto
    # 1.7.34, and the colour-scheme toggle's script then stops on the missing element.
    assert html["highlight-style"] in ("a11y", "arrow", "atom-one", "ayu", "breeze", "github",
                                       "gruvbox", "monochrome")
    assert (root / html["css"]).is_file()


def test_the_optimiser_change_table_sets_each_metric_before_and_after(tmp_path, root):
    record = {"before": "0" * 40, "why": "The optimiser changed.", "fits": {
        "01-a": {"chapter": "01-hitters",
                 "before": {"metrics": {"test_mae": 260.0}, "processor": "X", "date": "d"},
                 "after": {"metrics": {"test_loss": 1.0, "test_mae": 259.5}, "processor": "Y",
                           "date": "d"}},
        "09-new": {"chapter": "09-new", "before": None,
                   "after": {"metrics": {"test_accuracy": 0.5}, "processor": "Y",
                             "date": "d"}}}}
    (tmp_path / "change.json").write_text(json.dumps(record))
    lines = errata.changes_table(tmp_path / "change.json").splitlines()
    assert lines[2] == "| 01-a | mae | 260.0000 | 259.5000 | -0.5000 |"  # not the loss
    assert lines[3] == "| 09-new | accuracy | — | 0.5000 | — |"
    assert lines[-1].endswith("processors, before and after: X, Y.")
    # the committed record covers every pin, before and after
    committed = json.loads((root / "results" / "changes" / "keras-2.10-rmsprop.json").read_text())
    assert set(committed["fits"]) == {p.parent.name for p in (root / "results").glob("*/pin.json")}
