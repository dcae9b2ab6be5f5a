"""Running the course: the key-number recorder, the papermill runner with its two profiles, the run report.

``python -m slowfast_lite course [--profile quick|full] [--out DIR] [--only 03,04] [--resume]`` executes the
notebooks in order, each with its profile's parameters, and writes the executed notebooks, ``report.md`` and
``report.json`` (per notebook: wall time, peak host and GPU memory, the numbers it ``record``-ed).
"""

import ast
import contextlib
import hashlib
import importlib.util
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from slowfast_lite import recipes, usage, utils

RECORD_ENV = "SLOWFAST_LITE_RECORD"  # json file that record() writes to, set by the runner per notebook
STATS_ENV = "SLOWFAST_LITE_STATS"  # json file the kernel probe writes peak memory to
NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"

# The two sizes of the course, profile -> notebook -> papermill parameter overrides, live in `recipes` (one
# source for every course setting). quick is the notebooks' own defaults (what is committed and what CI checks:
# 2 CPU cores, minutes); full is one GPU. Every key must exist in that notebook's `parameters` cell.
PROFILES = recipes.COURSE_PROFILES
BACKBONE_NOTEBOOK = "06_training"  # its recipe parameters (recipes.BACKBONE_KEYS) reach 07 and 08 as backbone_recipe


class CourseError(usage.UsageError):
    """A bad profile, notebook selection or parameter override (names the notebook and the key)."""


# ---------------------------------------------------------------------------------------------------------
# What notebooks call


def record(key: str, value):
    """Record a notebook's key number for the run report; returns ``value`` unchanged.

    The runner sets ``$SLOWFAST_LITE_RECORD`` to a json sidecar file; outside a run this only returns.
    NumPy and torch scalars and arrays are stored as plain numbers and lists.
    """
    path = os.environ.get(RECORD_ENV)
    if path:
        path = Path(path)
        data = json.loads(path.read_text()) if path.exists() else {}
        plain = value.tolist() if hasattr(value, "tolist") else value
        try:
            data[key] = json.loads(json.dumps(plain))
        except TypeError as err:
            raise TypeError(f"course.record({key!r}, ...): value of type {type(value).__name__} is not a "
                            "number, string, list or dict") from err
        with utils.atomic_write(path) as partial:
            partial.write_text(json.dumps(data, indent=1, sort_keys=True))
    return value


