"""``python -m slowfast_lite <command> ...``: one entry point, each command lives in its own module."""

import importlib
import sys

# command -> (module, one-line help). Each module exposes ``cli(argv) -> int``.
COMMANDS = {
    "make-data": ("slowfast_lite.data.synthetic", "write a synthetic data set (motion | ava | wheel)"),
    "train": ("slowfast_lite.train", "train a model on a video classification data set"),
    "evaluate": ("slowfast_lite.evaluate", "multi-view test of a trained model"),
    "ava-eval": ("slowfast_lite.ava_eval", "frame-mAP@0.5 of AVA detections (official rules)"),
    "demo": ("slowfast_lite.demo", "sliding-window predictions over a video, annotated mp4"),
    "course": ("slowfast_lite.course", "run the notebooks in order with papermill and report"),
    "claims": ("slowfast_lite.claims", "rerun the training notebooks over seeds: each claim's margin per seed"),
    "site": ("slowfast_lite.site", "build the course as a static website from the executed notebooks"),
}


def usage() -> str:
    lines = ["usage: python -m slowfast_lite <command> [options]", "", "commands:"]
    lines += [f"  {name:<10} {help_}" for name, (_, help_) in COMMANDS.items()]
    return "\n".join(lines)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0
    if argv[0] not in COMMANDS:
        print(f"unknown command {argv[0]!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.cli(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
