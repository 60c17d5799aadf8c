"""Every page of the rendered book as a reader's browser shows it, in the light and the dark
theme: Chromium (`make browser`), the site served on 127.0.0.1, MathJax answered from npm's
copy of the CDN's files (see `chromium`).

Each page is opened once per theme and inspected (`inspect`): what failed to load, what
MathJax made of its formulas, whether it fits a laptop's and a phone's width, and what
axe-core finds against WCAG 2.1 A and AA. The tests then read those reports, and name the
page, the theme and the element. A screenshot of each goes to build/screenshots/.
`test_the_checks_catch_planted_defects` plants one defect of each kind in a copy of a page.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from chromium import AXE, answer_mathjax, open_browser, serve, typeset

from isldl_book.markdown import book_labels
from isldl_book.structure import book_files, output_dir

ROOT = Path(__file__).resolve().parents[1]
BOOK = output_dir(ROOT)
SCREENSHOTS = ROOT / "build" / "screenshots"
THEMES = ("light", "dark")
WIDTHS = {"laptop": 1280, "phone": 390}
# WCAG 2.1 A and AA, as axe-core tags its rules; no rule is disabled.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# What a page asks of other sites, besides MathJax's CDN (answered locally): the themes' web
# fonts (Cosmo's Source Sans Pro, Darkly's Lato; refused here, the system's sans-serif stands
# in) and Quarto's polyfill for old browsers.
OFF_SITE = ("https://fonts.googleapis.com/css2?", "https://cdnjs.cloudflare.com/polyfill/")


def pages() -> list[str]:
    """Each page of the book, as its path in the site ("chapters/01-hitters.html")."""
    return [qmd.relative_to(ROOT).with_suffix(".html").as_posix() for qmd in book_files(ROOT)]


def set_theme(page, theme: str) -> None:
    """Quarto's own toggle, clicked until the page shows `theme`."""
    for _ in range(2):
        if page.evaluate("() => document.body.classList.contains('quarto-dark')") == (
                theme == "dark"):
            return
        page.locator(".quarto-color-scheme-toggle").first.click()
    raise AssertionError(f"the toggle does not switch to the {theme} theme")


def load(context, url: str) -> tuple:
    """Open `url` in a new page of `context`: the page, and what went wrong while it loaded
    (console errors, uncaught exceptions, failed requests)."""
    page = context.new_page()
    problems = []
    page.on("console", lambda m: m.type == "error" and problems.append(
        f"console: {m.text} ({m.location.get('url')})"))
    page.on("pageerror", lambda error: problems.append(f"exception: {error}"))
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.goto(url, wait_until="load")
    return page, problems


_LOOK = """() => {
    const body = getComputedStyle(document.body);
    const root = getComputedStyle(document.documentElement);
    return {
        background: body.backgroundColor,
        font: body.fontFamily,
        theme_font: root.getPropertyValue('--bs-body-font-family').trim(),
        broken_images: [...document.images].filter(i => !i.complete || i.naturalWidth === 0)
            .map(i => i.getAttribute('src')),
        links: [...document.querySelectorAll('a[href]')].map(a => a.href),
        notebook_links: [...document.querySelectorAll('.isldl-notebooks a[download]')]
            .map(a => a.href),
    };
}"""

_FITS = """() => ({
    page: document.documentElement.scrollWidth - window.innerWidth,
    code: [...document.querySelectorAll('div.sourceCode pre')]
        .filter(p => p.scrollWidth > p.clientWidth + 1)
        .map(p => p.textContent.split('\\n')[0].slice(0, 60)),
})"""

_AXE = """async (tags) => {
    const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
    return result.violations.filter(v => ['serious', 'critical'].includes(v.impact))
        .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' '))
            .join('; ')}`);
}"""


def inspect(context, url: str, theme: str, screenshot: Path | None = None) -> dict:
    """Everything the tests ask of one page in one theme."""
    page, problems = load(context, url)
    set_theme(page, theme)
    report = {"url": url, "theme": theme, "problems": problems,
              "maths": typeset(page), **page.evaluate(_LOOK)}
    report["eq_numbers"] = page.evaluate("""() => [...document.querySelectorAll(
        'span[id^="eq-"]')].map(e => [e.id, /\\(\\w+\\.\\d+\\)/.test(e.textContent)])""")
    for name, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        report[f"fits_{name}"] = page.evaluate(_FITS)
    page.set_viewport_size({"width": WIDTHS["laptop"], "height": 900})
    if screenshot:
        page.screenshot(path=screenshot)
    page.add_script_tag(path=str(AXE))
    report["axe"] = page.evaluate(_AXE, AXE_TAGS)
    page.close()
    return report


@pytest.fixture(scope="module")
def site():
    with serve(BOOK) as address:
        yield address


@pytest.fixture(scope="module")
def browser():
    with open_browser() as browser:
        yield browser


