"""The claims the training notebooks make: measured in every run, calibrated over seeds and machines.

A claim is a measured value against a threshold, e.g. "SlowFast's top-1 is above Slow-only's" is
``Claim("slowfast_vs_slow_only", ..., value=sf - slow, threshold=0.0)``; its margin is value - threshold.

A notebook asserts a claim with ``check(notebook, claims)`` only where the committed calibration says it holds on
any machine: over >= 10 seeds in >= 2 environments (the default one and a simulated other CPU, ``SIMULATED_CPU``)
the margin's mean is at least ``Z_MIN`` sample standard deviations above zero. Below that bar the notebook calls
``report(notebook, claims)``: the value is shown with its uncertainty, not asserted. Both record every margin for
the run report and print only words that are the same on every machine, so nbval can compare them; the numbers,
which differ in their last digits from one CPU to another, are printed in cells nbval ignores.

``python -m slowfast_lite claims --seeds 0-9 --env simulated`` reruns the training notebooks once per seed in one
environment and writes ``results/claims_<profile>/<env>.json``; ``claims.json`` and ``claims.md`` beside it pool
every environment there: per claim n, mean margin, sample s.d. and z = mean / s.d.
"""

import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from slowfast_lite import usage, utils
from slowfast_lite.course.notebooks import CourseError, discover, notebook_parameters, select
from slowfast_lite.course.parameters import PROFILES, parse_override
from slowfast_lite.course.records import record
from slowfast_lite.course.runner import environment, run
from slowfast_lite.course.stats import MIN_RUNS, Z_MIN, statistics

PREFIX = "claim."  # recorded margins are named claim.<key>
TRAINING_NOTEBOOKS = ("06_training", "07_ava_detection", "08_your_own_video")
RESULTS_DIR = Path(__file__).resolve().parents[2] / "results"
# Another CPU on this one: one thread, no vector extensions in ATen, oneDNN at SSE4.1 and MKL's compatible code
# path change the float summation order of reductions, convolutions and matrix products, as another machine does
SIMULATED_CPU = dict(zip(utils.CPU_VARIABLES, ("1", "default", "SSE41", "COMPATIBLE"), strict=True))
ENVIRONMENTS = {"default": {}, "simulated": SIMULATED_CPU}
MEASURE_ENV = "SLOWFAST_LITE_CLAIMS_MEASURE"  # set by the sweep: record every margin, assert nothing


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


def check(notebook, claims, profile="quick") -> None:
    """Assert ``claims`` of ``notebook``: record every margin, print the ones that hold, raise AssertionError
    naming a claim that fails, or that its committed calibration does not support (z < ``Z_MIN``)."""
    _record(claims)
    if os.environ.get(MEASURE_ENV):
        return
    calibration = committed(profile).get(notebook)
    if calibration is not None:  # a profile nobody calibrated (full, on a GPU) is checked as measured
        weak = [f"{c.key} ({describe(calibration.get(c.key))})" for c in claims
                if not supported(calibration.get(c.key))]
        if weak:
            raise AssertionError(f"not calibrated to hold on every machine, report instead of asserting: "
                                 f"{'; '.join(weak)}")
    failed = [c for c in claims if not c.holds]
    if failed:
        raise AssertionError("; ".join(f"{c.statement}: measured {c.value:.4g}, needs {c.threshold:.4g}"
                                       for c in failed))
    for claim in claims:
        print(f"holds: {claim.statement}")


def report(notebook, claims, profile="quick") -> None:
    """Record the margins of claims too weak to assert and say, from the committed calibration, how often
    they hold: the same words on every machine."""
    _record(claims)
    calibration = committed(profile).get(notebook, {})
    for claim in claims:
        print(f"not asserted: {claim.statement} ({describe(calibration.get(claim.key))})")


def _record(claims):
    for claim in claims:
        record(PREFIX + claim.key, round(claim.margin, 4))


def supported(stats) -> bool:
    """Whether a claim's calibration reaches the bar: >= MIN_RUNS runs in each of >= 2 environments, z >= Z_MIN."""
    return bool(stats) and stats["z"] is not None and stats["z"] >= Z_MIN and len(stats["per_env"]) >= 2 and all(
        e["n"] >= MIN_RUNS for e in stats["per_env"].values())


