"""Render the book, PDF, EPUB and HTML, executing each page once for all of them.

    python -m isldl_book.render [--editions instructor student] [--formats pdf epub html]
        [--jobs 2]

What `make book` runs (the instructor edition), and `make release` (both editions). Quarto
executes a page for each format it renders; here it executes each page once, into Quarto's own
execution cache (jupyter-cache, `--cache`), and every format of every edition reads the
executed notebook from there:

1. empty the cache (`build/jupyter-cache`);
2. execute: render each page that has code, alone and to HTML (into `build/executed`, thrown
   away; the log in `build/execute.log`), `--jobs` pages at a time, each with its share of the
   cores; Quarto stores each executed notebook in the cache (a page whose kernel could not
   start, because the other page's kernel took its port, is executed again);
3. render the whole book to each format, for each edition, with the cache, the formats at the
   same time: the HTML in the checkout, each other format in a copy of the book's sources
   (`build/render-copies`), since two renders of one folder would write the same transient
   notebooks beside the pages. A page's notebook matches its cached one when its code, its
   parameters, its figure settings and its working folder are the same, which is why
   `_quarto.yml` gives every format one figure setting (SVG, drawn as PDF in the PDF), why
   every render names the checkout's root as the pages' working folder (`--execute-dir`, the
   copies too), and why an edition differs from another in its filters alone;
4. check that every page was read from the cache in every render (else it ran again: an error
   that says which), and empty the cache.

Nothing of the cache outlives the render, so no later render can publish what an earlier one
computed (a fast run, or results since re-pinned: see "Freezing" in CONTRIBUTING.md), and a
plain `quarto render` never uses it.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from jupyter_cache import get_cache

from . import BOOK_ROOT
from .structure import EDITIONS, book_files, output_dir, profile_args

CACHE = Path("build") / "jupyter-cache"
LOG = Path("build") / "render.log"  # the renders of the book, whose warnings are real
# The pages executed alone: a page rendered without the others cannot resolve its references
# to them, and says so; those renders are thrown away, and so is that warning.
EXECUTE_LOG = Path("build") / "execute.log"
EXECUTED = Path("build") / "executed"  # the pages rendered alone to execute them: thrown away
COPIES = Path("build") / "render-copies"  # where the formats other than HTML are rendered
READ_FROM_CACHE = "(Notebook read from cache)"
FORMATS = ("pdf", "epub", "html")
# What a copy of the book's sources leaves out: what git ignores (environments, outputs,
# caches, downloaded data) and the pins, which a render from the cache never reads.
NOT_COPIED = (".git", ".venv*", "build", "_book*", ".quarto", "node_modules", "data", "results",
              "handouts", "__pycache__", "*.quarto_ipynb", "*_files")


# Two pages executed at once start two kernels, and jupyter_client gives each kernel ports that
# were free when it looked: the other kernel can bind one first, and this one then dies ("Kernel
# died before replying to kernel_info"). Such a page is executed again, up to this many times.
KERNEL_PORT_TAKEN = "Address already in use"
EXECUTE_ATTEMPTS = 3


class RenderError(RuntimeError):
    """A render failed, or executed a page again; the message says which and where to look.
    `output` is all that Quarto printed, if it failed."""

    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.output = output


def executed_pages(root: Path = BOOK_ROOT) -> list[Path]:
    """The book's pages that have Python cells, relative to `root`, in the book's order."""
    return [page.relative_to(root) for page in book_files(root)
            if "```{python}" in page.read_text(encoding="utf-8")]


def cached(root: Path) -> list[str]:
    """Quarto's arguments that execute into, or read from, the cache: the checkout's root as
    every page's working folder, whichever folder Quarto renders."""
    return ["--cache", "--execute-dir", str(root.resolve())]


