"""What a notebook records for the run report: its key numbers (``record``) and its peak memory (the kernel probe).

Notebooks call ``course.record(key, value)``; outside a course run it only returns the value.
"""

import json
import os
import sys
from pathlib import Path

from slowfast_lite import utils

RECORD_ENV = "SLOWFAST_LITE_RECORD"  # json file that record() writes to, set by the runner per notebook

STATS_ENV = "SLOWFAST_LITE_STATS"  # json file the kernel probe writes peak memory to


def record(key: str, value):
    """Record a notebook's key number for the run report; returns ``value`` unchanged.

    The runner sets ``$SLOWFAST_LITE_RECORD`` to a json sidecar file; outside a run this only returns.
    NumPy and torch scalars and arrays are stored as plain numbers and lists.
    """
    path = os.environ.get(RECORD_ENV)
    if path:
        path = Path(path)
        data = json.loads(path.read_text()) if path.exists() else {}
        plain = value.tolist() if hasattr(value, "tolist") else value
        try:
            data[key] = json.loads(json.dumps(plain))
        except TypeError as err:
            raise TypeError(f"course.record({key!r}, ...): value of type {type(value).__name__} is not a "
                            "number, string, list or dict") from err
        with utils.atomic_write(path) as partial:
            partial.write_text(json.dumps(data, indent=1, sort_keys=True))
    return value


def install_kernel_probe() -> None:
    """Inside a kernel the runner started: after every cell, write peak host and GPU memory to $SLOWFAST_LITE_STATS.

    Peak host memory is the kernel process's peak resident set; peak GPU memory is torch's peak allocation on
    the current CUDA device, read only when the notebook has already initialised CUDA.
    """
    path = os.environ.get(STATS_ENV)
    shell = _ipython()
    if not path or shell is None:
        return

    def write_stats(*_):
        stats = {"peak_host_mb": _peak_rss_mb(), "peak_gpu_mb": None}
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
            stats["peak_gpu_mb"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
        Path(path).write_text(json.dumps(stats))

    shell.events.register("post_run_cell", write_stats)


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _peak_rss_mb():
    """Peak resident memory of this process in MB.

    Linux: VmHWM, which starts afresh at exec (ru_maxrss would carry over the runner's own peak from the fork).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)  # kB
    try:
        import resource
    except ImportError:  # Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 1)  # bytes on macOS
