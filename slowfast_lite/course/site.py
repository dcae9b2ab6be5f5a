"""The course as a static website: ``python -m slowfast_lite site --out DIR [--execute]``.

A home page from the README, one page per course notebook in course order (the list ``notebooks.discover`` gives,
titled by each notebook's first heading), a run report page, a table of contents, previous/next links and a
search box. The pages show the committed executed notebooks; ``--execute`` runs the course first
(``runner.run``) and shows that run's notebooks.

Why nbconvert with a small template of our own (``site_files/``): nbconvert comes with JupyterLab and renders
cells with JupyterLab's own markup and CSS, so nothing else is installed; Jupyter Book and Sphinx with myst-nb
pull a theme and many packages, and their pages load MathJax from a CDN. Nothing here is fetched, neither at
build time nor when a page is read: math becomes MathML at build time (latex2mathml, pure Python), which
browsers draw natively; search is a small script over an index written beside the pages. The same checkout
builds the same bytes.
"""

import functools
import html
import json
import re
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from slowfast_lite import usage
from slowfast_lite.course.notebooks import NOTEBOOKS_DIR, CourseError, discover
from slowfast_lite.course.parameters import PROFILES
from slowfast_lite.course.report import CourseReport, NotebookResult
from slowfast_lite.course.runner import run
from slowfast_lite.errors import UsageError

ROOT = NOTEBOOKS_DIR.parent
FILES = Path(__file__).with_name("site_files")
MARKER = ".slowfast_lite_site"  # written into every site folder: a later build may replace what it holds
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
IMAGE_TYPES = ("image/png", "image/jpeg", "image/svg+xml")
SETUP_HEADING = "## Set up and run the course"  # the README section whose command each notebook page repeats


class SiteError(UsageError):
    """A site that cannot be built: names the file or option and what is wrong."""


@dataclass
class Page:
    """One HTML page of the site."""

    slug: str  # file name without .html
    title: str
    body: str = ""  # HTML of the article
    nav_title: str = ""  # its name in the table of contents, when shorter than the title
    notebook: str | None = None  # file name of the notebook this page shows
    sections: list = field(default_factory=list)  # (anchor, title) of the page's h2 headings


# ---------------------------------------------------------------------------------------------------------
# Markdown and math


_TEXT_COMMAND = re.compile(r"\\(?:text|texttt|mathrm|textrm)\{[^{}]*\}")


def to_mathml(tex: str, display: str = "inline") -> str:
    """LaTeX math -> one MathML element (``display``: "inline" | "block"); TeX it cannot read stays as code."""
    from latex2mathml.converter import convert

    tex = _TEXT_COMMAND.sub(lambda m: m.group(0).replace("\\_", "_"), tex)  # latex2mathml keeps \_ in text
    try:
        return convert(tex, display=display)
    except Exception:  # latex2mathml raises assorted errors on TeX it does not know; the reader still gets the TeX
        return f'<code class="sf-tex">${html.escape(tex)}$</code>'


@functools.cache
def _markdown_classes():
    """nbconvert's markdown parser with a renderer that draws math as MathML and points links at the site."""
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class CourseRenderer(IPythonRenderer):
        def __init__(self, link_to, **kwargs):
            super().__init__(escape=False, **kwargs)
            self.link_to = link_to  # url in the source -> url on the site

        def inline_math(self, body):
            return to_mathml(body, "inline")

        def block_math(self, body):
            return to_mathml(body, "block")

        def latex_environment(self, name, body):
            return to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", "block")

        def link(self, text, url, title=None):
            return super().link(text, self.link_to(url), title)

        def image(self, text, url, title=None):
            return super().image(text, self.link_to(url), title)

    return CourseRenderer, MarkdownWithMath


def render_markdown(text: str, link_to, attachments=None) -> str:
    """Markdown (with $math$) -> HTML; ``link_to`` maps each link and image url to its url on the site."""
    renderer_class, markdown_class = _markdown_classes()
    return markdown_class(renderer=renderer_class(link_to, attachments=attachments or {})).render(text)


class Links:
    """Where a relative link of a course file points on the site: a notebook's page, or a copy of the file."""

    def __init__(self, root: Path, pages: dict):
        self.root = root.resolve()
        self.pages = pages  # resolved notebook path -> page slug
        self.copies = {}  # path on the site -> file to copy there
        self.broken = []  # "source: url" of links to nothing

    def resolve(self, url: str, base: Path, source: str) -> str:
        """``url`` as written in ``source`` (a file in folder ``base``) -> the url on the site."""
        if not url or url.startswith(("#", "//")) or re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", url):
            return url  # an anchor on the same page, or another site, scheme or attachment
        path, _, fragment = url.partition("#")
        target = (base / unquote(path)).resolve()
        suffix = f"#{fragment}" if fragment else ""
        if target in self.pages:
            return f"{self.pages[target]}.html{suffix}"
        if target.is_file() and target.is_relative_to(self.root):
            site_path = target.relative_to(self.root).as_posix()
            self.copies[site_path] = target
            return site_path + suffix
        self.broken.append(f"{source}: {url}")
        return url

    def at(self, base: Path, source: str):
        """The url mapping for links written in ``source``, a file in folder ``base``."""
        return functools.partial(self.resolve, base=base, source=source)


