"""slowfast_lite: SlowFast video networks, small and exact.

Two layers: the library (video, sampling, transforms, models, data, train, evaluate, checkpoints, zoo, flops,
demo, gradcam, viz ...) and, on top of it, the course (``slowfast_lite.course``: recipes, claims, ablate, the
runner, site, widgets, exercises), which the library never imports. Submodules are imported on first use
(``slowfast_lite.models``, ``slowfast_lite.course.claims`` ...), so ``import slowfast_lite`` stays cheap.
"""

import importlib

__version__ = "0.1.0"

_SUBMODULES = {
    "ava_eval", "checkpoints", "course", "data", "demo", "detection", "errors", "evaluate", "flops", "gradcam",
    "models", "sampling", "train", "transforms", "usage", "utils", "video", "viz", "zoo",
}


def __getattr__(name):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBMODULES))