def quarto_env(root: Path, threads: int | None = None) -> dict[str, str]:
    """The environment of a Quarto run: the checkout's Python, the cache, and `threads`."""
    env = os.environ | {"JUPYTERCACHE": str(root / CACHE)}
    env.setdefault("QUARTO_PYTHON", sys.executable)
    if threads:
        env |= {"OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    return env


def quarto(args: list[str], root: Path, env: dict, log) -> str:
    """Run `quarto <args>` in `root`, its output appended to `log`; its output, or a
    RenderError that quotes the end of it."""
    done = subprocess.run(["quarto", *args], cwd=root, env=env, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    log.write(f"\n==== quarto {' '.join(args)}\n{done.stdout}")
    log.flush()
    if done.returncode:
        tail = "\n".join(done.stdout.splitlines()[-30:])
        raise RenderError(f"quarto {' '.join(args)} failed (exit {done.returncode}; the whole "
                          f"output is in {log.name}):\n{tail}", done.stdout)
    return done.stdout


def execute(pages: list[Path], root: Path, jobs: int, log) -> None:
    """Execute each page into the cache, `jobs` at a time, each with its share of the cores."""
    env = quarto_env(root, threads=max(1, (os.cpu_count() or 1) // jobs))
    # The databases that two Quartos starting at once would both make, and fail to ("database
    # is locked"), made first: the execution cache's and Quarto's project cache in .quarto/.
    get_cache(env["JUPYTERCACHE"]).list_cache_records()
    quarto(["inspect"], root, env, log)

    with ThreadPoolExecutor(jobs) as pool:
        for page, seconds in zip(pages, pool.map(lambda page: execute_page(page, root, env, log),
                                                 pages)):
            print(f"executed {page} in {seconds:.0f} s", flush=True)


def execute_page(page: Path, root: Path, env: dict, log) -> float:
    """Execute `page` into the cache (again if its kernel found a port taken); the seconds."""
    start = time.perf_counter()
    for attempt in range(1, EXECUTE_ATTEMPTS + 1):
        try:
            quarto(["render", str(page), "--to", "html", *cached(root), "--output-dir",
                    str(EXECUTED)], root, env, log)
            return time.perf_counter() - start
        except RenderError as error:
            if KERNEL_PORT_TAKEN not in error.output or attempt == EXECUTE_ATTEMPTS:
                raise
            print(f"the kernel of {page} found a port taken by another page's kernel; "
                  f"executing {page} again", flush=True)


def render_book(to: str, pages: list[Path], root: Path, log, edition: str = "instructor",
                folder: Path | None = None) -> None:
    """Render the whole book to `to` in `folder` (the checkout, `root`, or a copy of its
    sources) from the cache; a RenderError if a page ran again."""
    start = time.perf_counter()
    folder = folder or root
    output = quarto(["render", "--to", to, *cached(root), *profile_args(edition)], folder,
                    quarto_env(folder), log)
    executed = re.findall(r"^Executing '([^']+)\.quarto_ipynb'", output, flags=re.M)
    read = output.count(READ_FROM_CACHE)
    if executed or read != len(pages):
        raise RenderError(f"the {edition} edition's {to} render executed "
                          f"{', '.join(executed) or 'no page'} again and read {read} of "
                          f"{len(pages)} pages from the cache: a page's code or figure "
                          f"settings differ between formats or editions (see {LOG})")
    print(f"rendered the {edition} edition's {to} in {time.perf_counter() - start:.0f} s, "
          f"all {read} executed pages read from the cache", flush=True)


def copy_sources(root: Path, folder: Path) -> Path:
    """A copy of the book's sources and of the cache in `folder`, to render a format in."""
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(root, folder, ignore=shutil.ignore_patterns(*NOT_COPIED))
    shutil.copytree(root / CACHE, folder / CACHE)  # its own: no two renders share a database
    return folder


def render_edition(edition: str, formats: tuple[str, ...], pages: list[Path], root: Path,
                   log) -> None:
    """Every format of one edition into its output folder, all at once: the HTML in the
    checkout (which empties the output folder), the others in copies, whose downloads (the
    PDF, the EPUB) are moved in after it."""
    out = output_dir(root, edition)
    shutil.rmtree(out, ignore_errors=True)
    folders = {to: root if to == "html" else copy_sources(root, root / COPIES / f"{edition}-{to}")
               for to in formats}
    with ThreadPoolExecutor(len(formats)) as pool:
        renders = [pool.submit(render_book, to, pages, root, log, edition, folder)
                   for to, folder in folders.items()]
    for done in renders:
        done.result()  # a failed render's RenderError, once all have ended
    out.mkdir(parents=True, exist_ok=True)
    for to, folder in folders.items():
        if folder != root:
            for download in output_dir(folder, edition).glob(f"*.{to}"):
                shutil.move(download, out / download.name)


def render(root: Path = BOOK_ROOT, jobs: int = 2, editions=("instructor",),
           formats: tuple[str, ...] = FORMATS) -> None:
    """Steps 1-4 of the module's description, for each of `editions`."""
    pages = executed_pages(root)
    (root / LOG).parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(root / CACHE, ignore_errors=True)
    try:
        with open(root / EXECUTE_LOG, "w", encoding="utf-8") as log:
            start = time.perf_counter()
            execute(pages, root, jobs, log)
        print(f"executed {len(pages)} pages in {time.perf_counter() - start:.0f} s, "
              f"{jobs} at a time", flush=True)
        with open(root / LOG, "w", encoding="utf-8") as log:
            for edition in editions:
                render_edition(edition, tuple(formats), pages, root, log)
    finally:
        for scratch in (CACHE, EXECUTED, COPIES):
            shutil.rmtree(root / scratch, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m isldl_book.render",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--editions", nargs="+", choices=EDITIONS, default=["instructor"])
    parser.add_argument("--formats", nargs="+", choices=FORMATS, default=list(FORMATS))
    parser.add_argument("--jobs", type=int, default=2, help="pages executed at a time")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        render(jobs=args.jobs, editions=args.editions, formats=args.formats)
    except RenderError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"the book, {' and '.join(args.editions)} edition(s), in "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
