"""The site builder on a small course of its own: math, links, course order, widget stills, the run report,
folder safety and reproducible output. (tests/browser/test_site.py reads the real course's site in Chromium.)"""

import base64
import io
import json
import subprocess
import sys
import types

import nbformat
import pytest
from nbformat import v4
from PIL import Image

from slowfast_lite.course import site

WIDGET = "application/vnd.jupyter.widget-view+json"

README = """# A tiny course

The map: [first](notebooks/00_first.ipynb), then [second](notebooks/01_second.ipynb).

![a picture](docs/picture.png)

## Set up and run the course

```bash
pip install -e ".[dev]" && python -m slowfast_lite course
```
"""


def png_base64(colour=(200, 30, 30)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), colour).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def make_course(root):
    """A checkout with a README, a picture and two executed notebooks (a widget, a figure, math, a solution)."""
    (root / "docs").mkdir(parents=True)
    (root / "notebooks").mkdir()
    (root / "README.md").write_text(README)
    (root / "docs" / "picture.png").write_bytes(base64.b64decode(png_base64()))
    first = v4.new_notebook(cells=[
        v4.new_markdown_cell("# 00 · First steps\n\nThe ratio $\\alpha$ and $$\\frac{\\tau}{\\alpha}$$"),
        v4.new_code_cell("seed = 0  # the seed", metadata={"tags": ["parameters"]}, execution_count=1),
        v4.new_markdown_cell("## 1. A figure and a widget"),
        v4.new_code_cell("plot()", execution_count=2, outputs=[
            v4.new_output("display_data", data={"image/png": png_base64(), "text/plain": "<Figure>"})]),
        v4.new_code_cell("explorer", execution_count=3, outputs=[v4.new_output("execute_result", execution_count=3,
            data={WIDGET: {"model_id": "abc", "version_major": 2, "version_minor": 0},
                  "text/plain": "Explorer(frame 0)"})]),
        v4.new_markdown_cell("Next: [the second](01_second.ipynb#2.-More).\n\n<details><summary>Solution</summary>\n\n"
                             "```python\nanswer = 42\n```\n</details>"),
    ])
    second = v4.new_notebook(cells=[
        v4.new_markdown_cell("# 01 · Second\n\n## 2. More\n\nBack to [00](00_first.ipynb)."),
        v4.new_code_cell("show()", execution_count=1, outputs=[  # a figure and a widget from one cell
            v4.new_output("display_data", data={"image/png": png_base64(), "text/plain": "<Figure>"}),
            v4.new_output("display_data", data={WIDGET: {"model_id": "def", "version_major": 2, "version_minor": 0},
                                                "text/plain": "Other(0)"})])])
    nbformat.write(first, root / "notebooks" / "00_first.ipynb")
    nbformat.write(second, root / "notebooks" / "01_second.ipynb")
    return root


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(checkout, site folder, pages) of the tiny course's site."""
    root = make_course(tmp_path_factory.mktemp("checkout"))
    out = tmp_path_factory.mktemp("site")
    return root, out, site.build(out, root=root, log=lambda line: None)


def test_math_becomes_mathml():
    html = site.render_markdown("ratio $\\alpha T$ and $$\\frac{a}{b}$$ and `$code$`", lambda url: url)
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML" display="inline">' in html
    assert 'display="block"' in html and "<mfrac>" in html
    assert "<code>$code$</code>" in html  # code spans are not math
    assert "NUM_FRAMES" in site.to_mathml("\\texttt{NUM\\_FRAMES}") and "\\_" not in site.to_mathml("\\texttt{A\\_B}")
    assert site.to_mathml("a^") == '<code class="sf-tex">$a^$</code>'  # unreadable TeX stays readable


def test_links_point_at_pages_and_copied_files(tmp_path):
    root = make_course(tmp_path)
    links = site.Links(root, {(root / "notebooks" / "00_first.ipynb").resolve(): "00_first"})
    at_root = links.at(root, "README.md")
    assert at_root("notebooks/00_first.ipynb#Top") == "00_first.html#Top"
    assert at_root("docs/picture.png") == "docs/picture.png" and links.copies == {"docs/picture.png":
                                                                                    root / "docs" / "picture.png"}
    for url in ("https://example.org/x", "#local", "attachment:image.png", "mailto:a@b"):
        assert at_root(url) == url
    at_root("docs/missing.png")
    at_root("../outside.txt")
    assert links.broken == ["README.md: docs/missing.png", "README.md: ../outside.txt"]