# ---------------------------------------------------------------------------------------------------------
# Notebook pages


def attach_widget_stills(nb, resources):
    """Give each widget output the picture of what it does: a figure of its own cell, else the nearest figure in
    its section (the cells between two headings). Runs after the figures were extracted to files."""
    section, section_of = 0, []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and re.search(r"^#{1,6} ", cell.source, re.MULTILINE):
            section += 1
        section_of.append(section)
    figures = [(i, name) for i, cell in enumerate(nb.cells) for output in cell.get("outputs", [])
               for kind, name in output.get("metadata", {}).get("filenames", {}).items() if kind in IMAGE_TYPES]
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if WIDGET_VIEW not in output.get("data", {}):
                continue
            near = [(abs(j - i), j, name) for j, name in figures if section_of[j] == section_of[i]]
            if near:
                _, j, name = min(near)
                output.setdefault("metadata", {})["static_picture"] = {"src": name, "in_cell": j == i}
    return nb, resources


def render_notebook(path: Path, links: Links, setup: str):
    """A notebook -> (its cells as HTML, {site path: bytes} of its figures, the code highlighting CSS)."""
    import jinja2
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExtractOutputPreprocessor

    link_to = links.at(path.parent, path.name)

    class CellsExporter(HTMLExporter):
        @jinja2.pass_context
        def markdown2html(self, context, source):
            return render_markdown(source, link_to, context.get("cell", {}).get("attachments"))

    exporter = CellsExporter(template_name="course", extra_template_basedirs=[str(FILES / "templates")])
    exporter.register_preprocessor(ExtractOutputPreprocessor(), enabled=True)
    exporter.register_preprocessor(attach_widget_stills, enabled=True)
    full = PROFILES.get("full", {}).get(path.stem, {})
    resources = {"unique_key": "cell", "output_files_dir": f"figures/{path.stem}",
                 "metadata": {"name": path.stem, "path": str(path.parent)},
                 "course": {"notebook": path.name, "setup": setup,
                            "full_profile": ", ".join(f"{k}={v!r}" for k, v in full.items())}}
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises json, validation and OS errors alike
        raise SiteError(f"{path}: not a readable notebook ({type(err).__name__}: {err})") from err
    body, resources = exporter.from_notebook_node(nb, resources=resources)
    return body, resources.get("outputs", {}), resources.get("inlining", {}).get("css", [])


# ---------------------------------------------------------------------------------------------------------
# The home page and the run report


def readme_setup_command(readme: Path) -> str:
    """The shell command of the README's set-up section (the first code block under its heading)."""
    text = readme.read_text(encoding="utf-8")
    start = text.find(SETUP_HEADING)
    match = re.search(r"```[a-z]*\n(.+?)\n```", text[start:], re.DOTALL) if start >= 0 else None
    if not match:
        raise SiteError(f"{readme}: no code block under '{SETUP_HEADING}' (each page repeats its set-up command)")
    return match.group(1).strip()


def _demote(markdown: str) -> str:
    """Every heading one level down: a report's title becomes a section of the report page."""
    return re.sub(r"^(#{1,5}) ", r"#\1 ", markdown, flags=re.MULTILINE)


def report_markdown(runs: Path) -> str:
    """The run report part of the report page, from ``runs/*/report.json`` (the course runner's reports)."""
    parts = ["# Run report", "",
             "What the course run measured: per notebook its wall time, its peak host and GPU memory, and the key "
             "numbers it recorded with `course.record`. `python -m slowfast_lite course` writes it to "
             "`runs/quick/`; `--profile full` to `runs/full/`."]
    reports = sorted(runs.glob("*/report.json"))
    for path in reports:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            report = CourseReport(data["profile"], [NotebookResult(**r) for r in data["results"]],
                                         data["facts"])
        except (ValueError, KeyError, TypeError) as err:
            raise SiteError(f"{path}: not a course run report ({type(err).__name__}: {err})") from err
        table = report.markdown()
        for result in report.results:  # each notebook's row links to its page
            table = table.replace(f"\n| {result.name} |", f"\n| [{result.name}](notebooks/{result.name}.ipynb) |")
        parts += ["", _demote(table)]
    if not reports:
        parts += ["", f"No run report: `{runs.name}/<profile>/report.json` is absent. Run the course "
                      "(`python -m slowfast_lite course`) and build the site again to see it here."]
    return "\n".join(parts) + "\n"


