"""Executing the course: the notebooks in order with papermill, each with its profile's parameters, resumable.

``run`` writes the executed notebooks, what each recorded and the run report (``report``).
"""

import contextlib
import hashlib
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

from slowfast_lite import usage, utils
from slowfast_lite.course.notebooks import CourseError, discover, select
from slowfast_lite.course.parameters import resolve_parameters
from slowfast_lite.course.records import RECORD_ENV, STATS_ENV
from slowfast_lite.course.report import CourseReport, NotebookResult, duration, first_line, run_facts, write_report


def run(profile: str = "quick", out_dir=None, only=None, resume: bool = False, overrides=None,
        notebooks_dir=None, fail_fast: bool = False, timeout=None, log=print) -> CourseReport:
    """Execute the course notebooks in order with papermill and write the run report.

    out_dir gets the executed notebooks, ``records/`` (what each notebook recorded), ``report.json`` and
    ``report.md``; default ``runs/<profile>``. ``only``: "03,04" or a list. ``resume``: keep notebooks that
    already ran successfully with the same source and parameters. ``overrides``: {notebook: {key: value}} on top
    of the profile. ``timeout``: seconds per cell (None: no limit). Every override is checked before anything runs.
    """
    notebooks = discover(notebooks_dir)
    parameters = resolve_parameters(profile, notebooks, overrides)
    chosen = select(notebooks, only)
    out = (Path(out_dir) if out_dir else Path("runs") / profile).resolve()  # papermill saves from the notebook's cwd
    for path in chosen:  # an executed copy never replaces its source, whatever link or folder leads there
        if usage.same_file(out / path.name, path):
            raise CourseError(f"--out {out}: {out / path.name} is the course notebook {path} itself (a link or the "
                              "notebooks folder); refusing to write over it")
    (out / "records").mkdir(parents=True, exist_ok=True)
    report = CourseReport(profile, [], run_facts())
    for number, path in enumerate(chosen, 1):
        params = parameters[path.stem]
        fingerprint = _fingerprint(path, params)
        before = _previous_result(out, path.stem) if resume else None
        if before and before.status == "ok" and before.fingerprint == fingerprint and (out / path.name).exists():
            before.resumed = True
            report.results.append(before)
            log(f"[{number}/{len(chosen)}] {path.stem}: already done with these parameters, skipped")
            continue
        log(f"[{number}/{len(chosen)}] {path.stem} ...")
        result = _execute(path, out, params, fingerprint, timeout)
        report.results.append(result)
        with utils.atomic_write(out / "records" / f"{path.stem}.result.json") as partial:
            partial.write_text(json.dumps(asdict(result), indent=1))
        log(f"[{number}/{len(chosen)}] {path.stem}: {result.status} in {duration(result.wall_s)}"
            + (f"  {result.error}" if result.error else ""))
        write_report(report, out)
        if fail_fast and result.status != "ok":
            break
    write_report(report, out)
    return report


def _execute(path: Path, out: Path, params: dict, fingerprint: str, timeout) -> NotebookResult:
    import papermill

    records, stats = out / "records" / f"{path.stem}.json", out / "records" / f"{path.stem}.stats.json"
    for stale in (records, stats):
        stale.unlink(missing_ok=True)
    result = NotebookResult(path.stem, "ok", params, fingerprint)
    probe = "__import__('slowfast_lite.course.records', fromlist=['_']).install_kernel_probe()"
    kernel_args = [f"--IPKernelApp.exec_lines={probe}",
                   "--IPKernelApp.log_level=ERROR"]  # keep the kernel's start-up chatter out of the progress lines
    start = time.perf_counter()
    with environment({RECORD_ENV: str(records), STATS_ENV: str(stats)}):
        try:
            papermill.execute_notebook(str(path), str(out / path.name), parameters=params, cwd=str(path.parent),
                                       kernel_name="python3", progress_bar=sys.stderr.isatty(),
                                       execution_timeout=timeout, extra_arguments=kernel_args)
        except papermill.PapermillExecutionError as err:
            result.status, result.error = "failed", _describe_failure(err, path)
        except Exception as err:  # kernel died, cell timeout, unreadable notebook: still one line in the report
            result.status, result.error = "failed", f"{type(err).__name__}: {first_line(str(err))}"
    result.wall_s = round(time.perf_counter() - start, 1)
    if records.exists():
        result.metrics = json.loads(records.read_text())
    if stats.exists():
        measured = json.loads(stats.read_text())
        result.peak_host_mb, result.peak_gpu_mb = measured["peak_host_mb"], measured["peak_gpu_mb"]
    return result


def _describe_failure(err, path: Path) -> str:
    """Name the failing cell as the reader sees it in the source notebook: its number and first line."""
    import nbformat

    source = nbformat.read(path, as_version=4)
    wanted = err.source.strip()
    number = next((i + 1 for i, cell in enumerate(source.cells) if cell.source.strip() == wanted), None)
    where = f"cell {number}" if number else f"In [{err.exec_count}]"
    return f"{where} (`{first_line(err.source)}`): {err.ename}: {first_line(err.evalue)}"


@contextlib.contextmanager
def environment(values: dict):
    """Set environment variables inside a ``with`` block (a value of None removes one), then restore them."""
    saved = {key: os.environ.get(key) for key in values}
    try:
        _set_environment(values)
        yield
    finally:
        _set_environment(saved)


def _set_environment(values: dict):
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def _fingerprint(path: Path, params: dict) -> str:
    digest = hashlib.sha256(path.read_bytes())
    digest.update(json.dumps(params, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _previous_result(out: Path, name: str):
    path = out / "records" / f"{name}.result.json"
    if not path.exists():
        return None
    try:
        return NotebookResult(**json.loads(path.read_text()))
    except (ValueError, TypeError):
        return None  # an unreadable old result only means the notebook runs again