def test_pages_in_course_order_with_their_pieces(tiny):
    root, out, pages = tiny
    assert [p.slug for p in pages] == ["index", "00_first", "01_second", "report"]
    assert [p.title for p in pages] == ["A tiny course", "00 · First steps", "01 · Second", "Run report"]
    home = (out / "index.html").read_text()
    assert 'href="00_first.html"' in home and 'src="docs/picture.png"' in home and (out / "docs/picture.png").exists()
    first = (out / "00_first.html").read_text()
    assert 'rel="prev" href="index.html"' in first and 'rel="next" href="01_second.html"' in first
    assert 'href="01_second.html#2.-More"' in first and "<math" in first and "<details>" in first
    assert 'pip install -e ".[dev]" &amp;&amp; python -m slowfast_lite course' in first  # the README's command
    assert (out / "notebooks" / "00_first.ipynb").read_bytes() == (root / "notebooks" / "00_first.ipynb").read_bytes()
    assert "sf-parameters-caption" in first
    # the widget's box shows the figure of its section (a neighbouring cell), extracted to a file
    box = first[first.index('class="sf-widget '):]
    assert "Explorer(frame 0)" in box and 'src="figures/00_first/cell_3_0.png"' in box.split("</div>")[0]
    assert (out / "figures/00_first/cell_3_0.png").read_bytes() == base64.b64decode(png_base64())
    second = (out / "01_second.html").read_text()  # a figure of the widget's own cell is named, not repeated
    assert "The figure this cell draws is a still" in second and "sf-widget-still" not in second


def test_pages_from_executed_notebooks_elsewhere(tmp_path):
    """What --execute does after the course run: pages from runs/quick/, links to notebooks still go to pages."""
    root = make_course(tmp_path / "checkout")
    run = root / "runs" / "quick"
    run.mkdir(parents=True)
    for path in (root / "notebooks").glob("*.ipynb"):
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(v4.new_markdown_cell("Executed by the runner."))
        nbformat.write(nb, run / path.name)
    out = tmp_path / "site"
    site.build(out, root=root, notebooks_dir=run, log=lambda line: None)
    assert 'href="00_first.html"' in (out / "index.html").read_text()
    assert "Executed by the runner." in (out / "00_first.html").read_text()
    assert (out / "notebooks" / "00_first.ipynb").read_bytes() == (run / "00_first.ipynb").read_bytes()


def test_search_index_has_every_section(tiny):
    _, out, _ = tiny
    text = (out / "assets" / "search_index.js").read_text()
    entries = json.loads(text.removeprefix("window.SF_SEARCH = ").removesuffix(";\n"))
    sections = {(e["page"], e["section"]): e for e in entries}
    assert sections[("00 · First steps", "1. A figure and a widget")]["url"] == "00_first.html#1.-A-figure-and-a-widget"
    assert "answer = 42" in sections[("00 · First steps", "1. A figure and a widget")]["text"]
    assert "Explorer(frame 0)" not in text  # outputs are not indexed, prose and code are