def describe(stats) -> str:
    if not stats:
        return "no committed calibration"
    z = "undefined (no spread)" if stats["z"] is None else f"{stats['z']:.1f}"
    few = [f"{env} {e['n']}" for env, e in stats["per_env"].items() if e["n"] < MIN_RUNS]
    return f"z = {z} over {stats['n']} runs in {len(stats['per_env'])} environments" + (
        f"; too few runs ({', '.join(few)}; {MIN_RUNS} needed in each)" if few else "")


# ---------------------------------------------------------------------------------------------------------
# Over seeds and environments


def results_dir(profile) -> Path:
    return RESULTS_DIR / f"claims_{profile}"


def sweep(seeds, only=TRAINING_NOTEBOOKS, profile="quick", env="default", jobs=1, out_dir=None, overrides=None,
          command="", log=print) -> dict:
    """Run the notebooks ``only`` once per seed in environment ``env``; returns (and writes) the results.

    ``out_dir`` (default ``results/claims_<profile>``) gets ``<env>.json`` (per seed and notebook: status and every
    recorded number; ``calls``: the provenance of every call that added runs, so a resumed sweep names each commit
    it ran at), then ``claims.json`` and ``claims.md`` over every environment there.
    Each environment trains its own models under ``<data root>/claims/<env>/`` (so the simulated CPU's notebooks
    07 and 08 start from its own notebook 06); the executed notebooks land there too. Finished seeds are kept.
    ``jobs``: seeds run at once, each in its own process. ``overrides``: {notebook: {parameter: value}}.
    """
    out = Path(out_dir) if out_dir else results_dir(profile)
    path = out / f"{env}.json"
    result = json.loads(path.read_text()) if path.exists() else {"env": env, "runs": {}}
    work = utils.data_root() / "claims" / env
    variables = {**{k: None for k in SIMULATED_CPU}, **ENVIRONMENTS[env], "SLOWFAST_LITE_DATA": str(work),
                 MEASURE_ENV: "1"}
    todo = [s for s in seeds if not _finished(result, s, only)]
    calls = result.setdefault("calls", [])
    this_call = len(calls)  # its provenance is appended with the first finished seed, then kept current
    started = time.perf_counter()
    with environment(variables), ProcessPoolExecutor(max(1, min(jobs, len(todo) or 1))) as pool:
        futures = {pool.submit(_run_seed, seed, only, profile, work, overrides): seed for seed in todo}
        for future in as_completed(futures):
            seed, runs = futures[future], future.result()
            result["runs"].setdefault(str(seed), {}).update(runs)
            log(f"== {env}, seed {seed}: "
                + ", ".join(f"{n} {r['status']} ({r['wall_s']:.0f} s)" for n, r in runs.items()))
            # written after every seed: an interrupted sweep keeps what it measured, and says which call did
            calls[this_call:] = [utils.provenance(command or f"python -m slowfast_lite claims --env {env}",
                                                  time.perf_counter() - started, jobs=jobs, seeds=todo)]
            with utils.atomic_write(path) as partial:
                partial.write_text(json.dumps(result, indent=1) + "\n")
    summarize(out)
    return result


def _finished(result, seed, only) -> bool:
    runs = result["runs"].get(str(seed), {})
    return all(runs.get(name, {}).get("status") == "ok" for name in only)


def _run_seed(seed, only, profile, work, overrides) -> dict:
    """One seed's course run (in a worker process); {notebook: status, error, wall time, recorded numbers}."""
    notebooks = select(discover(), ",".join(only))
    per_notebook = {name: dict(values) for name, values in (overrides or {}).items()}
    for p in notebooks:
        if "seed" in notebook_parameters(p):
            per_notebook.setdefault(p.stem, {})["seed"] = seed
    report = run(profile, work / "runs" / f"seed{seed}", only=",".join(only), resume=True, overrides=per_notebook,
                 log=lambda *a: None)
    return {r.name: {"status": r.status, "error": r.error, "wall_s": r.wall_s, "numbers": r.metrics}
            for r in report.results}


def read(profile="quick", out_dir=None) -> dict:
    """Every environment's sweep of a profile: {env: its ``<env>.json``} (what notebooks show over seeds)."""
    out = Path(out_dir) if out_dir else results_dir(profile)
    found = {p.stem: json.loads(p.read_text()) for p in sorted(out.glob("*.json")) if p.stem in ENVIRONMENTS}
    if not found:
        raise FileNotFoundError(f"{out} holds no sweep: run `python -m slowfast_lite claims --profile {profile}`")
    return found


