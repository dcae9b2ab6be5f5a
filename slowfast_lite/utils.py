"""Small shared helpers: seeding, the device choice, where generated data lives."""

import os
import random
from pathlib import Path

import numpy as np
import torch


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch (CPU and CUDA) so a notebook reruns identically."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def pick_device(preference: str = "auto") -> torch.device:
    """``"auto"`` gives cuda if present, else mps, else cpu; any other string is taken as is."""
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
