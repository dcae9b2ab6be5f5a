"""The paper's Table 2b-2g in miniature: every row x seed trained, tested and written down, resumable.

``python -m slowfast_lite ablate --rows 2b,2c --seeds 0,1,2 --profile quick --out DIR`` (or ``run(...)``)
trains every *variant* the chosen rows need on the ablation MotionShapes set (appearance, motion and binding
groups) through ``recipes.load_or_train`` (its trained-model cache: a variant shared by several rows, such as
SlowFast with T-conv, is trained once), tests it with multiple views and writes to ``DIR``:

* ``results.jsonl``: one line per (variant, seed): top-1 overall and per class group, parameters, multiply-adds,
  training time, the recipe. Lines already there are kept and not rerun: an interrupted sweep resumes.
* ``summary.md``: per row, the paper's top-1 and GFLOPs beside ours (mean +- sample s.d. over seeds, per group).
* ``accuracy_vs_gmacs.png``: mean top-1 against multiply-adds, one point per variant.
* ``provenance.json`` (command line only): per call, the command, git commit, torch version, CPU model, threads,
  processes, date and wall time.

A variant is one model recipe (model name, ``SlowFastConfig`` overrides, data settings), or an ensemble of
``members`` such models trained from different seeds on the same data (Table 2f's "2-Slow ensemble").
"""

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path

from slowfast_lite import usage, utils
from slowfast_lite.course import recipes
from slowfast_lite.errors import UsageError

RESULTS_DIR = Path(__file__).resolve().parents[2] / "results"  # committed sweeps: results/table2_<profile>/
GROUPS = ("appearance", "motion", "binding")  # the ablation set: MotionShapes(groups=GROUPS)
ENSEMBLE_SEED_STEP = 1000  # member k of an ensemble trains with seed + k * ENSEMBLE_SEED_STEP (same data)


@dataclass(frozen=True)
class Variant:
    """One model recipe of the sweep (a point of a Table 2 row)."""

    label: str  # how the tables name it
    model: str = "slowfast_tiny"
    overrides: tuple = ()  # SlowFastConfig overrides, as (key, value) pairs
    data: tuple = ()  # data setting overrides (e.g. fast_grayscale), as (key, value) pairs
    members: int = 1  # > 1: an ensemble of this many models (softmax scores summed)


# every variant of the sweep, by id (what results.jsonl records), in the order a sweep runs them: the evidence for
# the paper's main claims (2c's binding, 2f's capacity) first, so a sweep cut short still answers them
_SLOW_SLOW = (("alpha", 1), ("beta", 1.0), ("fast_temporal_kernels", (1, 1, 1, 3, 3)))
VARIANTS = {
    "slow": Variant("Slow-only 4x8", "slow_tiny"),
    "slowfast": Variant("SlowFast 4x8, T-conv, beta 1/4, grey Fast", "slowfast_tiny"),
    "no_lateral": Variant("SlowFast, no lateral", overrides=(("fusion", "none"),)),
    "slow_ensemble": Variant("2-Slow ensemble", "slow_tiny", members=2),
    # a second Slow pathway (same frames, same width, Slow's temporal kernels, RGB) in place of Fast
    "slowslow": Variant("SlowSlow", overrides=_SLOW_SLOW, data=(("fast_grayscale", False),)),
    "fast": Variant("Fast-only 16x2", "fast_tiny"),
    "tsample": Variant("SlowFast, T-sample", overrides=(("fusion", "tsample"),)),
    "ttoc_concat": Variant("SlowFast, TtoC concat", overrides=(("fusion", "ttoc_concat"),)),
    "ttoc_sum": Variant("SlowFast, TtoC sum", overrides=(("fusion", "ttoc_sum"),)),
    "fast_rgb": Variant("SlowFast, RGB Fast", data=(("fast_grayscale", False),)),
    "fast_grey": Variant("SlowFast, grey Fast, one-channel conv1", overrides=(("fast_grey", True),)),
    "fast_time_diff": Variant("SlowFast, time-difference Fast, one-channel conv1", overrides=(("fast_grey", True),),
                              data=(("fast_time_difference", True),)),
    "beta_1_8": Variant("SlowFast, beta 1/8", overrides=(("beta", 1 / 8),)),
    "slowfast_2x16": Variant("SlowFast 2x16, alpha 8", overrides=(("T", 2), ("tau", 16), ("alpha", 8))),
    "slow_8x4": Variant("Slow-only 8x4", "slow_tiny", overrides=(("T", 8), ("tau", 4))),
    "beta_1_2": Variant("SlowFast, beta 1/2", overrides=(("beta", 1 / 2),)),
    "slowfast_8x4": Variant("SlowFast 8x4, alpha 2", overrides=(("T", 8), ("tau", 4), ("alpha", 2))),
    # Table 2b's plain 3D ResNet: one RGB pathway, twice Slow's frames, temporal kernels in every stage, time never
    # reduced (the paper's "t-reduce 1"; its "t-reduce 2" halves time in the stem, which the family has no option for)
    "resnet3d_8x4": Variant("3D ResNet 8x4, temporal kernels everywhere", "slow_tiny",
                            overrides=(("T", 8), ("tau", 4), ("slow_temporal_kernels", (5, 3, 3, 3, 3)))),
}