def numbers(sweeps, notebook, env=None) -> dict:
    """{number name: [value per run]} of one notebook, pooled over the environments of ``read`` (or one)."""
    out = {}
    for name, result in sweeps.items():
        if env not in (None, name):
            continue
        for seed in sorted(result["runs"], key=int):
            run = result["runs"][seed].get(notebook, {})
            if run.get("status") != "ok":
                continue
            for key, value in run.get("numbers", {}).items():
                if isinstance(value, int | float):
                    out.setdefault(key, []).append(value)
    return out


def calibrate(sweeps) -> dict:
    """{notebook: {name: pooled statistics with ``per_env``}} for every claim margin and number."""
    notebooks = dict.fromkeys(n for r in sweeps.values() for per in r["runs"].values() for n in per)
    table = {}
    for notebook in notebooks:
        per_env = {env: numbers(sweeps, notebook, env) for env in sweeps}
        table[notebook] = {key: {**statistics(values), "per_env": {
            env: statistics(found[key]) for env, found in per_env.items() if found.get(key)}}
            for key, values in numbers(sweeps, notebook).items()}
    return table


def summarize(out_dir) -> dict:
    """Write ``claims.json`` (claims: n, mean margin, s.d., z per notebook) and ``claims.md`` from the sweeps."""
    out = Path(out_dir)
    sweeps = read(out_dir=out)
    table = calibrate(sweeps)
    claims = {nb: {k[len(PREFIX):]: v for k, v in entries.items() if k.startswith(PREFIX)}
              for nb, entries in table.items()}
    document = {"z_min": Z_MIN, "min_runs_per_env": MIN_RUNS, "claims": claims,
                "numbers": {nb: {k: v for k, v in e.items() if not k.startswith(PREFIX)} for nb, e in table.items()},
                "provenance": {env: r.get("calls", []) for env, r in sweeps.items()}}
    with utils.atomic_write(out / "claims.json") as partial:
        partial.write_text(json.dumps(document, indent=1) + "\n")
    (out / "claims.md").write_text(summary_markdown(document, sweeps))
    return document


def summary_markdown(document, sweeps) -> str:
    envs = list(sweeps)
    lines = ["# Claims over seeds and environments", "",
             f"A claim is asserted in its notebook only when its margin (value - threshold) has z = mean / s.d. >= "
             f"{document['z_min']} over >= {document['min_runs_per_env']} seeds in each of >= 2 environments "
             "(sample s.d., all runs pooled).", ""]
    for env, calls in document["provenance"].items():
        lines += [f"- {env}: " + ", ".join(f"{k} {v}" for k, v in facts.items()) for facts in calls]
    lines += ["", "## Claims (margins)", "",
              "| notebook | claim | n | mean | s.d. | min | z | " + " | ".join(f"{e} mean +- s.d. (n)" for e in envs)
              + " | bar |", "|---|---|---|---|---|---|---|" + "---|" * (len(envs) + 1)]
    for notebook, entries in document["claims"].items():
        for key, s in entries.items():
            per = [f"{s['per_env'][e]['mean']:+.3f} +- {s['per_env'][e]['sd']:.3f} ({s['per_env'][e]['n']})"
                   if e in s["per_env"] else "-" for e in envs]
            z = "-" if s["z"] is None else f"{s['z']:.1f}"
            lines.append(f"| {notebook} | {key} | {s['n']} | {s['mean']:+.3f} | {s['sd']:.3f} | {s['min']:+.3f} | "
                         f"{z} | " + " | ".join(per) + f" | {'met' if supported(s) else 'not met'} |")
    lines += ["", "## Numbers (mean +- sample s.d., all runs)", "", "| notebook | number | mean | s.d. | n |",
              "|---|---|---|---|---|"]
    for notebook, entries in document["numbers"].items():
        for key, s in entries.items():
            lines.append(f"| {notebook} | {key} | {s['mean']:.4g} | {s['sd']:.2g} | {s['n']} |")
    failed = [(env, s, n, r["error"]) for env, res in sweeps.items() for s, per in res["runs"].items()
              for n, r in per.items() if r["status"] != "ok"]
    if failed:
        lines += ["", "## Failed runs (left out of the statistics)", ""]
        lines += [f"- {env}, seed {s}, {n}: {e}" for env, s, n, e in failed]
    return "\n".join(lines) + "\n"


