"""Run one chapter without Quarto: `.qmd` → notebook → papermill → executed notebook + metrics.

    python -m isldl_book.run chapters/01-hitters.qmd -p mode fast [--out build/run]

Parameters are read as YAML, as `quarto render … -P name:value` reads them, and must name a
variable of the chapter's parameters cell (`#| tags: [parameters]`) with a value of the same
type. The chapter runs in its own folder, as under Quarto. What the run records
(`isldl.state.record`: its mode, the pins' outcomes, the comparison tables' rows), and the
`values` a caller asks for (expressions evaluated in the chapter's namespace after its last
cell), are written to `<out>/<chapter>.metrics.json` by a last cell that the runner adds to the
notebook it executes (never to the page). The runner itself imports neither isldl nor torch.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import sys
from pathlib import Path

import nbformat
import yaml
from nbclient.exceptions import CellTimeoutError

_FENCE = re.compile(r"^```\{python\}\s*$")
_OPTION = re.compile(r"^#\|\s*(\S+?):\s*(.*)$")


class ChapterError(RuntimeError):
    """A chapter could not be converted or run; the message names the chapter and the cell."""


# ------------------------------------------------------------------------- .qmd → notebook


def qmd_to_notebook(path: Path) -> nbformat.NotebookNode:
    """Split a Quarto document into markdown and Python cells.

    Cell options (`#| …` lines) stay in the code, as Quarto keeps them; `tags` also go into the
    cell's metadata, where papermill looks for the `parameters` cell.
    """
    text = Path(path).read_text(encoding="utf-8")
    front = re.match(r"^---\n.*?\n---\n", text, flags=re.S)
    body = text[front.end():] if front else text
    cells, markdown, code, in_code = [], [], [], False
    for line in body.splitlines():
        if not in_code and _FENCE.match(line):
            cells.append(nbformat.v4.new_markdown_cell("\n".join(markdown).strip()))
            markdown, code, in_code = [], [], True
        elif in_code and line.strip() == "```":
            cells.append(_code_cell(code))
            in_code = False
        elif in_code:
            code.append(line)
        else:
            markdown.append(line)
    if in_code:
        raise ChapterError(f"{path}: a ```{{python}} cell is not closed")
    cells.append(nbformat.v4.new_markdown_cell("\n".join(markdown).strip()))
    notebook = nbformat.v4.new_notebook(cells=[c for c in cells if c.source.strip()])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    front_matter = yaml.safe_load(front.group()[4:-4]) if front else {}
    notebook.metadata["isldl"] = {"front_matter": front_matter}
    return notebook


def _code_cell(lines: list[str]) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell("\n".join(lines))
    options = cell_options(cell.source)
    if "tags" in options:
        cell.metadata["tags"] = list(options["tags"])
    return cell


def cell_options(source: str) -> dict:
    """The `#| name: value` options at the top of a code cell, values read as YAML."""
    options = {}
    for line in source.splitlines():
        match = _OPTION.match(line)
        if not match:
            break
        options[match[1]] = yaml.safe_load(match[2])
    return options


def parameters_of(notebook: nbformat.NotebookNode) -> dict:
    """The names and default values assigned in the cell tagged `parameters`."""
    cells = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    if len(cells) != 1:
        raise ChapterError(f"a chapter needs exactly one parameters cell, found {len(cells)}")
    defaults = {}
    for node in ast.parse(cells[0].source).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                defaults[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                raise ChapterError(
                    f"parameter {node.targets[0].id!r} needs a literal default (a number, string, "
                    f"bool or list), got {ast.unparse(node.value)!r}") from None
    return defaults


def check_parameters(given: dict, defaults: dict, chapter: str) -> None:
    """Raise unless every given parameter exists in the chapter, with a value of its type."""
    for name, value in given.items():
        if name not in defaults:
            raise ChapterError(f"{chapter} has no parameter {name!r}; its parameters are "
                               f"{', '.join(sorted(defaults))}")
        default = defaults[name]
        if default is None or value is None:
            continue
        if isinstance(default, float) and type(value) is int:
            continue  # 3 where 3.0 was expected is fine
        if type(value) is not type(default):
            raise ChapterError(f"{chapter}: parameter {name!r} takes a {type(default).__name__} "
                               f"(default {default!r}), got {value!r}")


# ---------------------------------------------------------------------------------- running


def run_chapter(qmd: Path, parameters: dict | None = None, out: Path = Path("build/run"),
                timeout: int | None = None, show_output: bool = False,
                values: dict[str, str] | None = None) -> dict:
    """Execute a chapter with papermill and return the metrics it recorded, with `values`:
    {name: a Python expression}, each evaluated in the chapter's namespace once its last cell
    has run (a test's questions, asked without a cell in the page). With `show_output`, what
    its cells print (a training's progress bar) reaches this terminal too."""
    import papermill

    qmd, out = Path(qmd).resolve(), Path(out).resolve()
    parameters = parameters or {}
    notebook = qmd_to_notebook(qmd)
    check_parameters(parameters, parameters_of(notebook), qmd.name)
    out.mkdir(parents=True, exist_ok=True)
    source_nb, executed_nb = out / f"{qmd.stem}.source.ipynb", out / f"{qmd.stem}.ipynb"
    metrics_path = out / f"{qmd.stem}.metrics.json"
    notebook.cells.append(_record_cell(metrics_path, values or {}))
    nbformat.write(notebook, source_nb)
    metrics_path.unlink(missing_ok=True)
    # The kernel inherits the environment: figures are kept as outputs even where MPLBACKEND
    # names a non-interactive backend (e.g. Agg in CI).
    kernel_env = {"MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    saved = {name: os.environ.get(name) for name in kernel_env}
    os.environ.update(kernel_env)
    try:
        # The executed notebook is written once, at the end (or at the failing cell), not
        # before and after every cell, which cost seconds per chapter with figures.
        papermill.execute_notebook(
            str(source_nb), str(executed_nb), parameters=parameters, cwd=str(qmd.parent),
            kernel_name="python3", progress_bar=False, execution_timeout=timeout,
            request_save_on_cell_execute=False, log_output=show_output,
            stdout_file=sys.stdout if show_output else None,
            stderr_file=sys.stderr if show_output else None)
    except papermill.PapermillExecutionError as err:
        cell = _failed_cell(executed_nb)
        raise ChapterError(f"{qmd.name}: cell {cell} failed: {err.ename}: {err.evalue}") from err
    except CellTimeoutError as err:
        raise ChapterError(f"{qmd.name}: a cell ran past the timeout of {timeout} s: "
                           f"{str(err).splitlines()[0]}") from err
    finally:
        for name, value in saved.items():
            if value is None:
                del os.environ[name]
            else:
                os.environ[name] = value
    metrics = json.loads(metrics_path.read_text())
    if "mode" not in metrics:
        raise ChapterError(f"{qmd.name} ran but recorded nothing: a chapter begins its run "
                           "with isldl.start_chapter(...)")
    return metrics


def _record_cell(path: Path, values: dict[str, str]) -> nbformat.NotebookNode:
    """A last cell that writes what the run recorded to `path`, with each of `values`'
    expressions under its name."""
    for name, expression in values.items():
        try:
            ast.parse(expression, mode="eval")
        except SyntaxError as err:
            raise ChapterError(f"the value {name!r} is not a Python expression: "
                               f"{expression!r} ({err.msg})") from None
    items = "".join(f"    {name!r}: ({expression}),\n" for name, expression in values.items())
    return nbformat.v4.new_code_cell(
        f"__import__('isldl.state').state.write_record({str(path)!r}, **{{\n{items}}})")


def _failed_cell(executed: Path) -> str:
    """Number (counting the chapter's code cells from 1) and label of the cell that raised."""
    notebook = nbformat.read(executed, as_version=4)
    code_cells = [c for c in notebook.cells if c.cell_type == "code"
                  and "injected-parameters" not in c.metadata.get("tags", [])]
    for number, cell in enumerate(code_cells, start=1):
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            label = cell_options(cell.source).get("label")
            return f"{number}" + (f" ({label})" if label else f" ({cell.source.splitlines()[0]!r})")
    return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl_book.run",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("chapter", type=Path, help="a chapter's .qmd file")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[],
                        metavar=("NAME", "VALUE"), help="set a parameter (value read as YAML)")
    parser.add_argument("--out", type=Path, default=Path("build/run"),
                        help="folder for the executed notebook and metrics (default build/run)")
    args = parser.parse_args(argv)
    if not args.chapter.exists():
        parser.error(f"no such chapter: {args.chapter}")
    parameters = {name: yaml.safe_load(value) for name, value in args.parameter}
    try:
        metrics = run_chapter(args.chapter, parameters, args.out)
    except ChapterError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(json.dumps(metrics, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
