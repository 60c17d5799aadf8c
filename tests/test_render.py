"""`isldl_book.render`, what `make book` runs: each page executed once for both formats (the
render itself is checked by `book_checks`, after `make book`)."""

import pytest

from isldl_book import render
from isldl_book.render import RenderError, executed_pages


def test_the_executed_pages_are_those_with_python_cells(root):
    pages = [str(page) for page in executed_pages(root)]
    assert "chapters/01-hitters.qmd" in pages and "appendices/session-info.qmd" in pages
    assert "references.qmd" not in pages  # no code: nothing to execute
    assert pages == sorted(pages, key=pages.index)  # the book's order


@pytest.mark.parametrize("output, problem", [
    ("Executing '02-mnist.quarto_ipynb'\n" + render.READ_FROM_CACHE, "executed 02-mnist"),
    (render.READ_FROM_CACHE, "read 1 of 2 pages"),
])
def test_a_format_that_executes_a_page_again_is_an_error(monkeypatch, tmp_path, output,
                                                         problem):
    monkeypatch.setattr(render, "quarto", lambda *args: output)
    with pytest.raises(RenderError, match=problem):
        render.render_book("pdf", ["a.qmd", "b.qmd"], tmp_path, log=None)


def test_the_cache_is_emptied_when_a_render_fails(monkeypatch, tmp_path):
    (tmp_path / "_quarto.yml").write_text("book:\n  chapters: [index.qmd]\n")
    (tmp_path / "index.qmd").write_text("# A page\n\n```{python}\n1 + 1\n```\n")
    cache = tmp_path / render.CACHE

    def failing_quarto(args, root, env, log):
        cache.mkdir(parents=True, exist_ok=True)  # as Quarto fills it
        raise RenderError("quarto render failed")

    monkeypatch.setattr(render, "quarto", failing_quarto)
    with pytest.raises(RenderError):
        render.render(tmp_path, jobs=1)
    assert not cache.exists()


def port_taken(attempts_failing: int, output: str = render.KERNEL_PORT_TAKEN):
    """A `quarto` whose first `attempts_failing` runs fail with `output`; its list of runs."""
    runs = []

    def quarto(args, root, env, log):
        runs.append(args)
        if len(runs) <= attempts_failing:
            raise RenderError("quarto render failed", f"zmq.error.ZMQError: {output}")
        return ""
    return quarto, runs


def test_a_page_whose_kernel_found_its_port_taken_is_executed_again(monkeypatch, tmp_path,
                                                                    capsys):
    quarto, runs = port_taken(attempts_failing=render.EXECUTE_ATTEMPTS - 1)
    monkeypatch.setattr(render, "quarto", quarto)
    render.execute_page("a.qmd", tmp_path, env={}, log=None)
    assert len(runs) == render.EXECUTE_ATTEMPTS
    assert "port taken by another page's kernel; executing a.qmd again" in capsys.readouterr().out


@pytest.mark.parametrize("failing, output", [
    (render.EXECUTE_ATTEMPTS, render.KERNEL_PORT_TAKEN),  # taken every time: give up
    (1, "NameError: name 'x' is not defined"),  # the page's own error: no second run
])
def test_a_page_that_fails_otherwise_is_an_error(monkeypatch, tmp_path, failing, output):
    quarto, runs = port_taken(attempts_failing=failing, output=output)
    monkeypatch.setattr(render, "quarto", quarto)
    with pytest.raises(RenderError):
        render.execute_page("a.qmd", tmp_path, env={}, log=None)
    assert len(runs) == failing


def book(root):
    """A checkout with a page, a pin, a rendered book and a filled cache."""
    for path in ("_quarto.yml", "chapters/a.qmd", "results/a/pin.json", "_book/index.html",
                 "build/jupyter-cache/global.db", "chapters/a.quarto_ipynb", ".venv/bin/python"):
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text("project:\n  output-dir: _book\n" if path == "_quarto.yml"
                                 else path)
    return root


def test_a_copy_holds_the_sources_and_the_cache_not_the_outputs(tmp_path):
    copy = render.copy_sources(book(tmp_path / "main"), tmp_path / "main" / render.COPIES / "c")
    assert (copy / "chapters/a.qmd").exists() and (copy / render.CACHE / "global.db").exists()
    for left_out in ("results", "_book", ".venv", "chapters/a.quarto_ipynb", render.COPIES):
        assert not (copy / left_out).exists(), left_out


def test_every_render_names_the_checkout_as_the_pages_working_folder(monkeypatch, tmp_path):
    # a cached notebook is matched on its working folder too: a copy must name the checkout's
    runs = []
    monkeypatch.setattr(render, "quarto", lambda args, folder, env, log: runs.append(
        (args, folder, env)) or render.READ_FROM_CACHE)
    copy = tmp_path / "copy"
    render.execute_page("a.qmd", tmp_path, env={}, log=None)
    render.render_book("pdf", ["a.qmd"], tmp_path, None, "student", folder=copy)
    for args, _, _ in runs:
        assert args[args.index("--execute-dir") + 1] == str(tmp_path.resolve())
        assert "--cache" in args
    (_, executed_in, _), (rendered_args, rendered_in, env) = runs
    assert executed_in == tmp_path and "--profile" in rendered_args
    assert rendered_in == copy and env["JUPYTERCACHE"] == str(copy / render.CACHE)


def test_the_formats_render_at_once_the_html_in_the_checkout(monkeypatch, tmp_path):
    root, rendered = book(tmp_path), {}

    def render_book(to, pages, root, log, edition, folder):
        rendered[to] = folder
        (folder / "_book").mkdir(exist_ok=True)
        (folder / "_book" / f"book.{to}").write_text(to)

    monkeypatch.setattr(render, "render_book", render_book)
    render.render_edition("instructor", render.FORMATS, [], root, log=None)
    assert rendered["html"] == root
    assert {rendered["pdf"].parent, rendered["epub"].parent} == {root / render.COPIES}
    assert sorted(p.name for p in (root / "_book").iterdir()) == ["book.epub", "book.html",
                                                                 "book.pdf"]