def calibration_table(notebook, profile="quick") -> str:
    """What the committed sweeps say of a notebook's claims, in words that are the same on every machine: per
    environment the machine and how many seeds ran, then per claim n, mean margin +- s.d., z and the verdict."""
    try:
        sweeps = read(profile)
    except FileNotFoundError:
        return f"no committed sweep of the {profile} profile: its claims are checked as measured, uncalibrated"
    lines = []
    for env, result in sweeps.items():
        calls = result.get("calls") or [{}]
        facts = calls[-1]
        seeds = [s for s, per in result["runs"].items() if per.get(notebook, {}).get("status") == "ok"]
        commits = ", ".join(dict.fromkeys((c.get("git_commit") or "?")[:7] for c in calls))
        lines.append(f"{env}: {len(seeds)} seeds, {facts.get('cpu')} ({facts.get('cpu_capability')}), "
                     f"{facts.get('threads')} thread(s), torch {facts.get('torch')}, "
                     f"commit{'s' if ', ' in commits else ''} {commits}")
    lines.append(f"{'claim':<34}{'n':>4}{'margin mean +- s.d.':>22}{'z':>7}  verdict (asserted at z >= {Z_MIN})")
    for key, stats in committed(profile).get(notebook, {}).items():
        z = "-" if stats["z"] is None else f"{stats['z']:.1f}"
        lines.append(f"{key:<34}{stats['n']:>4}{stats['mean']:>+13.3f} +- {stats['sd']:.3f}{z:>7}  "
                     + ("asserted" if supported(stats) else "reported"))
    return "\n".join(lines)


def committed(profile="quick") -> dict:
    """The committed calibration of a profile: {notebook: {claim key: statistics}} ({} when there is none)."""
    path = results_dir(profile) / "claims.json"
    return json.loads(path.read_text())["claims"] if path.exists() else {}


def parse_seeds(text) -> list:
    """'0,1,2' or '0-9' (or both: '0-4,7') -> sorted distinct seeds; ValueError names what is wrong."""
    seeds = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        low, _, high = part.partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ValueError(f"expected seeds >= 0 as 0,1,2 or 0-9, got {text!r}")
        if high and int(high) < int(low):
            raise ValueError(f"empty range {part!r} in {text!r}")
        seeds.update(range(int(low), int(high or low) + 1))
    if not seeds:
        raise ValueError(f"give one or more seeds >= 0, got {text!r}")
    return sorted(seeds)


def cli(argv) -> int:
    """``python -m slowfast_lite claims [--seeds 0-9] [--env default|simulated] [--jobs 1] [--only 06,07,08]``"""
    parser = usage.ArgumentParser(prog="python -m slowfast_lite claims",
                                  description="Rerun the training notebooks over seeds in one environment; write "
                                              "each claim's margins and its z over every environment swept.")
    parser.add_argument("--seeds", default="0-9", help="seeds as 0,1,2 or 0-9 (default 0-9)")
    parser.add_argument("--env", default="default", choices=list(ENVIRONMENTS),
                        help="default: this machine as it is; simulated: another CPU (" +
                             " ".join(f"{k}={v}" for k, v in SIMULATED_CPU.items()) + ")")
    parser.add_argument("--jobs", type=usage.integer(1, 64), default=1, help="seeds run at once (default 1)")
    parser.add_argument("--only", default="06,07,08", help="notebooks to run, by number (default 06,07,08)")
    parser.add_argument("--profile", default="quick", choices=list(PROFILES))
    parser.add_argument("--out", type=Path, help="output folder (default results/claims_<profile>)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="NB:KEY=VALUE",
                        help="override one notebook parameter for every seed (repeatable), as in `course --set`")
    args = parser.parse_args(argv)
    try:
        seeds = parse_seeds(args.seeds)
    except ValueError as err:
        parser.error(f"--seeds: {err}")
    if args.out is not None:
        usage.check_output_dir(args.out, "--out")
    overrides = {}
    try:
        for text in args.overrides:
            notebook, key, value = parse_override(text)
            overrides.setdefault(notebook, {})[key] = value
        only = [p.stem for p in select(discover(), args.only)]
    except CourseError as err:
        parser.error(str(err))
    command = "python -m slowfast_lite claims " + " ".join(argv)
    result = sweep(seeds, only, args.profile, args.env, args.jobs, args.out, overrides, command)
    failed = any(r["status"] != "ok" for per in result["runs"].values() for r in per.values())
    return 1 if failed else 0