def install_kernel_probe() -> None:
    """Inside a kernel the runner started: after every cell, write peak host and GPU memory to $SLOWFAST_LITE_STATS.

    Peak host memory is the kernel process's peak resident set; peak GPU memory is torch's peak allocation on
    the current CUDA device, read only when the notebook has already initialised CUDA.
    """
    path = os.environ.get(STATS_ENV)
    shell = _ipython()
    if not path or shell is None:
        return

    def write_stats(*_):
        stats = {"peak_host_mb": _peak_rss_mb(), "peak_gpu_mb": None}
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
            stats["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        Path(path).write_text(json.dumps(stats))

    shell.events.register("post_run_cell", write_stats)


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _peak_rss_mb():
    """Peak resident memory of this process in MB.

    Linux: VmHWM, which starts afresh at exec (ru_maxrss would carry over the runner's own peak from the fork).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)  # kB
    try:
        import resource
    except ImportError:  # Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 1)  # bytes on macOS


# ---------------------------------------------------------------------------------------------------------
# Choosing notebooks and their parameters


def discover(notebooks_dir=None) -> list[Path]:
    """The course notebooks ``NN_name.ipynb`` (and ``NNx_name.ipynb``, such as 06b after 06) of a folder, in
    course order."""
    folder = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    found = sorted(p for p in folder.glob("[0-9][0-9]*_*.ipynb") if p.is_file())
    if not found:
        raise CourseError(f"no course notebooks (NN_name.ipynb) in {folder}")
    return found


def select(notebooks: list[Path], only=None) -> list[Path]:
    """Keep the notebooks named in ``only`` (numbers like ``"03"`` or full names), in course order."""
    if not only:
        return notebooks
    wanted = [w.strip() for w in (only.split(",") if isinstance(only, str) else only) if w.strip()]
    unknown = [w for w in wanted if not any(_names(p, w) for p in notebooks)]
    if unknown:
        raise CourseError(f"--only names no notebook: {', '.join(unknown)} "
                          f"(have {', '.join(p.stem for p in notebooks)})")
    return [p for p in notebooks if any(_names(p, w) for w in wanted)]


def _names(path: Path, wanted: str) -> bool:
    """Whether ``wanted`` names the notebook: its full name or its number ("3", "03", "06b")."""
    return path.stem == wanted or path.stem.split("_")[0] == wanted.zfill(2)


def notebook_parameters(path) -> dict:
    """The defaults of a notebook's `parameters` cell as Python values (name -> value), in order.

    A default that is an expression rather than a literal (``size = 2 * 56``) comes back as an ``Expression``.
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        raise CourseError(f"{Path(path).name}: no cell tagged 'parameters'")
    values = {}
    for statement in ast.parse(cell.source).body:
        targets = statement.targets if isinstance(statement, ast.Assign) else [getattr(statement, "target", None)]
        for target in targets:
            if isinstance(target, ast.Name) and statement.value is not None:
                try:
                    values[target.id] = ast.literal_eval(statement.value)
                except ValueError:
                    values[target.id] = Expression(ast.unparse(statement.value))
    return values


class Expression(str):
    """A parameter default written as an expression: any override type is accepted for it."""


def resolve_parameters(profile: str, notebooks: list[Path], overrides=None) -> dict:
    """Notebook stem -> the parameters to inject for ``profile``, plus ``overrides`` (same shape) on top.

    Raises CourseError for an unknown profile, a notebook the folder lacks, a key that the notebook's
    `parameters` cell lacks, or a value whose type differs from the default's.
    """
    if profile not in PROFILES:
        raise CourseError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    merged = {name: dict(values) for name, values in PROFILES[profile].items()}
    for name, values in (overrides or {}).items():
        merged.setdefault(name, {}).update(values)
    by_stem = {p.stem: p for p in notebooks}
    missing = sorted(set(merged) - set(by_stem))
    if missing:
        raise CourseError(f"parameters set for notebooks that are not there: {', '.join(missing)} "
                          f"(profile {profile!r} and overrides)")
    for name, values in merged.items():
        defaults = notebook_parameters(by_stem[name])
        for key, value in values.items():
            if key not in defaults:
                raise CourseError(f"{name}: parameter {key!r} is not in its parameters cell "
                                  f"(it has {', '.join(defaults)})")
            if not _same_kind(defaults[key], value):
                raise CourseError(f"{name}: parameter {key!r} = {value!r} is of type {type(value).__name__}, "
                                  f"its default {defaults[key]!r} of type {type(defaults[key]).__name__}")
            if key in PARAMETER_DOMAINS:  # what the notebooks accept, more precise than the default's sign
                problem = PARAMETER_DOMAINS[key](value, {**defaults, **values})
                if problem:
                    raise CourseError(f"{name}: parameter {key!r} = {value!r} is out of range: {problem}")
            elif not _same_sign(defaults[key], value):
                raise CourseError(f"{name}: parameter {key!r} = {value!r} is out of range: its default "
                                  f"{defaults[key]!r} asks for a {'positive' if defaults[key] else 'non-negative'} "
                                  "finite number")
    backbone = {k: v for k, v in merged.get(BACKBONE_NOTEBOOK, {}).items() if k in recipes.BACKBONE_KEYS}
    for path in notebooks:
        if backbone and "backbone_recipe" in notebook_parameters(path):
            values = merged.setdefault(path.stem, {})
            values["backbone_recipe"] = {**backbone, **values.get("backbone_recipe", {})}
    return {p.stem: merged.get(p.stem, {}) for p in notebooks}


def _device_problem(value, _):
    try:
        usage.check_device(value, "device")
    except usage.UsageError as error:
        return str(error).removeprefix("device ")
    return None


def _choice_problem(choices, allow_empty=False):
    def problem(value, _):
        if (value == "" and allow_empty) or value in choices():
            return None
        return f"choose from {', '.join(map(repr, sorted(choices())))}" + (' or ""' if allow_empty else "")
    return problem


def _between(low, high, low_open=False):
    def problem(value, _):
        if not isinstance(value, int | float) or not math.isfinite(value):
            return "a finite number"
        if (value > low if low_open else value >= low) and value <= high:
            return None
        return f"must be in {'(' if low_open else '['}{low:g}, {high:g}]"
    return problem


def _clip_index_problem(value, parameters):
    clips = parameters.get("num_test_clips")
    if isinstance(clips, int) and not 0 <= value < clips:
        return f"a clip of num_test_clips = {clips}: 0 to {clips - 1}"
    return None if value >= 0 else "a clip index >= 0"


def _model_names():
    from slowfast_lite.models import CONFIGS

    return set(CONFIGS)


def _ablation_variants():
    from slowfast_lite import ablate

    return set(ablate.VARIANTS)


# What the notebooks accept for a parameter, where its default's type and sign say too little (by key, in every
# notebook that has it): a function (value, the notebook's parameters) -> what is wrong, or None.
PARAMETER_DOMAINS = {
    "device": _device_problem,
    "profile": _choice_problem(lambda: set(PROFILES)),
    "clip_index": _clip_index_problem,
    "count_model": _choice_problem(_model_names),
    "real_model": _choice_problem(_model_names, allow_empty=True),
    "live_variant": _choice_problem(_ablation_variants),
    "cam_layer": _choice_problem(lambda: {"s1", "s2", "s3", "s4", "s5"}),
    "beta": _between(0, 1, low_open=True),
    "score_threshold": _between(0, 1),
}


def _same_sign(default, value) -> bool:
    """A count, size or rate stays in its default's range: positive if the default is, else non-negative."""
    numbers = (int, float)
    if isinstance(default, bool) or not isinstance(default, numbers) or not isinstance(value, numbers) \
            or isinstance(value, bool) or default < 0:
        return True
    return math.isfinite(value) and (value > 0 if default > 0 else value >= 0)


def _same_kind(default, value) -> bool:
    """An override must have the default's type (an int may stand for a float, None for anything)."""
    if default is None or value is None or isinstance(default, Expression):
        return True
    if isinstance(default, bool) or isinstance(value, bool):
        return isinstance(default, bool) and isinstance(value, bool)
    if isinstance(default, float):
        return isinstance(value, int | float)
    if isinstance(default, list | tuple):
        return isinstance(value, list | tuple)
    return isinstance(value, type(default))


# ---------------------------------------------------------------------------------------------------------
# Running


@dataclass
class NotebookResult:
    """One notebook's line in the run report."""

    name: str
    status: str  # "ok" | "failed"
    parameters: dict
    fingerprint: str  # hash of the notebook's source and its parameters, for --resume
    wall_s: float = 0.0
    peak_host_mb: float | None = None
    peak_gpu_mb: float | None = None
    metrics: dict = field(default_factory=dict)
    error: str | None = None  # "cell 12 (`model = ...`): RuntimeError: ..." when failed
    resumed: bool = False


@dataclass
class CourseReport:
    """What a run did: the results in course order and the run's facts (profile, device, versions)."""

    profile: str
    results: list
    facts: dict

    @property
    def ok(self) -> bool:
        return all(r.status == "ok" for r in self.results)

    def to_json(self) -> str:
        return json.dumps({"profile": self.profile, "facts": self.facts,
                           "results": [asdict(r) for r in self.results]}, indent=1)

    def markdown(self) -> str:
        total = sum(r.wall_s for r in self.results)
        lines = [f"# Course run: profile `{self.profile}`", ""]
        lines += [f"- {key}: {value}" for key, value in self.facts.items()]
        lines += [f"- total notebook time: {_duration(total)}", ""]
        lines += ["| notebook | status | time | peak host memory | peak GPU memory | key numbers |",
                  "|---|---|---|---|---|---|"]
        for r in self.results:
            status = r.status + (" (resumed)" if r.resumed else "")
            numbers = ", ".join(f"{k}={_short(v)}" for k, v in r.metrics.items()) or "-"
            lines.append(f"| {r.name} | {status} | {_duration(r.wall_s)} | {_megabytes(r.peak_host_mb)} | "
                         f"{_megabytes(r.peak_gpu_mb)} | {numbers} |")
        failed = [r for r in self.results if r.status != "ok"]
        if failed:
            lines += ["", "## Failures", ""] + [f"- **{r.name}**: {r.error}" for r in failed]
        changed = [r for r in self.results if r.parameters]
        if changed:
            lines += ["", "## Parameters (overrides of the notebooks' defaults)", ""]
            lines += [f"- {r.name}: " + ", ".join(f"{k}={v!r}" for k, v in r.parameters.items()) for r in changed]
        return "\n".join(lines) + "\n"


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
    report = CourseReport(profile, [], _run_facts())
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
        log(f"[{number}/{len(chosen)}] {path.stem}: {result.status} in {_duration(result.wall_s)}"
            + (f"  {result.error}" if result.error else ""))
        _write_report(report, out)
        if fail_fast and result.status != "ok":
            break
    _write_report(report, out)
    return report


def _execute(path: Path, out: Path, params: dict, fingerprint: str, timeout) -> NotebookResult:
    import papermill

    records, stats = out / "records" / f"{path.stem}.json", out / "records" / f"{path.stem}.stats.json"
    for stale in (records, stats):
        stale.unlink(missing_ok=True)
    result = NotebookResult(path.stem, "ok", params, fingerprint)
    kernel_args = ["--IPKernelApp.exec_lines=__import__('slowfast_lite.course').course.install_kernel_probe()",
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
            result.status, result.error = "failed", f"{type(err).__name__}: {_first_line(str(err))}"
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
    return f"{where} (`{_first_line(err.source)}`): {err.ename}: {_first_line(err.evalue)}"


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


def _write_report(report: CourseReport, out: Path) -> None:
    for name, text in (("report.json", report.to_json()), ("report.md", report.markdown())):
        with utils.atomic_write(out / name) as partial:
            partial.write_text(text)


def _run_facts() -> dict:
    import torch

    device = utils.pick_device("auto")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else utils.cpu_model()
    facts = utils.provenance("python -m slowfast_lite course", 0.0)
    del facts["wall_time_s"], facts["command"]  # the report gives both per notebook
    return {"device": f"{device.type} ({name})", **facts}


def _first_line(text: str) -> str:
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[0].strip()[:160] if lines else ""


def _duration(seconds: float) -> str:
    if seconds < 59.95:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)  # round first: 119.6 s is "2 min 00 s", not "1 min 60 s"
    return f"{minutes} min {rest:02d} s"


def _megabytes(value) -> str:
    return "-" if value is None else f"{value:,.0f} MB"


def _short(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_short(v) for v in value) + "]"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# ---------------------------------------------------------------------------------------------------------
# Re-executing committed notebooks in place (what an author does before committing)


def clean_notebook(nb) -> None:
    """Drop execution noise from a notebook in place: keep only cell tags and the kernel spec."""
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags")
        cell["metadata"] = {"tags": tags} if tags else {}
        if cell.get("cell_type") == "code":
            for output in cell.get("outputs", []):
                output.get("metadata", {}).pop("papermill", None)
    keep = {k: nb.metadata[k] for k in ("kernelspec", "language_info") if k in nb.metadata}
    keep.get("language_info", {}).pop("version", None)
    nb.metadata = keep


def refresh(path, timeout: int = 900) -> None:
    """Execute a notebook from a fresh kernel in its own folder and save it with its outputs, cleaned."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    client.execute()
    clean_notebook(nb)
    nbformat.write(nb, path)


# ---------------------------------------------------------------------------------------------------------
# Command line


def parse_override(text: str) -> tuple[str, str, object]:
    """``06_training:epochs=3`` -> ("06_training", "epochs", 3); values are Python literals, else strings."""
    try:
        target, value = text.split("=", 1)
        notebook, key = target.split(":", 1)
    except ValueError:
        raise CourseError(f"--set {text!r}: write NOTEBOOK:KEY=VALUE, e.g. 06_training:epochs=3") from None
    try:
        value = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        pass  # a bare word such as cuda is meant as a string
    return notebook.strip(), key.strip(), value


# What running notebooks needs beyond the core package: the `course` extra of pyproject.toml.
COURSE_EXTRA = ("papermill", "nbformat", "nbclient", "ipykernel", "ipywidgets")


def cli(argv) -> int:
    missing = [name for name in COURSE_EXTRA if importlib.util.find_spec(name) is None]
    if missing:
        print(f"course: running the notebooks needs the course extra (missing: {', '.join(missing)}); install it "
              "with pip install -e \".[course]\" in the checkout", file=sys.stderr)
        return 2
    if argv and argv[0] == "refresh":
        if len(argv) == 1:
            raise usage.UsageError("refresh needs notebooks: python -m slowfast_lite course refresh NOTEBOOK...")
        for p in argv[1:]:
            usage.check_input_file(p, "refresh")
        for p in argv[1:]:
            print(f"executing {p}", file=sys.stderr)
            refresh(p)
        return 0
    parser = usage.ArgumentParser(prog="python -m slowfast_lite course",
                                  description="Run the course notebooks in order with papermill and report. "
                                  "(`course refresh NOTEBOOK...` re-executes notebooks in place.)")
    parser.add_argument("--profile", choices=list(PROFILES), default="quick",
                        help="quick: the notebooks' defaults (CPU, minutes); full: one GPU at full scale")
    parser.add_argument("--out", type=Path, help="folder for executed notebooks and the report (runs/PROFILE)")
    parser.add_argument("--only", help="comma-separated notebook numbers or names, e.g. 03,04")
    parser.add_argument("--resume", action="store_true",
                        help="skip notebooks that already ran successfully with the same parameters")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NB:KEY=VALUE",
                        help="override one parameter on top of the profile (repeatable)")
    parser.add_argument("--notebooks", type=Path, help="folder of the notebooks (the checkout's notebooks/)")
    parser.add_argument("--fail-fast", action="store_true", help="stop at the first failing notebook")
    parser.add_argument("--timeout", type=usage.integer(minimum=1), help="seconds allowed per cell (default: no limit)")
    parser.add_argument("--dry-run", action="store_true", help="check the parameters and show the plan only")
    args = parser.parse_args(argv)
    if args.out is not None:
        usage.check_output_dir(args.out, "--out", (args.notebooks or NOTEBOOKS_DIR,))
    if args.notebooks is not None and not args.notebooks.is_dir():
        raise usage.UsageError(f"--notebooks {args.notebooks}: no such folder")
    overrides = {}
    for text in args.overrides:
        notebook, key, value = parse_override(text)
        overrides.setdefault(notebook, {})[key] = value
    if args.dry_run:
        notebooks = discover(args.notebooks)
        parameters = resolve_parameters(args.profile, notebooks, overrides)
        for path in select(notebooks, args.only):
            shown = ", ".join(f"{k}={v!r}" for k, v in parameters[path.stem].items()) or "defaults"
            print(f"{path.stem}: {shown}")
        return 0
    report = run(args.profile, args.out, args.only, args.resume, overrides, args.notebooks, args.fail_fast,
                 args.timeout, log=lambda line: print(line, flush=True))
    print()
    print(report.markdown())
    out = args.out or Path("runs") / args.profile
    print(f"executed notebooks and report.md / report.json in {out}")
    return 0 if report.ok else 1
