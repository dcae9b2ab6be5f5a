"""The claims the training notebooks make, checked one way in the notebook and over many seeds.

A claim is a measured value that must reach a threshold, e.g. "SlowFast's top-1 is at least 10 points above
Slow-only's" is ``Claim("slowfast_vs_slow_only", ..., value=sf - slow, threshold=0.10)``. A notebook calls
``check(claims)``: it records each claim's margin (value - threshold) for the run report and prints only which
claims hold, words that are the same on every machine, so nbval can compare them; the numbers themselves,
which differ in their last digits from one CPU to another, are printed in cells nbval ignores.

``python -m slowfast_lite claims --seeds 0,1,2,3,4`` reruns the training notebooks once per seed (the course
runner with ``seed`` overridden), collects every claim's margin and every recorded number, and writes a table
of margins per seed and the mean and spread of each number: the evidence that a claim is not one lucky seed.
"""

import json
import math
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from slowfast_lite import course, usage

PREFIX = "claim."  # recorded margins are named claim.<key>
TRAINING_NOTEBOOKS = ("06_training", "07_ava_detection", "08_your_own_video")
RESULTS_DIR = Path(__file__).resolve().parents[1] / "results"


@dataclass(frozen=True)
class Claim:
    """``statement`` holds when ``value >= threshold``; ``key`` names it in reports."""

    key: str
    statement: str
    value: float
    threshold: float

    @property
    def margin(self) -> float:
        return float(self.value) - float(self.threshold)

    @property
    def holds(self) -> bool:
        return self.margin >= 0


def check(claims) -> None:
    """Record every claim's margin, print the ones that hold, raise AssertionError naming any that fails."""
    for claim in claims:
        course.record(PREFIX + claim.key, round(claim.margin, 4))
    failed = [c for c in claims if not c.holds]
    if failed:
        raise AssertionError("; ".join(f"{c.statement}: measured {c.value:.4g}, needs {c.threshold:.4g}"
                                       for c in failed))
    for claim in claims:
        print(f"holds: {claim.statement}")


# ---------------------------------------------------------------------------------------------------------
# Over seeds


def sweep(seeds, only=TRAINING_NOTEBOOKS, profile="quick", out_dir=None, overrides=None, log=print) -> dict:
    """Run the notebooks ``only`` once per seed; returns (and writes to ``out_dir``) the collected results.

    ``out_dir`` (default ``results/claims_<profile>``) gets ``seeds.json`` (per seed and notebook: status and
    every recorded number; per notebook: what produced them), ``seeds.md`` (margins per seed, mean and spread of
    every number) and, under ``runs/seed<k>/``, the executed notebooks. Results of other notebooks already in
    ``seeds.json`` are kept, and so are runs of the same notebook source and parameters (the runner's resume).
    ``overrides``: {notebook: {parameter: value}} for every seed, as the course runner's ``--set``.
    """
    out = Path(out_dir) if out_dir else RESULTS_DIR / f"claims_{profile}"
    out.mkdir(parents=True, exist_ok=True)
    path = out / "seeds.json"
    result = json.loads(path.read_text()) if path.exists() else {"provenance": {}, "seeds": {}}
    for seed in seeds:
        log(f"== seed {seed}")
        notebooks = course.select(course.discover(), ",".join(only))
        per_notebook = {name: dict(values) for name, values in (overrides or {}).items()}
        for p in notebooks:
            if "seed" in course.notebook_parameters(p):
                per_notebook.setdefault(p.stem, {})["seed"] = seed
        report = course.run(profile, out / "runs" / f"seed{seed}", only=",".join(only), resume=True,
                            overrides=per_notebook, log=log)
        for r in report.results:
            result["seeds"].setdefault(str(seed), {})[r.name] = {"status": r.status, "error": r.error,
                                                                 "wall_s": r.wall_s, "numbers": r.metrics}
        # written after every seed: an interrupted sweep keeps what it measured
        for name in only:
            result["provenance"][name] = provenance(result, name, profile, (overrides or {}).get(name))
        path.write_text(json.dumps(result, indent=1) + "\n")
        (out / "seeds.md").write_text(summary_markdown(result))
    log(summary_markdown(result))
    return result