def results_html(results: Path, links: Links) -> str:
    """The ablation results part of the report page: every markdown file of ``results/``, then the figures they
    do not show, then links to the other files (the raw results)."""
    found = sorted(p for p in results.rglob("*") if p.is_file()) if results.is_dir() else []
    at_results = links.at(links.root, "results/")
    parts = [render_markdown("## Ablation results", at_results)]
    for path in (p for p in found if p.suffix == ".md"):
        source = path.relative_to(links.root).as_posix()
        parts.append(render_markdown(_demote(_demote(path.read_text(encoding="utf-8"))), links.at(path.parent, source)))
    shown = set(links.copies.values())
    names = [p.relative_to(links.root).as_posix() for p in found if p.suffix != ".md" and p.resolve() not in shown]
    figures = [name for name in names if name.endswith((".png", ".jpg", ".jpeg", ".svg"))]
    files = [name for name in names if name not in figures]
    if figures:
        parts.append(render_markdown("\n\n".join(f"![{name}]({name})" for name in figures), at_results))
    if files:
        parts.append(render_markdown("The result files:\n\n" + "\n".join(f"- [{n}]({n})" for n in files), at_results))
    if not found:
        parts.append(render_markdown(f"No ablation results: `{results.name}/` is absent or empty. "
                                     "`python -m slowfast_lite ablate` writes them; committed ones appear here.",
                                     at_results))
    return "\n".join(parts)


# ---------------------------------------------------------------------------------------------------------
# Table of contents and search


def _soup(body: str):
    import bs4

    return bs4.BeautifulSoup(body, "html.parser")


def headings(body: str, level: int = 2) -> list[tuple[str, str]]:
    """(anchor, text) of the ``h<level>`` headings of a page's HTML."""
    found = []
    for tag in _soup(body).find_all(f"h{level}"):
        for anchor in tag.select("a.anchor-link"):
            anchor.decompose()
        if tag.get("id"):
            found.append((tag["id"], tag.get_text(" ", strip=True)))
    return found


def title(body: str, fallback: str) -> str:
    """A page's title: the text of its first h1 heading (math and code included as the reader sees them)."""
    return next((text for _, text in headings(body, 1)), fallback)


def search_entries(page: Page) -> list[dict]:
    """One search entry per section of a page (text up to each h1-h3), its prose and code, not its outputs."""
    import bs4

    soup = _soup(page.body)
    for skip in soup.select("script, style, annotation, a.anchor-link, .jp-OutputArea, .sf-run"):
        skip.decompose()
    entries, current = [], {"section": "", "anchor": "", "words": []}
    for node in soup.descendants:
        if isinstance(node, bs4.Tag) and node.name in ("h1", "h2", "h3"):
            entries.append(current)
            current = {"section": node.get_text(" ", strip=True), "anchor": node.get("id", ""), "words": []}
        elif isinstance(node, bs4.NavigableString) and not isinstance(node, bs4.Comment):
            if not node.find_parent(("h1", "h2", "h3")):
                current["words"].append(str(node))
    entries.append(current)
    found = []
    for entry in entries:
        text = " ".join(" ".join(entry["words"]).split())
        if text or entry["section"]:
            url = f"{page.slug}.html" + (f"#{entry['anchor']}" if entry["anchor"] else "")
            found.append({"page": page.title, "section": entry["section"], "url": url, "text": text})
    return found


# ---------------------------------------------------------------------------------------------------------
# Building


def _lab_css() -> list[Path]:
    """JupyterLab's cell CSS and light theme, as shipped with nbconvert's lab template."""
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("nbconvert", "templates"):
        static = Path(folder) / "lab" / "static"
        if (static / "index.css").is_file() and (static / "theme-light.css").is_file():
            return [static / "index.css", static / "theme-light.css"]
    raise SiteError("nbconvert's lab template (lab/static/index.css) is not installed: pip install nbconvert")


def _prepare(out: Path) -> None:
    """Make ``out`` an empty site folder; refuse a file, or a folder with other content than an earlier site."""
    if out.exists() and not out.is_dir():
        raise SiteError(f"--out {out}: is a file, not a folder")
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise SiteError(f"--out {out}: folder is not empty and holds no site built by this command; "
                            "choose a new or empty folder")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("built by python -m slowfast_lite site; the next build replaces this folder\n")