def site_reports(browser, site: str, screenshots: Path) -> dict[tuple[str, str], dict]:
    """{(page, theme): its report} for every page of the site at `site`, in both themes."""
    screenshots.mkdir(parents=True, exist_ok=True)
    found = {}
    for theme in THEMES:
        context = browser.new_context()
        refused = answer_mathjax(context)
        for path in pages():
            shot = screenshots / f"{path.replace('/', '-')[:-5]}-{theme}.png"
            found[path, theme] = inspect(context, site + path, theme, shot)
            found[path, theme]["refused"] = list(refused)
            refused.clear()
        context.close()
    return found


def site_problems(reports) -> dict[str, list]:
    """What the checks of a whole site found, by kind, each item naming the page and the
    theme: empty lists where the site is sound. A failed request off the site (`OFF_SITE`,
    refused here) is not the page's."""
    return {
        "load": [(w, kept) for w, problems in each(reports, "problems")
                 if (kept := [p for p in problems if not any(a in p for a in OFF_SITE)])],
        "images": [(w, images) for w, images in each(reports, "broken_images") if images],
        "maths": [(w, m) for w, m in each(reports, "maths")
                  if m["typeset"] != m["formulas"] or m["errors"] or m["undefined_macros"]],
        "fits": [(w, f["page"]) for width in WIDTHS for w, f in each(reports, f"fits_{width}")
                 if f["page"] > 0],
        "axe": [(w, found) for w, found in each(reports, "axe") if found],
    }


@pytest.fixture(scope="module")
def reports(site, browser) -> dict[tuple[str, str], dict]:
    """{(page, theme): its report} for every page of the book in both themes."""
    return site_reports(browser, site, SCREENSHOTS)


def each(reports, key):
    return [(f"{page} ({theme})", report[key]) for (page, theme), report in reports.items()]


# --------------------------------------------------------------------- 1. it loads whole


def test_every_page_loads_without_an_error_or_a_failed_request(reports):
    assert site_problems(reports)["load"] == []
    refused = {url for _, urls in each(reports, "refused") for url in urls}
    assert all(url.startswith(OFF_SITE) for url in refused), refused


def test_every_image_is_decoded(reports):
    assert site_problems(reports)["images"] == []


def test_each_theme_styles_the_page_with_its_own_background_and_font(reports):
    for (page, theme), report in reports.items():
        assert report["font"].replace('"', "'") == report["theme_font"].replace('"', "'"), (
            page, theme)
        red, green, blue = map(int, re.findall(r"\d+", report["background"])[:3])
        brightness = (red + green + blue) / 3
        assert (brightness > 200) if theme == "light" else (brightness < 60), (page, theme)


# ----------------------------------------------------------------------- 2. the maths


def test_every_formula_typesets(reports):
    assert site_problems(reports)["maths"] == []


def test_every_numbered_equation_shows_its_number(reports):
    numbered = [(where, eq) for where, eqs in each(reports, "eq_numbers") for eq in eqs]
    assert {eq[0] for _, eq in numbered} == {
        label for label in book_labels(ROOT) if label.startswith("eq-")}
    assert [(where, eq[0]) for where, eq in numbered if not eq[1]] == []


def test_a_reference_to_an_equation_jumps_to_it(site, browser):
    page = browser.new_page()
    answer_mathjax(page.context)
    page.goto(site + "chapters/01-hitters.html")
    typeset(page)
    link = page.locator('a.quarto-xref[href*="#eq-"]').first  # Quarto makes it absolute
    target = "#" + link.get_attribute("href").split("#")[1]
    link.click()
    page.wait_for_timeout(300)
    box = page.locator(target).bounding_box()
    assert page.evaluate("() => location.hash") == target
    assert box["y"] + box["height"] > 0 and box["y"] < page.viewport_size["height"]  # in view
    page.close()


# ------------------------------------------------------------------------- 3. it fits


def test_no_page_scrolls_sideways_on_a_laptop_or_a_phone(reports):
    assert site_problems(reports)["fits"] == []


def test_every_code_line_shows_whole_on_a_laptop(reports):
    cut = [(where, fits["code"]) for where, fits in each(reports, "fits_laptop") if fits["code"]]
    assert cut == []


# --------------------------------------------------------- 4. what a reader clicks works


def test_the_theme_toggle_is_remembered_on_the_next_page(site, browser):
    context = browser.new_context()
    answer_mathjax(context)
    page, _ = load(context, site + "chapters/01-hitters.html")
    set_theme(page, "dark")
    page.goto(site + "chapters/02-mnist.html")
    assert page.evaluate("() => document.body.classList.contains('quarto-dark')")
    set_theme(page, "light")
    page.goto(site + "chapters/03-cifar-cnn.html")
    assert not page.evaluate("() => document.body.classList.contains('quarto-dark')")
    context.close()


def test_the_search_box_finds_a_word_of_a_chapter_and_links_to_it(site, browser):
    page = browser.new_page()
    answer_mathjax(page.context)
    page.goto(site + "index.html")
    page.locator("#quarto-search input.aa-Input").fill("embedding")
    hit = page.locator(".aa-Item a").first
    hit.wait_for(timeout=10_000)
    href = hit.get_attribute("href")
    assert "06-imdb-lstm.html" in href, href
    page.close()