def provenance(result, notebook, profile, overrides=None) -> dict:
    """What produced a notebook's results: command, commit, versions, processor, threads, date, wall time."""
    import torch

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                cwd=Path(__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    runs = {s: per[notebook] for s, per in result["seeds"].items() if notebook in per}
    settings = "".join(f" --set {notebook}:{k}={v!r}" for k, v in (overrides or {}).items())
    return {"command": f"python -m slowfast_lite claims --seeds {','.join(runs)} --only {notebook[:2]} "
                       f"--profile {profile}{settings}",
            "commit": commit, "torch": torch.__version__, "python": platform.python_version(),
            "cpu": cpu_model(), "threads": torch.get_num_threads(),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), "date": time.strftime("%Y-%m-%d %H:%M"),
            "wall_s": round(sum(r["wall_s"] for r in runs.values()))}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def numbers(result, notebook) -> dict:
    """{number name: [value per seed]} of one notebook over the seeds of a ``sweep`` result."""
    out = {}
    for per_notebook in result["seeds"].values():
        for key, value in per_notebook.get(notebook, {}).get("numbers", {}).items():
            if isinstance(value, int | float):
                out.setdefault(key, []).append(value)
    return out


def mean_and_spread(values) -> tuple:
    """Mean and sample standard deviation (0 for one value)."""
    mean = sum(values) / len(values)
    spread = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else 0.0
    return mean, spread


def summary_markdown(result) -> str:
    seeds = list(result["seeds"])
    lines = ["# Claims over seeds", ""]
    for notebook, facts in result["provenance"].items():
        lines.append(f"- {notebook}: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
    lines += ["",
             "## Margins (value - threshold; a claim holds at >= 0)", "",
             "| notebook | claim | " + " | ".join(f"seed {s}" for s in seeds) + " | min |",
             "|---|---|" + "---|" * (len(seeds) + 1)]
    notebooks = list(dict.fromkeys(n for per in result["seeds"].values() for n in per))
    for notebook in notebooks:
        for key, values in numbers(result, notebook).items():
            if key.startswith(PREFIX):
                per_seed = [result["seeds"][s].get(notebook, {}).get("numbers", {}).get(key) for s in seeds]
                cells = ["-" if v is None else f"{v:+.3f}" for v in per_seed]
                lines.append(f"| {notebook} | {key[len(PREFIX):]} | " + " | ".join(cells) + f" | {min(values):+.3f} |")
    lines += ["", "## Numbers (mean +- sample standard deviation over the seeds)", "",
              "| notebook | number | mean | spread | n |", "|---|---|---|---|---|"]
    for notebook in notebooks:
        for key, values in numbers(result, notebook).items():
            if not key.startswith(PREFIX):
                mean, spread = mean_and_spread(values)
                lines.append(f"| {notebook} | {key} | {mean:.4g} | {spread:.2g} | {len(values)} |")
    failed = [(s, n, r["error"]) for s, per in result["seeds"].items() for n, r in per.items() if r["status"] != "ok"]
    if failed:
        lines += ["", "## Failures", ""] + [f"- seed {s}, {n}: {e}" for s, n, e in failed]
    return "\n".join(lines) + "\n"


def read(profile="quick") -> dict:
    """The committed ``sweep`` result of a profile (what notebooks show beside their own one run)."""
    path = RESULTS_DIR / f"claims_{profile}" / "seeds.json"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m slowfast_lite claims --profile {profile}`")
    return json.loads(path.read_text())


def cli(argv) -> int:
    """``python -m slowfast_lite claims [--seeds 0,1,2,3,4] [--only 06,07,08] [--profile quick] [--out DIR]``"""
    parser = usage.ArgumentParser(prog="python -m slowfast_lite claims",
                                  description="Rerun the training notebooks over seeds; print each claim's margin.")
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated seeds (default 0,1,2,3,4)")
    parser.add_argument("--only", default="06,07,08", help="notebooks to run, by number (default 06,07,08)")
    parser.add_argument("--profile", default="quick", choices=list(course.PROFILES))
    parser.add_argument("--out", type=Path, help="output folder (default results/claims_<profile>)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NB:KEY=VALUE",
                        help="override one notebook parameter for every seed (repeatable), as in `course --set`")
    args = parser.parse_args(argv)
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        parser.error(f"--seeds: expected comma-separated integers, got {args.seeds!r}")
    if not seeds or min(seeds) < 0:
        parser.error(f"--seeds: give one or more seeds >= 0, got {args.seeds!r}")
    if args.out is not None:
        usage.check_output_dir(args.out, "--out")
    overrides = {}
    try:
        for text in args.overrides:
            notebook, key, value = course.parse_override(text)
            overrides.setdefault(notebook, {})[key] = value
        only = [p.stem for p in course.select(course.discover(), args.only)]
    except course.CourseError as err:
        parser.error(str(err))
    result = sweep(seeds, only, args.profile, args.out, overrides)
    failed = any(r["status"] != "ok" for per in result["seeds"].values() for r in per.values())
    return 1 if failed else 0