# Table 2 rows: (variant id, the paper's top-1, the paper's GFLOPs), from reference/slowfast_facts.md section 4
ROWS = {
    "2b": [("resnet3d_8x4", 74.6, 44.9), ("slow", 72.6, 20.9), ("fast", 51.7, 4.9), ("slowfast", 75.6, 27.6)],
    "2c": [("slow", 72.6, 20.9), ("no_lateral", 73.5, 26.2), ("ttoc_concat", 74.3, 30.5), ("ttoc_sum", 74.5, 26.2),
           ("tsample", 75.4, 26.7), ("slowfast", 75.6, 27.6)],
    "2d": [("slow", 72.6, 20.9), ("beta_1_2", 75.6, 41.7), ("slowfast", 75.6, 27.6), ("beta_1_8", 75.1, 23.4)],
    "2e": [("fast_rgb", 75.6, 27.6), ("slowfast", None, None), ("fast_grey", 75.5, 26.1),
           ("fast_time_diff", 74.5, 26.2)],
    "2f": [("slow", 72.6, 20.9), ("slowfast", 75.6, 27.6), ("slow_ensemble", 73.2, 41.8), ("slowslow", 70.5, 75.6)],
    "2g": [("slow", 72.6, 20.9), ("slowfast", 75.6, 27.6), ("slowfast_2x16", 73.4, 13.9),
           ("slow_8x4", 74.9, 41.9), ("slowfast_8x4", 77.0, 50.3)],
}
ROW_TITLES = {"2b": "individual pathways", "2c": "lateral connections", "2d": "channel ratio beta",
              "2e": "Fast pathway input", "2f": "SlowFast vs two Slow pathways", "2g": "instantiations T x tau"}
# our beta 1/4 (the tiny model's) plays the paper's 1/8 and our 1/8 its 1/16: the paper's 1/4 is our 1/2
PAPER_NOTES = {"2b": "the 3D ResNet is the paper's t-reduce 1 (44.9 GFLOPs); its t-reduce 2 (73.5 top-1, 28.1 GFLOPs) "
                     "halves time in the stem and has no miniature here",
               "2d": "paper betas 1/4, 1/8, 1/16 shown beside ours 1/2, 1/4, 1/8 (the tiny model is twice as wide)",
               "2e": "the paper's default is RGB; ours is grey on three equal channels, a row the paper does not have: "
                     "its grey row has a one-channel conv1"}

class AblationError(UsageError):
    """A bad row, seed list, profile or results file; the message names it (a user error: exit status 2)."""


def variants_of(rows) -> list:
    """The variant ids the rows need, each once, in the order of ``VARIANTS``."""
    unknown = [r for r in rows if r not in ROWS]
    if unknown:
        raise AblationError(f"unknown row(s) {unknown}; choose from {', '.join(ROWS)}")
    needed = {v for r in rows for v, _, _ in ROWS[r]}
    return [v for v in VARIANTS if v in needed]


def dataset(profile, seed):
    """The ablation MotionShapes set of a profile and seed."""
    from slowfast_lite.data.motion_shapes import MotionShapes

    return MotionShapes(profile, seed, groups=GROUPS, **recipes.PROFILES[profile]["ablation"]["data"])