def build(out, root=None, notebooks_dir=None, log=print) -> list[Page]:
    """Write the site into ``out`` and return its pages (home, the notebooks in course order, the run report).

    ``root``: the checkout (README.md, notebooks/, runs/, results/); ``notebooks_dir``: where the executed
    notebooks are read from (default ``root/notebooks``). Raises SiteError for what cannot be built, and when a
    link points at nothing (all such links named).
    """
    root = Path(root or ROOT).resolve()
    readme = root / "README.md"
    if not readme.is_file():
        raise SiteError(f"{readme}: missing (the home page is made from it)")
    try:
        notebooks = discover(notebooks_dir or root / "notebooks")
    except CourseError as err:
        raise SiteError(str(err)) from err
    setup = readme_setup_command(readme)
    out = Path(out)
    _prepare(out)
    # a link to a notebook, committed or (with --execute) executed, goes to its page
    nb_slugs = {folder.resolve() / p.name: p.stem for p in notebooks for folder in (p.parent, root / "notebooks")}
    links = Links(root, nb_slugs)

    home = render_markdown(readme.read_text(encoding="utf-8"), links.at(root, "README.md"))
    pages = [Page("index", title(home, "Home"), home, nav_title="Home")]
    css = []
    for path in notebooks:
        log(f"page {path.stem}")
        body, figures, css_parts = render_notebook(path, links, setup)
        css = css or css_parts
        for name, data in figures.items():
            (out / name).parent.mkdir(parents=True, exist_ok=True)
            (out / name).write_bytes(data)
        links.copies[f"notebooks/{path.name}"] = path
        pages.append(Page(path.stem, title(body, path.stem), body, notebook=path.name))

    report = render_markdown(report_markdown(root / "runs"), links.at(root, "runs/"))
    pages.append(Page("report", "Run report", report + results_html(root / "results", links)))

    if links.broken:
        raise SiteError("links to files that do not exist: " + "; ".join(links.broken))
    for page in pages:
        page.sections = headings(page.body)
    _write_assets(out, css)
    for site_path, source in sorted(links.copies.items()):
        (out / site_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, out / site_path)
    _write_pages(out, pages)
    index = [entry for page in pages for entry in search_entries(page)]
    (out / "assets" / "search_index.js").write_text(
        "window.SF_SEARCH = " + json.dumps(index, ensure_ascii=False, separators=(",", ":")) + ";\n",
        encoding="utf-8")
    return pages


def _write_assets(out: Path, highlight_css: list[str]) -> None:
    assets = out / "assets"
    assets.mkdir(exist_ok=True)
    lab_index, lab_theme = _lab_css()
    shutil.copyfile(lab_index, assets / "jupyterlab.css")
    shutil.copyfile(lab_theme, assets / "jupyterlab-theme-light.css")
    (assets / "highlight.css").write_text("\n".join(highlight_css), encoding="utf-8")
    for name in ("site.css", "site.js", "favicon.svg"):
        shutil.copyfile(FILES / name, assets / name)


def _write_pages(out: Path, pages: list[Page]) -> None:
    import jinja2
    import markupsafe

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(FILES), autoescape=True,
                                     trim_blocks=True, lstrip_blocks=True)
    template = environment.get_template("page.html.j2")
    for i, page in enumerate(pages):
        text = template.render(page=page, body=markupsafe.Markup(page.body), pages=pages,
                               previous=pages[i - 1] if i > 0 else None,
                               next=pages[i + 1] if i + 1 < len(pages) else None)
        (out / f"{page.slug}.html").write_text(text, encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------
# Command line


def cli(argv) -> int:
    parser = usage.ArgumentParser(prog="python -m slowfast_lite site",
                                  description="Build the course as a static website from the executed notebooks.")
    parser.add_argument("--out", type=Path, default=Path("_site"), help="folder to write the site to (_site)")
    parser.add_argument("--execute", action="store_true",
                        help="run the course first (python -m slowfast_lite course) and show that run's notebooks")
    parser.add_argument("--profile", choices=list(PROFILES), default="quick",
                        help="with --execute: the course profile to run (quick)")
    args = parser.parse_args(argv)
    try:
        from latex2mathml import converter  # noqa: F401  (checked here: the site needs it for every page)
    except ImportError:
        print("site: latex2mathml is not installed (math is drawn with it): pip install -e \".[dev]\"",
              file=sys.stderr)
        return 2
    notebooks = None
    if args.execute:
        run_dir = ROOT / "runs" / args.profile
        report = run(args.profile, run_dir, log=lambda line: print(line, flush=True))
        if not report.ok:
            print(f"site: the course run failed, no site built (see {run_dir / 'report.md'})", file=sys.stderr)
            return 1
        notebooks = run_dir
    try:
        pages = build(args.out, notebooks_dir=notebooks, log=lambda line: print(line, flush=True))
    except SiteError as err:
        print(f"site: {err}", file=sys.stderr)
        return 2
    print(f"{len(pages)} pages in {args.out}: open {args.out / 'index.html'}, or serve the folder with "
          f"`python -m http.server -d {args.out}` and open http://127.0.0.1:8000")
    return 0
