"""``python -m slowfast_lite <command> ...``: one entry point, each command lives in its own module.

Exit status: 0 success; 2 a user error (bad option, missing or malformed input, an output that cannot be
written), printed as one line ``command: message``; 1 a command that ran but failed. A traceback is a bug.
"""

import errno
import importlib
import sys

from slowfast_lite.errors import UsageError

# command -> (module, one-line help). Each module exposes ``cli(argv) -> int``.
COMMANDS = {
    "make-data": ("slowfast_lite.data.synthetic", "write a synthetic data set (motion | ava | wheel)"),
    "train": ("slowfast_lite.train", "train a model on a video classification data set"),
    "evaluate": ("slowfast_lite.evaluate", "multi-view test of a trained model"),
    "ava-eval": ("slowfast_lite.ava_eval", "frame-mAP@0.5 of AVA detections (official rules)"),
    "demo": ("slowfast_lite.demo", "sliding-window predictions over a video, annotated mp4"),
    "zoo": ("slowfast_lite.zoo", "the paper's Kinetics-400 weights: list them, fetch one into the torch hub cache"),
    "ablate": ("slowfast_lite.course.ablate", "the paper's Table 2 ablations in miniature: rows x seeds, resumable"),
    "course": ("slowfast_lite.course.cli", "run the notebooks in order with papermill and report"),
    "claims": ("slowfast_lite.course.claims", "rerun the training notebooks over seeds: each claim's margin per seed"),
    "site": ("slowfast_lite.course.site", "build the course as a static website from the executed notebooks"),
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
        return _fail("slowfast_lite", f"unknown command {argv[0]!r}; commands: {', '.join(COMMANDS)} (see --help)", 2)
    command = argv[0]
    try:  # the import too: Ctrl-C while torch loads is an interruption, not a traceback
        module = importlib.import_module(COMMANDS[command][0])
        return int(module.cli(argv[1:]) or 0)
    except UsageError as err:
        return _fail(command, err, 2)
    except OSError as err:
        # a path the user gave that is missing, a folder, unreadable: their mistake; a full disk is not
        return _fail(command, err, 2 if err.errno in _USER_ERRNOS else 1)
    except KeyboardInterrupt:
        return _fail(command, "interrupted", 130)


# missing file, permission denied, is / is not a folder, file exists
_USER_ERRNOS = {errno.ENOENT, errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.EEXIST}


def _fail(command, message, status):
    print(f"{command}: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