def _train_member(variant, profile, seed, member, progress, device):
    return recipes.load_or_train(
        variant.model, profile, seed + member * ENSEMBLE_SEED_STEP, progress=progress, device=device,
        model_overrides=dict(variant.overrides), data_overrides=dict(variant.data), data_seed=seed,
        groups=GROUPS, data_size=recipes.PROFILES[profile]["ablation"]["data"],
        **recipes.PROFILES[profile]["ablation"]["train"])


def run_variant(variant_id, profile="quick", seed=0, progress=False, device="auto") -> dict:
    """Train (or load from the cache) and test one variant at one seed; returns its results.jsonl record.
    ``device`` ("auto": cuda if present, else mps, else cpu) does not change the cache key."""
    import torch

    from slowfast_lite import evaluate, flops, utils

    variant = VARIANTS[variant_id]
    data = dataset(profile, seed)
    result, params, gmacs, train_time, recipe = None, 0, 0.0, 0.0, None
    for member in range(variant.members):
        trained = _train_member(variant, profile, seed, member, progress, device)
        _, _, test_set = recipes.motion_datasets(trained.model, data, **dict(variant.data))
        part = evaluate.multi_view(trained.model.to(utils.pick_device(device)), test_set, 32, utils.pick_device(device))
        if result is None:
            result = part
        else:
            result.scores = result.scores + part.scores
        p, g = flops.count(trained.model, trained.model.config.input_shapes(1))
        params, gmacs = params + p, gmacs + g
        train_time += sum(trained.history["train_time"])
        recipe = torch.load(trained.checkpoint, map_location="cpu", weights_only=True)["recipe"]
    groups = {g: result.group_accuracy(classes) for g, classes in data.group_classes.items()}
    return {"variant": variant_id, "label": variant.label, "seed": seed, "profile": profile,
            "top1": result.top1, "groups": groups, "params": params, "gmacs": gmacs,
            "train_time_s": round(train_time, 1), "test_videos": len(result.labels),
            "model": variant.model, "overrides": dict(variant.overrides), "data": dict(variant.data),
            "members": variant.members, "recipe": recipe}


def read_results(path) -> list:
    """The records of a results.jsonl (an absent file: none); a malformed line raises naming the line."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        text = usage.read_text(path)
    except UsageError as error:
        raise AblationError(str(error)) from None
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise AblationError(f"{path}, line {number}: not a json record ({error.msg}); remove the line (a run it "
                                "held is rerun)") from None
        missing = [key for key in RECORD_KEYS if not isinstance(record, dict) or key not in record]
        if missing:
            raise AblationError(f"{path}, line {number}: not a record of this sweep (no {', '.join(missing)}); "
                                "remove the line (a run it held is rerun)")
        records.append(record)
    return records


RECORD_KEYS = ("variant", "seed", "profile")  # what a sweep reads back from every line


def parse_seeds(text, option="--seeds"):
    """``"0,1,2"`` -> [0, 1, 2]: one or more integers >= 0, each once, in the order given."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not all(part.isdigit() for part in parts):
        raise AblationError(f"{option} {text!r}: write integers >= 0 separated by commas, e.g. 0,1,2")
    if not parts:
        raise AblationError(f"{option} {text!r}: give one or more seeds >= 0, e.g. 0,1,2")
    return list(dict.fromkeys(int(part) for part in parts))


def parse_rows(text, option="--rows"):
    """``"2b,2c"`` -> ["2b", "2c"]: one or more rows of ``ROWS``, each once."""
    rows = list(dict.fromkeys(part.strip() for part in text.split(",") if part.strip()))
    if not rows:
        raise AblationError(f"{option} {text!r}: give one or more rows, e.g. {','.join(list(ROWS)[:2])}")
    variants_of(rows)  # unknown rows raise, naming them
    return rows


