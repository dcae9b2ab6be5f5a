"""Data sets: synthetic generators written as real video files, and loaders for the reference formats."""

import importlib

# public name -> module that defines it (imported on first use)
_EXPORTS = {
    "MotionShapes": "motion_shapes",
    "VideoClassificationDataset": "kinetics",
    "AVADataset": "ava",
    "read_ava_csv": "ava_files",
    "write_ava_csv": "ava_files",
    "read_label_map": "ava_files",
}


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_EXPORTS))
