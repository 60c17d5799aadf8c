"""The rendered book in a browser: Debian's Chromium, driven by Playwright (`make browser`).

`open_browser()` launches Chromium (`ISLDL_CHROMIUM`, else `chromium` on PATH: Playwright's own
download of browsers cannot be used here). `serve(folder)` serves a rendered site on
127.0.0.1, as GitHub Pages would. `answer_mathjax(context)` answers the pages' requests for
MathJax's CDN from the npm package that `make browser` installs (the same files), so that
formulas typeset with no network; every other request that leaves the machine is refused and
recorded, so that a test can say which.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import mimetypes
import os
import shutil
import threading
from pathlib import Path

from isldl_book.release import MATHJAX_CDN, MATHJAX_NPM

NPM = Path(__file__).resolve().parent / "npm" / "node_modules"
AXE = NPM / "axe-core" / "axe.min.js"
LOCAL = ("http://127.0.0.1", "file://", "data:")  # what a page may load as it is


def chromium_path() -> str:
    """Chromium's executable, or a RuntimeError that says how to install it."""
    found = os.environ.get("ISLDL_CHROMIUM") or shutil.which("chromium")
    if not found:
        raise RuntimeError("no Chromium: install it with `make browser` (Debian's chromium), "
                           "or set ISLDL_CHROMIUM to its executable")
    if not (NPM / "mathjax").is_dir() or not AXE.exists():
        raise RuntimeError(f"{NPM} lacks MathJax or axe-core: run `make browser` (npm ci)")
    return found


@contextlib.contextmanager
def open_browser():
    """A headless Chromium (Playwright's `Browser`)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path())
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def serve(folder: Path):
    """The site in `folder` on http://127.0.0.1:<port>/; yields that address."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the tests report what fails, not every request
        pass


def answer_mathjax(context):
    """Route `context`'s requests: MathJax's CDN from npm's copy, the `LOCAL` addresses as
    they are, anything else refused. Returns the list of refused addresses (it fills up)."""
    refused = []

    def route(route):
        url = route.request.url
        if url.startswith(MATHJAX_CDN):
            path = MATHJAX_NPM / url[len(MATHJAX_CDN):].split("?")[0]
            if path.is_file():
                kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                return route.fulfill(path=path, content_type=kind)
        elif url.startswith(LOCAL):
            return route.continue_()
        refused.append(url)
        return route.abort()

    context.route("**/*", route)
    return refused


def typeset(page) -> dict:
    """Wait for MathJax to finish the page; what it made of the page's formulas."""
    page.wait_for_function("() => !window.MathJax || (window.MathJax.startup"
                           " && window.MathJax.startup.promise)", timeout=30_000)
    page.evaluate("() => window.MathJax ? window.MathJax.startup.promise : null")
    return page.evaluate("""() => ({
        formulas: document.querySelectorAll('span.math').length,
        typeset: document.querySelectorAll('mjx-container').length,
        errors: [...document.querySelectorAll('mjx-merror')].map(e => e.textContent),
        undefined_macros: [...document.querySelectorAll('mjx-container [style*="color"]')]
            .filter(e => /red|rgb\\(255, 0, 0\\)/.test(e.getAttribute('style') || ''))
            .map(e => e.textContent),
    })""")
