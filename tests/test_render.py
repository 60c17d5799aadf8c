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
