"""slowfast_lite: SlowFast video networks, small and exact.

Submodules are imported on first use (``slowfast_lite.models``, ``slowfast_lite.video`` ...), so
``import slowfast_lite`` stays cheap and a notebook pays only for what it touches.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "ava_eval", "checkpoints", "course", "data", "demo", "detection", "evaluate", "exercises", "flops", "gradcam",
    "models", "sampling", "train", "transforms", "usage", "utils", "video", "viz", "widgets", "zoo",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
