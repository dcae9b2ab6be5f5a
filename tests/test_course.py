"""The course runner: recording, choosing notebooks, checking parameters, executing, reporting, resuming."""

import json
import sys
import types

import nbformat
import numpy as np
import pytest

from slowfast_lite import course
from slowfast_lite.__main__ import main


def write_notebook(folder, name, parameters, *cells):
    """A small course-like notebook: a title, a `parameters` cell, then code cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    params = nbformat.v4.new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {name}"), params] + [nbformat.v4.new_code_cell(c) for c in cells]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


# --- record ---------------------------------------------------------------------------------------------


def test_record_writes_the_sidecar_and_returns_the_value(tmp_path, monkeypatch):
    sidecar = tmp_path / "numbers.json"
    monkeypatch.setenv(course.records.RECORD_ENV, str(sidecar))
    value = np.float32(0.75)
    assert course.record("top1", value) is value
    course.record("name", "slowfast_tiny")
    course.record("per_class", np.array([0.5, 1.0]))
    course.record("top1", 0.8)  # a second write of a key replaces it
    assert json.loads(sidecar.read_text()) == {"name": "slowfast_tiny", "per_class": [0.5, 1.0], "top1": 0.8}


def test_record_outside_a_run_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(course.records.RECORD_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert course.record("top1", 3) == 3
    assert list(tmp_path.iterdir()) == []


def test_record_rejects_values_json_cannot_hold(tmp_path, monkeypatch):
    monkeypatch.setenv(course.records.RECORD_ENV, str(tmp_path / "numbers.json"))
    with pytest.raises(TypeError, match="'model'"):
        course.record("model", object())


# --- the kernel probe -----------------------------------------------------------------------------------


def test_kernel_probe_writes_peak_host_and_gpu_memory(tmp_path, monkeypatch):
    callbacks = []
    shell = types.SimpleNamespace(events=types.SimpleNamespace(register=lambda event, f: callbacks.append((event, f))))
    monkeypatch.setattr(course.records, "_ipython", lambda: shell)
    monkeypatch.setenv(course.records.STATS_ENV, str(tmp_path / "stats.json"))
    cuda = types.SimpleNamespace(is_available=lambda: True, is_initialized=lambda: True,
                                 max_memory_allocated=lambda: 3 * 2**20)
    monkeypatch.setitem(sys.modules, "torch", types.SimpleNamespace(cuda=cuda))
    course.records.install_kernel_probe()
    [(event, write_stats)] = callbacks
    assert event == "post_run_cell"
    write_stats(None)
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["peak_gpu_mb"] == 3.0
    assert stats["peak_host_mb"] > 10  # this very process, in MB


# --- choosing notebooks and parameters ------------------------------------------------------------------


@pytest.fixture
def small_course(tmp_path):
    folder = tmp_path / "notebooks"
    write_notebook(folder, "01_first", "size = 4  # side\nname = 'x'\nrate = 0.5\nflag = False\nsteps = 2 * 3\n")
    write_notebook(folder, "00_zero", "seed = 0\n")
    (folder / "notes.ipynb").write_text("{}")  # not a course notebook: no NN_ prefix
    return folder


def test_discover_and_select_keep_course_order(small_course):
    write_notebook(small_course, "01b_more", "seed = 0\n")  # a notebook between 01 and 02
    notebooks = course.notebooks.discover(small_course)
    assert [p.stem for p in notebooks] == ["00_zero", "01_first", "01b_more"]
    assert [p.stem for p in course.notebooks.select(notebooks, "1")] == ["01_first"]
    assert [p.stem for p in course.notebooks.select(notebooks, "01b")] == ["01b_more"]
    assert [p.stem for p in course.notebooks.select(notebooks, ["01_first", "00"])] == ["00_zero", "01_first"]
    with pytest.raises(course.notebooks.CourseError, match="07"):
        course.notebooks.select(notebooks, "01,07")
    with pytest.raises(course.notebooks.CourseError, match="no course notebooks"):
        course.notebooks.discover(small_course / "missing")


def test_parameters_are_read_as_values(small_course):
    params = course.notebooks.notebook_parameters(small_course / "01_first.ipynb")
    assert params == {"size": 4, "name": "x", "rate": 0.5, "flag": False, "steps": "2 * 3"}
    assert isinstance(params["steps"], course.notebooks.Expression)


@pytest.mark.parametrize("override, message", [
    ({"01_first": {"sise": 8}}, "01_first: parameter 'sise' is not in its parameters cell"),
    ({"01_first": {"size": "8"}}, "'size' = '8' is of type str"),
    ({"01_first": {"flag": 1}}, "'flag' = 1 is of type int"),
    ({"01_first": {"size": 8.0}}, "'size' = 8.0 is of type float"),
    ({"02_missing": {"size": 8}}, "not there: 02_missing"),
])
def test_bad_overrides_are_errors_that_name_notebook_and_key(small_course, override, message):
    with pytest.raises(course.notebooks.CourseError, match=message):
        course.parameters.resolve_parameters("quick", course.notebooks.discover(small_course), override)


def test_good_overrides_are_kept(small_course):
    override = {"01_first": {"size": 8, "rate": 1, "steps": 4, "name": "y"}}
    resolved = course.parameters.resolve_parameters("quick", course.notebooks.discover(small_course), override)
    assert resolved == {"00_zero": {}, "01_first": override["01_first"]}
    with pytest.raises(course.notebooks.CourseError, match="unknown profile 'huge'"):
        course.parameters.resolve_parameters("huge", course.notebooks.discover(small_course))


def test_profiles_are_checked_against_their_notebooks(small_course, monkeypatch):
    monkeypatch.setitem(course.parameters.PROFILES, "full", {"01_first": {"size": 64, "epochs": 30}})
    with pytest.raises(course.notebooks.CourseError, match="'epochs' is not in its parameters cell"):
        course.parameters.resolve_parameters("full", course.notebooks.discover(small_course))


def test_set_option_parses_python_values():
    assert course.parameters.parse_override("06_training:epochs=3") == ("06_training", "epochs", 3)
    assert course.parameters.parse_override("06_training:device=cuda") == ("06_training", "device", "cuda")
    assert course.parameters.parse_override("06_training:seeds=[0, 1]") == ("06_training", "seeds", [0, 1])
    with pytest.raises(course.notebooks.CourseError, match="NOTEBOOK:KEY=VALUE"):
        course.parameters.parse_override("epochs=3")


# --- running --------------------------------------------------------------------------------------------


@pytest.fixture
def runnable_course(tmp_path):
    folder = tmp_path / "notebooks"
    write_notebook(folder, "00_records", "size = 4  # side\n",
                   "import os\nfrom slowfast_lite import course\nprint(os.getcwd())",
                   "ballast = b'x' * (300 * 2**20)  # 300 MB the probe must see",
                   "course.record('area', size * size)")
    write_notebook(folder, "01_fails", "divisor = 0\n", "numbers = [1, 2]", "ratio = 1 / divisor\n# why")
    write_notebook(folder, "02_after", "seed = 0\n", "from slowfast_lite import course\ncourse.record('ran', True)")
    return folder


def test_run_executes_in_order_reports_failures_and_resumes(runnable_course, tmp_path):
    out = tmp_path / "run"
    lines = []
    report = course.runner.run("quick", out, overrides={"00_records": {"size": 5}}, notebooks_dir=runnable_course,
                        log=lines.append)
    assert [r.name for r in report.results] == ["00_records", "01_fails", "02_after"]
    first, failed, after = report.results
    assert first.status == "ok" and first.metrics == {"area": 25} and first.parameters == {"size": 5}
    assert failed.status == "failed" and failed.error.startswith("cell 4 (`ratio = 1 / divisor`): ZeroDivisionError")
    assert after.status == "ok" and after.metrics == {"ran": True}, "a failure does not stop later notebooks"
    assert not report.ok
    # the probe measured each kernel, not the runner: only the first notebook holds 300 MB more
    assert first.peak_host_mb - after.peak_host_mb > 250
    assert first.peak_gpu_mb is None
    executed = nbformat.read(out / "00_records.ipynb", as_version=4)
    printed_cwd = next(c for c in executed.cells if "os.getcwd" in c.source).outputs[0]["text"].strip()
    assert printed_cwd == str(runnable_course), "notebooks run in their own folder"
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in executed.cells)
    saved = json.loads((out / "report.json").read_text())
    assert [r["status"] for r in saved["results"]] == ["ok", "failed", "ok"]
    markdown = (out / "report.md").read_text()
    assert "| 01_fails | failed |" in markdown and "ZeroDivisionError" in markdown and "area=25" in markdown
    assert any("[2/3] 01_fails: failed" in line for line in lines)

    # resume: what succeeded with the same source and parameters is skipped, the rest runs again
    again = course.runner.run("quick", out, resume=True, overrides={"00_records": {"size": 5}},
                       notebooks_dir=runnable_course, fail_fast=True, log=lines.append)
    assert [(r.name, r.resumed) for r in again.results] == [("00_records", True), ("01_fails", False)]
    assert again.results[0].metrics == {"area": 25}
    changed = course.runner.run("quick", out, only="00", resume=True, overrides={"00_records": {"size": 6}},
                         notebooks_dir=runnable_course, log=lines.append)
    assert changed.results[0].resumed is False and changed.results[0].metrics == {"area": 36}


def test_cli_exit_codes(runnable_course, tmp_path, capsys):
    args = ["--notebooks", str(runnable_course), "--out", str(tmp_path / "cli")]
    assert course.cli.cli(args + ["--only", "02"]) == 0
    assert "| 02_after | ok |" in capsys.readouterr().out
    assert course.cli.cli(args + ["--only", "01", "--set", "01_fails:divisor=2"]) == 0
    assert course.cli.cli(args + ["--only", "01"]) == 1
    assert main(["course", *args, "--set", "01_fails:divisr=2"]) == 2
    assert "01_fails: parameter 'divisr'" in capsys.readouterr().err
    assert course.cli.cli(args + ["--dry-run", "--set", "00_records:size=9"]) == 0
    assert "00_records: size=9" in capsys.readouterr().out


# --- the full profile -----------------------------------------------------------------------------------


def test_full_profile_fits_the_course_notebooks():
    notebooks = course.notebooks.discover()
    resolved = course.parameters.resolve_parameters("full", notebooks)  # raises on any key a notebook lacks
    assert set(course.parameters.PROFILES["full"]) <= {p.stem for p in notebooks}
    for name, values in course.parameters.PROFILES["full"].items():
        assert values and resolved[name] == values


def stand_in(real, folder):
    """The real notebook's `parameters` cell, then a cell that records every parameter's value."""
    nb = nbformat.read(real, as_version=4)
    params_cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    params_cell.outputs, params_cell.execution_count = [], None
    names = list(course.notebooks.notebook_parameters(real))
    record = "from slowfast_lite import course\n" + "".join(f"course.record({n!r}, {n})\n" for n in names)
    nb.cells = [params_cell, nbformat.v4.new_code_cell(record)]
    nbformat.write(nb, folder / real.name)


def test_full_profile_structure_runs_on_tiny_overrides(tmp_path):
    """The runner with the full profile's notebooks and keys, its sizes made tiny (half the quick defaults).

    Each stand-in keeps its notebook's real `parameters` cell, so this checks that every full-profile value (or
    its tiny override) reaches its notebook, without the minutes of real work. (Run the real notebooks at full
    size with ``python -m slowfast_lite course --profile full``.)
    """
    folder = tmp_path / "notebooks"
    folder.mkdir()
    full = course.parameters.PROFILES["full"]
    for real in course.notebooks.discover():
        if real.stem in full:
            stand_in(real, folder)
    tiny = {}
    for name, values in full.items():
        defaults = course.notebooks.notebook_parameters(folder / f"{name}.ipynb")
        tiny[name] = {key: max(1, defaults[key] // 2) for key, value in values.items()
                      if isinstance(value, int) and not isinstance(value, bool)}
        assert all(tiny[name][key] != values[key] for key in tiny[name])
    report = course.runner.run("full", tmp_path / "run", overrides=tiny, notebooks_dir=folder, log=lambda line: None)
    assert report.ok, [r.error for r in report.results if r.error]
    for result in report.results:
        defaults = course.notebooks.notebook_parameters(folder / f"{result.name}.ipynb")
        assert result.metrics == {**defaults, **full[result.name], **tiny[result.name]}
        assert result.parameters == {**full[result.name], **tiny[result.name]}


def test_durations_read_as_a_clock():
    assert [course.report.duration(s) for s in (12.34, 59.96, 119.6, 3599.7)] == ["12.3 s", "1 min 00 s", "2 min 00 s",
                                                                           "60 min 00 s"]


def test_cli_names_the_missing_course_extra(monkeypatch, capsys):
    monkeypatch.setattr(course.cli, "COURSE_EXTRA", ("papermill", "no_such_module_here"))
    assert course.cli.cli(["--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "missing: no_such_module_here" in err and "papermill" not in err.split("missing:")[1].split(")")[0]
    assert 'pip install -e ".[course]"' in err


def test_an_executed_copy_never_replaces_its_source(tmp_path):
    """``course --out D`` where ``D/00_*.ipynb`` links to the course notebook: refused before anything runs."""
    source = course.notebooks.discover()[0]
    out = tmp_path / "out"
    out.mkdir()
    (out / source.name).symlink_to(source)
    before = source.read_bytes()
    with pytest.raises(course.notebooks.CourseError, match="is the course notebook .* itself"):
        course.runner.run("quick", out, only=source.stem[:2], log=lambda *a: None)
    assert source.read_bytes() == before