def test_report_page_without_and_with_a_run(tiny, tmp_path):
    _, out, _ = tiny
    empty = (out / "report.html").read_text()
    assert "No run report" in empty and "No ablation results" in empty
    root = make_course(tmp_path / "checkout")
    (root / "runs" / "quick").mkdir(parents=True)
    result = {"name": "00_first", "status": "ok", "parameters": {}, "fingerprint": "f", "wall_s": 12.5,
              "peak_host_mb": 812.0, "peak_gpu_mb": None, "metrics": {"top1": 0.875}}
    (root / "runs" / "quick" / "report.json").write_text(json.dumps(
        {"profile": "quick", "facts": {"device": "cpu (test)"}, "results": [result]}))
    (root / "results").mkdir()
    (root / "results" / "runs.csv").write_text("row,seed,top1\nslowfast,0,0.91\n")
    (root / "results" / "figure.png").write_bytes(base64.b64decode(png_base64()))
    (root / "results" / "shown.png").write_bytes(base64.b64decode(png_base64((0, 0, 255))))
    (root / "results" / "summary.md").write_text("# Table 2b\n\n| row | top-1 |\n|---|---|\n| SlowFast | 91.0 |\n\n"
                                                  "![the sweep](shown.png)\n")
    site.build(tmp_path / "site", root=root, log=lambda line: None)
    report = (tmp_path / "site" / "report.html").read_text()
    assert "12.5 s" in report and "812 MB" in report and "top1=0.875" in report and "cpu (test)" in report
    assert '<td><a href="00_first.html">00_first</a></td>' in report
    assert "<h3" in report and "SlowFast" in report and 'href="results/runs.csv"' in report
    assert report.count('src="results/shown.png"') == 1 and report.count('src="results/figure.png"') == 1
    assert (tmp_path / "site" / "results" / "runs.csv").exists()

    (root / "runs" / "quick" / "report.json").write_text("{not json")
    with pytest.raises(site.SiteError, match="report.json: not a course run report"):
        site.build(tmp_path / "site", root=root, log=lambda line: None)


def test_build_is_reproducible(tiny, tmp_path):
    root, out, _ = tiny
    again = tmp_path / "again"
    site.build(again, root=root, log=lambda line: None)
    files = sorted(p.relative_to(out) for p in out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again) for p in again.rglob("*") if p.is_file())
    assert all((out / f).read_bytes() == (again / f).read_bytes() for f in files)


def test_build_refuses_bad_folders_and_broken_links(tmp_path):
    root = make_course(tmp_path / "checkout")
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(site.SiteError, match="is a file"):
        site.build(tmp_path / "a_file", root=root, log=lambda line: None)
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(site.SiteError, match="not empty"):
        site.build(tmp_path / "mine", root=root, log=lambda line: None)
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"

    out = tmp_path / "site"
    site.build(out, root=root, log=lambda line: None)
    (out / "stale.html").write_text("old")
    site.build(out, root=root, log=lambda line: None)  # a folder this command built is replaced whole
    assert not (out / "stale.html").exists()

    (root / "README.md").write_text(README + "\nSee [the data](data/README.md).\n")
    with pytest.raises(site.SiteError, match=r"README.md: data/README.md"):
        site.build(out, root=root, log=lambda line: None)
    (root / "README.md").write_text("# No set-up section\n")
    with pytest.raises(site.SiteError, match="no code block under '## Set up and run the course'"):
        site.build(out, root=root, log=lambda line: None)


def test_cli_error_is_one_line(tmp_path):
    (tmp_path / "a_file").write_text("x")
    done = subprocess.run([sys.executable, "-m", "slowfast_lite", "site", "--out", str(tmp_path / "a_file")],
                          capture_output=True, text=True)
    assert done.returncode == 2
    assert done.stderr.strip() == f"site: --out {tmp_path / 'a_file'}: is a file, not a folder"


def test_cli_execute_runs_the_course_first(tmp_path, monkeypatch, capsys):
    root = make_course(tmp_path / "checkout")
    runs = []

    def fake_run(profile, out_dir, log):  # what course.runner.run leaves behind: executed notebooks in out_dir
        runs.append((profile, out_dir))
        out_dir.mkdir(parents=True, exist_ok=True)
        for path in (root / "notebooks").glob("*.ipynb"):
            nb = nbformat.read(path, as_version=4)
            nb.cells.append(v4.new_markdown_cell(f"Executed with the {profile} profile."))
            nbformat.write(nb, out_dir / path.name)
        return types.SimpleNamespace(ok=profile == "quick")

    monkeypatch.setattr(site, "ROOT", root)
    monkeypatch.setattr(site, "run", fake_run)
    assert site.cli(["--execute", "--out", str(tmp_path / "site")]) == 0
    assert runs == [("quick", root / "runs" / "quick")]
    assert "Executed with the quick profile." in (tmp_path / "site" / "00_first.html").read_text()

    assert site.cli(["--execute", "--profile", "full", "--out", str(tmp_path / "other")]) == 1
    assert "the course run failed, no site built" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()
