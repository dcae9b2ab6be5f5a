"""``python -m slowfast_lite course [--profile quick|full] [--out DIR] [--only 03,04] [--resume] [--set NB:KEY=VALUE]``
runs the notebooks in order and prints the report; ``course refresh NOTEBOOK...`` re-executes notebooks in place."""

import importlib.util
import sys
from pathlib import Path

from slowfast_lite import usage
from slowfast_lite.course.notebooks import NOTEBOOKS_DIR, discover, refresh, select
from slowfast_lite.course.parameters import PROFILES, parse_override, resolve_parameters
from slowfast_lite.course.runner import run
from slowfast_lite.errors import UsageError

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
            raise UsageError("refresh needs notebooks: python -m slowfast_lite course refresh NOTEBOOK...")
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
        raise UsageError(f"--notebooks {args.notebooks}: no such folder")
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
