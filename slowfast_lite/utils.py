"""Small shared helpers: seeding, the device choice, where generated data lives, atomic writes.

torch is imported inside the two helpers that need it, so the modules that only write files (``video``,
the data generators) stay free of it.
"""

import os
import random
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so a notebook reruns identically."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(preference: str = "auto"):
    """A ``torch.device``: ``"auto"`` gives cuda if present, else mps, else cpu; any other string is taken as is."""
    import torch

    if preference != "auto":
        return torch.device(preference)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def data_root() -> Path:
    """Folder for generated data and cached results.

    ``$SLOWFAST_LITE_DATA`` if set; else ``data/generated`` of the source checkout the package runs
    from; else ``~/.cache/slowfast_lite``.
    """
    if os.environ.get("SLOWFAST_LITE_DATA"):
        root = Path(os.environ["SLOWFAST_LITE_DATA"])
    else:
        checkout = Path(__file__).resolve().parents[1]
        if (checkout / "pyproject.toml").exists() and (checkout / "data").is_dir():
            root = checkout / "data" / "generated"
        else:
            root = Path.home() / ".cache" / "slowfast_lite"
    root.mkdir(parents=True, exist_ok=True)
    return root


@contextmanager
def atomic_write(path, fsync=False):
    """Write ``path`` all or nothing: ``with atomic_write(path) as partial: <write the file partial>``.

    ``partial`` is a new file name beside ``path`` with the same suffix (writers that pick a format by suffix,
    such as PyAV, still work); when the block ends without error it is renamed over ``path`` (one atomic step),
    otherwise removed, so a crash or a concurrent reader never sees half a file. Folders are created.
    ``fsync``: flush the file to disk before the rename (checkpoints: survive a power cut, not only a crash).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}{path.suffix}")
    try:
        yield partial
        if fsync:
            with open(partial, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