def _read_invocations(path):
    """The calls a provenance.json records ([] when absent); a damaged file is an AblationError naming it."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        calls = json.loads(usage.read_text(path))["invocations"]
        if not isinstance(calls, list) or not all(isinstance(c, dict) and "wall_time_s" in c for c in calls):
            raise TypeError
    except (UsageError, ValueError, KeyError, TypeError):
        raise AblationError(f"{path}: not the provenance this command writes ({{\"invocations\": [...]}}); move it "
                            "away to start a new record") from None
    return calls


def run(rows=tuple(ROWS), seeds=(0, 1, 2), profile="quick", out_dir="ablation", progress=True, jobs=1,
        threads=None, device="auto") -> list:
    """Run every variant of ``rows`` at every seed that ``out_dir/results.jsonl`` does not hold yet, then write
    the summary and the figure of every row the file holds; returns the records of the chosen rows and seeds.

    ``jobs`` > 1 trains that many variants at once in worker processes of ``threads`` torch threads each (on a
    CPU, one thread per process wastes least: several threads spin while they wait for each other).
    """
    from tqdm.auto import tqdm

    if profile not in recipes.PROFILES:
        raise AblationError(f"unknown profile {profile!r}; choose from {', '.join(recipes.PROFILES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    results_path = out / "results.jsonl"
    # variant by variant, every seed of one before the next: a sweep cut short leaves whole variants behind
    wanted = [(v, s) for v in variants_of(rows) for s in seeds]
    previous = [r for r in read_results(results_path) if r["profile"] == profile]
    _check_definitions(previous, results_path)
    done = {(r["variant"], r["seed"]) for r in previous}
    todo = [job for job in wanted if job not in done]
    with _executor(jobs, threads) as pool:  # leaving the block stops the workers, also on an interruption
        # the data first, one set per worker: two trainings must not write one set at the same time
        list(pool.imap(_generate, [(profile, seed) for seed in sorted({s for _, s in todo})]))
        runs = pool.imap(_run_job, [(v, profile, s, False, device) for v, s in todo])
        for record in tqdm(runs, total=len(todo), desc=f"ablations ({len(done & set(wanted))} done)",
                           disable=not progress):
            with results_path.open("a") as f:  # one line per finished run: a crash loses at most the runs in flight
                f.write(json.dumps(record) + "\n")
    held = [r for r in read_results(results_path) if r["profile"] == profile]
    # the reports cover every row the file holds: a sweep of some rows must not drop the others from them
    swept = {r["variant"] for r in held}
    write_reports(held, out, [row for row, entries in ROWS.items() if swept & {v for v, _, _ in entries}])
    wanted = set(wanted)
    return [r for r in held if (r["variant"], r["seed"]) in wanted]


def _check_definitions(records, path):
    """A record of a variant whose definition has changed since would pass for the new one: refuse it, naming it."""
    for r in records:
        variant = VARIANTS.get(r["variant"])
        if variant is None:
            continue  # a variant no row needs any more: kept, never read
        now = {"model": variant.model, "overrides": dict(variant.overrides), "data": dict(variant.data),
               "members": variant.members}
        then = {key: r.get(key) for key in now}
        if json.loads(json.dumps(then)) != json.loads(json.dumps(now)):
            raise AblationError(f"{path}: variant {r['variant']!r} seed {r['seed']} was run as {then}, and the "
                                f"variant is now {now}; remove its lines to rerun it")


def write_reports(records, out_dir, rows=tuple(ROWS)):
    """``summary.md`` and ``accuracy_vs_gmacs.png`` of these records in ``out_dir`` (also for a sweep cut short)."""
    with utils.atomic_write(Path(out_dir) / "summary.md") as partial:
        partial.write_text(summary_markdown(records, rows))
    figure(records, Path(out_dir) / "accuracy_vs_gmacs.png")


class _InProcess:
    """The executor of ``jobs=1``: runs in this process (torch's thread setting applies as it is)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def imap(self, fn, iterable):
        return map(fn, iterable)


def _executor(jobs, threads):
    if jobs <= 1:
        return _InProcess()
    import multiprocessing

    # spawn: fresh interpreters, no forked torch thread pools; a Pool's exit terminates its workers
    return multiprocessing.get_context("spawn").Pool(jobs, initializer=_set_threads, initargs=(threads,))


def _run_job(args):
    return run_variant(*args)


def _generate(args):
    dataset(*args).generate(progress=False)


def _set_threads(threads):
    import torch

    if threads:
        torch.set_num_threads(threads)


def aggregate(records) -> dict:
    """{variant: {"top1": (mean, spread), "<group>": (mean, spread), "gmacs", "params", "seeds"}}; the spread
    is the sample standard deviation over seeds (0 for one seed)."""
    by_variant = {}
    for r in records:
        by_variant.setdefault(r["variant"], []).append(r)
    out = {}
    for variant, rs in by_variant.items():
        stats = {"top1": _mean_spread([r["top1"] for r in rs]), "seeds": sorted(r["seed"] for r in rs),
                 "gmacs": rs[0]["gmacs"], "params": rs[0]["params"], "label": rs[0]["label"]}
        for group in rs[0]["groups"]:
            stats[group] = _mean_spread([r["groups"][group] for r in rs])
        out[variant] = stats
    return out


def spread_band(records, variant, group=None) -> tuple:
    """(low, high) top-1 (or accuracy on one class ``group``) that a re-run of ``variant`` lands in on any machine:
    the committed seeds' mean +- ``stats.Z_MIN`` times the larger of their sample s.d. and the binomial standard
    error of its test videos (a few seeds underestimate the s.d.; a new run varies at least by the test set's
    sampling, also where every seed scored 100%)."""
    from slowfast_lite.course.stats import Z_MIN
    from slowfast_lite.data.motion_shapes import GROUPS as CLASSES_OF

    runs = [r for r in records if r["variant"] == variant]
    if not runs:
        raise AblationError(f"no committed runs of {variant!r}")
    if group is not None and group not in GROUPS:
        raise AblationError(f"unknown class group {group!r}; choose from {', '.join(GROUPS)}")
    values = [r["groups"][group] if group else r["top1"] for r in runs]
    videos = runs[0]["test_videos"]  # every class has as many test videos
    if group:
        videos = videos * len(CLASSES_OF[group]) // sum(len(CLASSES_OF[g]) for g in GROUPS)
    mean, spread = _mean_spread(values)
    # the test set's standard error, Agresti-Coull style (two successes and two failures added): seeds that all
    # scored 100% still leave a new run room to miss a clip, where the plain p(1 - p) / n would say none
    p = (mean * videos + 2) / (videos + 4)
    width = Z_MIN * max(spread, math.sqrt(p * (1 - p) / (videos + 4)))
    return mean - width, mean + width


def _mean_spread(values):
    from slowfast_lite.course.stats import mean_and_spread

    return mean_and_spread(values)


def summary_markdown(records, rows=tuple(ROWS)) -> str:
    """The tables: per row, the paper's top-1 and GFLOPs, ours (mean +- sample s.d. over seeds, in %) overall and
    per group."""
    stats = aggregate(records)
    groups = list(next(iter(records))["groups"]) if records else list(GROUPS)
    lines = ["Ours: mean +- sample standard deviation over the seeds, top-1 in %.", ""]
    for row in rows:
        lines += [f"### Table {row}: {ROW_TITLES[row]}", ""]
        if row in PAPER_NOTES:
            lines += [f"({PAPER_NOTES[row]})", ""]
        lines.append("| variant | paper top-1 | paper GFLOPs | ours top-1 | " + " | ".join(groups) +
                     " | MMACs | params | seeds |")
        lines.append("|---" * (7 + len(groups)) + "|")
        for variant, paper_top1, paper_gflops in ROWS[row]:
            s = stats.get(variant)
            paper = f"| {VARIANTS[variant].label} | {_num(paper_top1)} | {_num(paper_gflops)} |"
            if s is None:
                lines.append(paper + " not run |" + " |" * (len(groups) + 3))
                continue
            n = len(s["seeds"])
            cells = [_pct(s["top1"], n)] + [_pct(s[g], n) for g in groups]
            lines.append(paper + " " + " | ".join(cells) + f" | {1000 * s['gmacs']:.1f} | {s['params']:,} | "
                         f"{len(s['seeds'])} |")
        lines.append("")
    return "\n".join(lines)


def _num(value):
    return "" if value is None else f"{value:.1f}"


def _pct(mean_spread, seeds):
    mean, spread = mean_spread
    return f"{100 * mean:.1f} +- {100 * spread:.1f}" if seeds > 1 else f"{100 * mean:.1f} (one run)"


def figure(records, path=None):
    """The sweep's accuracy against cost (``viz.accuracy_against_cost``): one point per variant, mean top-1 +- its
    sample s.d. over seeds, coloured by the first sub-table the variant appears in; saved to ``path`` if given."""
    first_row = {}
    for row, entries in ROWS.items():
        for variant, _, _ in entries:
            first_row.setdefault(variant, row)
    points = [(1000 * s["gmacs"], 100 * s["top1"][0], 100 * s["top1"][1], VARIANTS[v].label, first_row[v])
              for v, s in aggregate(records).items()]
    from slowfast_lite import viz

    fig = viz.accuracy_against_cost(points, {r: f"{r}: {title}" for r, title in ROW_TITLES.items()},
                                    title="MotionShapes ablations: accuracy against cost (mean +- s.d. over seeds)",
                                    legend_title="colour: the first sub-table a variant appears in")
    if path:
        with utils.atomic_write(path) as partial:
            fig.savefig(partial, bbox_inches="tight")
    return fig


def provenance(command, wall_time_s, threads, jobs=1) -> dict:
    """What produced a sweep (``utils.provenance``), with the threads and jobs of the call."""
    from slowfast_lite import utils

    return utils.provenance(command, wall_time_s, threads=threads, jobs=jobs)


def read_provenance(out_dir) -> dict:
    """What produced a sweep folder: the last ``ablate`` call's facts, with ``wall_time_s`` summed over every call
    that added runs and ``calls`` their number ({} when there is no provenance.json)."""
    calls = _read_invocations(Path(out_dir) / "provenance.json")
    if not calls:
        return {}
    return {**calls[-1], "wall_time_s": round(sum(c["wall_time_s"] for c in calls), 1), "calls": len(calls)}


def cli(argv) -> int:
    """``python -m slowfast_lite ablate --rows 2b,2c --seeds 0,1,2 --profile quick --out DIR``"""
    import shlex
    import signal
    import sys

    import torch

    parser = usage.ArgumentParser(prog="python -m slowfast_lite ablate",
                                  description="The paper's Table 2 ablations in miniature on MotionShapes.")
    parser.add_argument("--rows", default=",".join(ROWS), help="comma-separated rows (default: %(default)s)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated seeds (default: %(default)s)")
    parser.add_argument("--profile", choices=list(recipes.PROFILES), default="quick")
    parser.add_argument("--out", type=Path, required=True, help="results folder (results.jsonl is resumed)")
    parser.add_argument("--threads", type=usage.integer(1, 1024), default=None,
                        help="torch CPU threads per process (default: torch's)")
    parser.add_argument("--jobs", type=usage.integer(1, 64), default=1,
                        help="variants trained at once, one process each (default 1)")
    args = parser.parse_args(argv)
    rows = parse_rows(args.rows)
    seeds = parse_seeds(args.seeds)
    usage.check_output_dir(args.out, "--out")
    read_results(args.out / "results.jsonl")  # a damaged record file fails now, not after the sweep
    calls = _read_invocations(args.out / "provenance.json")
    if args.threads:
        torch.set_num_threads(args.threads)
    started, finished = time.perf_counter(), False
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a killed sweep still says what it did
    try:
        records = run(rows, seeds, args.profile, args.out, jobs=args.jobs, threads=args.threads)
        finished = True
    finally:
        signal.signal(signal.SIGTERM, previous)
        command = "python -m slowfast_lite ablate " + " ".join(shlex.quote(a) for a in argv)
        facts = provenance(command, time.perf_counter() - started, torch.get_num_threads(), args.jobs)
        path = args.out / "provenance.json"
        # a resumed sweep: every call that added runs, an interrupted one too
        with utils.atomic_write(path) as partial:
            partial.write_text(json.dumps({"invocations": calls + [{**facts, "finished": finished}]}, indent=1) + "\n")
    print(summary_markdown(records, rows))
    print(f"{len(records)} runs in {args.out}; this call took {facts['wall_time_s']:.0f} s", file=sys.stderr)
    return 0
