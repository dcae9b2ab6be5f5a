"""The course as a website, read in a real browser: the site is built from the committed notebooks into a
temporary folder and served on 127.0.0.1; every page opens without a console error or an error output, every
internal link and image resolves, nothing is fetched from outside, and what a reader uses works (course order,
math, folded solutions, widget boxes, copy buttons, search).

Debian's Chromium through Playwright (no browser download). Screenshots go to artifacts/site/.
"""

import functools
import http.server
import shutil
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from playwright import sync_api

from slowfast_lite import course
from slowfast_lite.course import site

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "site"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or "/usr/bin/chromium"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: install it with `apt-get install -y chromium` (.ci/run does)",
                allow_module_level=True)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the test reports failed requests itself
        pass


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(site folder, pages) of the site built from this checkout."""
    out = tmp_path_factory.mktemp("site")
    return out, site.build(out, log=lambda line: None)


@pytest.fixture(scope="module")
def base_url(built):
    """The site served by Python's http.server on a free loopback port, for the module's duration."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=built[0]))
    server.timeout = 10
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(base_url):
    """(page, problems): a Chromium page that refuses every request outside the site and records what went wrong."""
    problems = []
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        context = chromium.new_context(viewport={"width": 1400, "height": 1000})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base_url.rstrip("/"))

        def only_the_site(route):
            if route.request.url.startswith(base_url):
                route.continue_()
            else:
                problems.append(f"fetched from outside the site: {route.request.url}")
                route.abort()

        context.route("**/*", only_the_site)
        page = context.new_page()
        page.set_default_timeout(120_000)  # generous: a shared CI machine can be very busy
        page.on("console", lambda m: problems.append(f"{page.url}: console {m.type}: {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda err: problems.append(f"{page.url}: script error: {err}"))
        page.on("response", lambda r: problems.append(f"{r.url}: HTTP {r.status}") if r.status >= 400 else None)
        yield page, problems
        chromium.close()


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_every_page_opens_cleanly_and_every_link_resolves(built, base_url, browser):
    out, pages = built
    page, problems = browser
    ids, links = {}, set()
    for entry in pages:
        page.goto(f"{base_url}{entry.slug}.html", wait_until="load")
        missing = page.evaluate("""() => [...document.images]
            .filter(img => !img.complete || img.naturalWidth === 0).map(img => img.getAttribute('src'))""")
        assert not missing, f"{entry.slug}.html: images that do not load: {missing}"
        errors = page.locator("[data-mime-type='application/vnd.jupyter.error']")
        assert errors.count() == 0, f"{entry.slug}.html shows an error output: {errors.first.inner_text()[:300]}"
        ids[f"{entry.slug}.html"] = set(page.evaluate("() => [...document.querySelectorAll('[id]')].map(e => e.id)"))
        links |= {(entry.slug, href) for href in page.evaluate("() => [...document.links].map(a => a.href)")}
    assert len(ids) == len(pages)

    broken = []
    for source, href in sorted(links):
        if not href.startswith(base_url):
            continue  # another site: never fetched (the route above would have said so)
        path, _, fragment = href[len(base_url):].partition("#")
        path = unquote(path) or "index.html"
        if not (out / path).is_file():
            broken.append(f"{source}.html -> {href}: no such file")
        elif fragment and path in ids and not ({fragment, unquote(fragment)} & ids[path]):
            broken.append(f"{source}.html -> {href}: no element with that id")
    assert not broken, "broken internal links:\n" + "\n".join(broken)
    assert not problems, "\n".join(problems)


def test_pages_follow_the_course_order(built, base_url, browser):
    out, pages = built
    page, problems = browser
    notebooks = course.notebooks.discover()
    expected = ["index"] + [p.stem for p in notebooks] + ["report"]
    assert [p.slug for p in pages] == expected

    page.goto(f"{base_url}index.html")
    toc = page.locator(".sf-toc > li > a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert toc == [f"{slug}.html" for slug in expected]
    seen = ["index"]
    while page.locator(".sf-pager-bottom a.sf-next").count():
        page.locator(".sf-pager-bottom a.sf-next").click()
        page.wait_for_load_state()
        seen.append(Path(urlsplit(page.url).path).stem)
        assert len(seen) <= len(expected), f"the next links do not end: {seen}"
    assert seen == expected

    for path in notebooks:  # each notebook page offers its notebook file, byte for byte
        page.goto(f"{base_url}{path.stem}.html")
        assert page.locator(".sf-run").count() == 1, f"{path.stem}.html says nowhere how to run it"
        href = page.locator("a.sf-notebook-file").get_attribute("href")
        assert href == f"notebooks/{path.name}" and (out / href).read_bytes() == path.read_bytes()
        assert "--profile full" in page.locator(".sf-run").inner_text()
    assert not problems, "\n".join(problems)


def test_math_solutions_and_widgets_are_rendered(base_url, browser):
    page, problems = browser
    page.goto(f"{base_url}03_fast_pathway.html")
    shot(page, "notebook_03_fast_pathway")
    prose = " ".join(page.locator(".jp-RenderedMarkdown").all_inner_texts())
    assert "\\alpha" not in prose and "$T$" not in prose, "TeX left unrendered in the prose"
    drawn = page.locator(".jp-RenderedMarkdown math").evaluate_all(
        "maths => maths.filter(m => m.getBoundingClientRect().width > 0).length")
    assert drawn > 20, f"only {drawn} formulas drawn"
    assert "crop=224" in page.locator(".sf-parameters-caption").inner_text()  # what --profile full changes

    solutions = page.locator(".jp-RenderedMarkdown details")
    assert solutions.count() >= 2
    assert solutions.evaluate_all("ds => ds.every(d => !d.open)"), "a solution is unfolded on arrival"
    solutions.first.locator("summary").click()
    assert solutions.first.evaluate("d => d.open") and solutions.first.locator("pre").first.is_visible()

    for path in course.notebooks.discover():
        cells = nbformat.read(path, as_version=4).cells
        widgets = sum(WIDGET_VIEW in o.get("data", {}) for c in cells for o in c.get("outputs", []))
        if widgets:
            page.goto(f"{base_url}{path.stem}.html")
            boxes = page.locator(".sf-widget")
            assert boxes.count() == widgets, f"{path.stem}.html: {boxes.count()} widget boxes for {widgets} widgets"
            assert all("JupyterLab" in text for text in boxes.all_inner_texts())
            stills = boxes.evaluate_all("""boxes => boxes.map(box => box.querySelector('.sf-widget-in-cell') !== null
                || [...box.querySelectorAll('img.sf-widget-still')].some(img => img.naturalWidth > 0))""")
            assert all(stills), f"{path.stem}.html: a widget without a still picture of what it shows"
    assert not problems, "\n".join(problems)


def test_code_copies_and_search_finds(base_url, browser):
    page, problems = browser
    page.goto(f"{base_url}03_fast_pathway.html")
    first_cell = next(c for c in nbformat.read(ROOT / "notebooks" / "03_fast_pathway.ipynb", as_version=4).cells
                      if c.cell_type == "code")
    page.locator(".jp-CodeCell .sf-copy").first.click()
    assert page.evaluate("navigator.clipboard.readText()") == first_cell.source

    page.goto(f"{base_url}index.html")
    shot(page, "home")
    page.keyboard.press("/")
    page.keyboard.type("pack_pathways")
    results = page.locator("#sf-search-results a")
    results.first.wait_for()
    assert results.first.get_attribute("href").startswith("01_sampling.html#"), results.all_inner_texts()[:3]
    page.keyboard.press("Enter")
    page.wait_for_url("**/01_sampling.html#*")
    assert not problems, "\n".join(problems)