def test_a_folded_solution_opens_and_what_scrolls_in_it_takes_the_keyboard(site, browser):
    """On a phone, a folded solution's code is wider than the page once it opens: each box
    that scrolls sideways is then reachable with the Tab key (styles/a11y.html), though it
    had no width while folded."""
    page = browser.new_page(viewport={"width": 390, "height": 800})
    answer_mathjax(page.context)
    page.goto(site + "chapters/01-hitters.html")
    solution = page.locator(".callout-tip.callout-titled").first
    body = solution.locator(".callout-collapse")
    assert not body.is_visible()
    solution.locator(".callout-header").click()
    body.wait_for(state="visible", timeout=5_000)
    page.wait_for_timeout(1_000)  # Bootstrap's transition, then its "shown" event
    boxes = body.evaluate("""(body) => [...body.querySelectorAll('pre, .table-responsive')]
        .filter((box) => box.scrollWidth > box.clientWidth)
        .map((box) => box.getAttribute('tabindex'))""")
    assert boxes and boxes == ["0"] * len(boxes), boxes
    page.close()


def test_the_copy_button_puts_the_cells_code_on_the_clipboard(site, browser):
    context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    answer_mathjax(context)
    page = context.new_page()
    page.goto(site + "chapters/01-hitters.html")
    cell = page.locator("div.sourceCode").nth(1)
    code = cell.locator("pre code").inner_text()
    cell.hover()
    cell.locator(".code-copy-button").click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied.strip() == code.strip()
    context.close()


def test_every_internal_link_and_reference_resolves(reports, site):
    ids: dict[str, set[str]] = {}

    def ids_of(path: str) -> set[str]:
        if path not in ids:
            file = BOOK / path
            ids[path] = set(re.findall(r'\bid="([^"]+)"', file.read_text(encoding="utf-8"))
                            ) if file.is_file() else None
        return ids[path]

    broken = []
    for (page, theme), report in reports.items():
        if theme != "light":
            continue
        for link in report["links"]:
            if not link.startswith(site):
                continue
            target, fragment = urldefrag(link)
            path = urlparse(target).path.lstrip("/") or "index.html"
            found = (BOOK / path).exists() if not path.endswith(".html") else ids_of(path)
            if not found or (fragment and path.endswith(".html") and fragment not in found):
                broken.append((page, link))
    assert broken == []


def test_the_notebook_links_under_each_title_name_files_of_the_book(reports, site):
    for (page, theme), report in reports.items():
        if page.startswith("chapters/"):
            assert len(report["notebook_links"]) == 2, (page, theme)
        for link in report["notebook_links"]:
            assert (BOOK / urljoin(site + page, link)[len(site):]).is_file(), (page, link)


# ---------------------------------------------------------------------- 5. accessibility


def test_axe_finds_no_serious_or_critical_violation(reports):
    assert site_problems(reports)["axe"] == []


# ----------------------------------------------------- the checks catch planted defects


PLANTED = {
    "bad macro": ("</main>", r"<p><span class='math inline'>\(\notamacro{x}\)</span></p></main>"),
    "throwing script": ("</body>", "<script>throw new Error('planted');</script></body>"),
    "missing image": ("</main>", "<img src='no-such-image.png' alt='planted'></main>"),
    # outside <main>, whose tables scroll in their own box (styles/a11y.html)
    "wide table": ("</body>", "<table style='width:2000px'><tr><td>wide</td></tr></table></body>"),
    "low contrast": ("</main>", "<p style='color:#aaa;background:#fff'>grey on white, "
                                "about 2:1</p></main>"),
}


def test_the_checks_catch_planted_defects(tmp_path, browser):
    site = tmp_path / "site"
    shutil.copytree(BOOK / "site_libs", site / "site_libs")
    shutil.copytree(BOOK / "styles", site / "styles")
    original = (BOOK / "appendices" / "speed.html").read_text(encoding="utf-8")
    (site / "appendices").mkdir()
    for name, (anchor, defect) in PLANTED.items():
        (site / "appendices" / f"{name.replace(' ', '-')}.html").write_text(
            original.replace(anchor, defect, 1), encoding="utf-8")
    with serve(site) as address:
        context = browser.new_context()
        answer_mathjax(context)
        found = {name: inspect(context, f"{address}appendices/{name.replace(' ', '-')}.html",
                               "light") for name in PLANTED}
        context.close()
    assert found["bad macro"]["maths"]["undefined_macros"] or found["bad macro"]["maths"][
        "errors"]
    assert any("planted" in p for p in found["throwing script"]["problems"])
    assert "no-such-image.png" in found["missing image"]["broken_images"]
    assert found["wide table"]["fits_phone"]["page"] > 0
    assert any(v.startswith("color-contrast") for v in found["low contrast"]["axe"])
