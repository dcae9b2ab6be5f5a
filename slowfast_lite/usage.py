"""The command-line contract every command shares: a user mistake is one line and exit status 2.

A command raises ``errors.UsageError`` (or one of its subclasses: ``VideoDecodeError``, ``CheckpointError``,
``DatasetError`` ...) for anything the user can fix: an option out of range, a missing or malformed file, an
output path that cannot be written. ``__main__`` prints it as ``command: message`` and exits with 2; a
command that ran but failed returns 1; a traceback means a bug. The checks here run before any work, so a
bad option fails in a second, not after the whole video. Only the standard library at import (torch only
inside the device and model checks), so every module can use it.
"""

import argparse
import math
import os
from pathlib import Path

from slowfast_lite.errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a bad command line raises UsageError (one line, exit 2) instead of printing usage."""

    def error(self, message):
        raise UsageError(f"{message} (see --help)")


def integer(minimum=None, maximum=None):
    """An argparse ``type``: an int in [minimum, maximum] (either bound optional)."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
        _check_range(value, minimum, maximum)
        return value
    return parse


def number(minimum=None, maximum=None, above=None):
    """An argparse ``type``: a finite float in [minimum, maximum], or > ``above``."""
    def parse(text):
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if above is not None and value <= above:
            raise argparse.ArgumentTypeError(f"must be > {above:g}, got {text}")
        _check_range(value, minimum, maximum)
        return value
    return parse


def _check_range(value, minimum, maximum):
    if minimum is not None and value < minimum:
        raise argparse.ArgumentTypeError(f"must be >= {minimum}, got {value:g}")
    if maximum is not None and value > maximum:
        raise argparse.ArgumentTypeError(f"must be <= {maximum}, got {value:g}")


def same_file(a: Path, b: Path) -> bool:
    """Whether two paths name one file (the same path, a link to it, or a hard link)."""
    try:
        return a.resolve() == b.resolve() or (a.exists() and b.exists() and os.path.samefile(a, b))
    except OSError:
        return False


def _not_an_input(path, option, inputs):
    for source in inputs:
        if source is not None and same_file(path, Path(source)):
            raise UsageError(f"{option} {path} is one of the command's inputs; refusing to write over it")


def _writable_folder(folder, option, path):
    if not folder.is_dir():
        raise UsageError(f"{option} {path}: {folder} is not a folder" if folder.exists() else
                         f"{option} {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {path}: folder {folder} is not writable")


def check_output_file(path, option, inputs=(), suffixes=None):
    """Refuse, before any work, an output file that cannot be written or would overwrite an input.

    path: the file to write; option: its name in messages (``--out``); inputs: the command's input files;
    suffixes: the extensions the writer knows (lower case, with the dot), or None for any. The folder must
    exist and be writable, and ``path`` must not be a folder. Returns ``Path(path)``.
    """
    path = Path(path)
    _not_an_input(path, option, inputs)
    if path.is_dir():
        raise UsageError(f"{option} {path} is a folder; give a file name")
    if suffixes is not None and path.suffix.lower() not in suffixes:
        raise UsageError(f"{option} {path}: unknown extension {path.suffix or '(none)'!r}; "
                         f"use one of {', '.join(sorted(suffixes))}")
    _writable_folder(path.parent, option, path)
    return path


def check_output_dir(path, option, inputs=()):
    """Refuse, before any work, an output folder that is a file, cannot be created, or is an input.

    The folder itself may not exist yet: its nearest existing parent must be a writable folder.
    Returns ``Path(path)``.
    """
    path = Path(path)
    _not_an_input(path, option, inputs)
    if path.exists() and not path.is_dir():
        raise UsageError(f"{option} {path} is a file, not a folder")
    existing = path
    while not existing.exists():
        existing = existing.parent
    _writable_folder(existing, option, path)
    return path


def check_input_file(path, option):
    """An input file that must exist and be a file; returns ``Path(path)``."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{option} {path}: no such file")
    if not path.is_file():
        raise UsageError(f"{option} {path} is not a file")
    return path


def check_device(name, option="--device"):
    """A device string (auto, cpu, cuda[:N], mps) that this torch can use; returns it unchanged."""
    import torch

    if name == "auto":
        return name
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"{option} {name!r}: not a device; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UsageError(f"{option} {name}: this torch has no usable CUDA device "
                             f"(built {'without CUDA' if torch.version.cuda is None else 'with CUDA, none found'})")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"{option} {name}: only {torch.cuda.device_count()} CUDA device(s)")
    elif device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UsageError(f"{option} {name}: MPS is not available here")
    elif device.type not in ("cpu", "cuda", "mps"):
        raise UsageError(f"{option} {name!r}: use auto, cpu, cuda, cuda:N or mps")
    return name


def check_model_name(name, option="--model"):
    """A named model config (``models.CONFIGS``); returns it unchanged."""
    from slowfast_lite.models import CONFIGS

    if name not in CONFIGS:
        raise UsageError(f"{option} {name!r}: unknown model; choose from {', '.join(sorted(CONFIGS))}")
    return name


def read_text(path):
    """The UTF-8 text of a file the user gave (a leading byte-order mark, as some editors save, is dropped); a
    missing or non-UTF-8 file is a UsageError naming it (and the line of the first bad byte)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"{path}: no such file" if not path.exists() else f"{path} is not a file")
    data = path.read_bytes()
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise UsageError(f"{path}:{line}: not UTF-8 text (byte 0x{data[err.start]:02x}); save the file as UTF-8") \
            from None
