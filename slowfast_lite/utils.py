"""Small shared helpers: seeding, the device choice, where generated data lives, atomic writes, provenance.

torch is imported inside the two helpers that need it, so the modules that only write files (``video``,
the data generators) stay free of it.
"""

import json
import os
import platform
import random
import socket
import subprocess
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from slowfast_lite.errors import FolderInUse, UsageError


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
    given = os.environ.get("SLOWFAST_LITE_DATA")
    if given:
        root = Path(given)
    else:
        checkout = Path(__file__).resolve().parents[1]
        if (checkout / "pyproject.toml").exists() and (checkout / "data").is_dir():
            root = checkout / "data" / "generated"
        else:
            root = Path.home() / ".cache" / "slowfast_lite"
    where = f"SLOWFAST_LITE_DATA={root}" if given else f"the data folder {root}"
    if root.exists() and not root.is_dir():
        raise UsageError(f"{where} is a file, not a folder; point SLOWFAST_LITE_DATA at a folder (created if missing)")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UsageError(f"{where} cannot be created ({error.strerror or error}); point SLOWFAST_LITE_DATA at a "
                         "writable folder") from None
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



@contextmanager
def folder_lock(folder, owner="run"):
    """Hold ``folder/.lock`` while the block runs, so two processes never write one folder at once.

    The lock file is created with ``O_CREAT | O_EXCL`` (one atomic step: of two processes exactly one gets it),
    holds the owner's pid, host and start time, and is removed when the block ends, error or not. A lock left by
    a process of this host that no longer runs (killed) is taken over; any other raises ``FolderInUse``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = folder / ".lock"
    record = {"pid": os.getpid(), "host": socket.gethostname(), "owner": owner,
              "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    for attempt in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            holder = _lock_holder(lock)
            if attempt == 0 and holder.get("host") == record["host"] and not _running(holder.get("pid")):
                # (a lock still being written has no host yet: held)
                lock.unlink(missing_ok=True)  # left by a killed process of this machine
                continue
            raise FolderInUse(
                f"{folder} is in use by another {holder.get('owner', 'process')} (pid {holder.get('pid', '?')} on "
                f"{holder.get('host', '?')}, since {holder.get('started', '?')}); wait for it to end or use another "
                f"folder (if nothing runs there, remove {lock})") from None
    with os.fdopen(fd, "w") as f:
        json.dump(record, f)
    try:
        yield lock
    finally:
        if _lock_holder(lock).get("pid") == record["pid"]:
            lock.unlink(missing_ok=True)


def wait_for_folder(folder, poll=0.5):
    """Return once no running process holds ``folder``'s lock (``folder_lock``): to use what another one is
    writing there, once it is done. A lock left by a killed process of this machine does not hold it."""
    lock = Path(folder) / ".lock"
    while lock.exists():
        holder = _lock_holder(lock)
        if holder.get("host") == socket.gethostname() and not _running(holder.get("pid")):
            return
        time.sleep(poll)


def _lock_holder(lock):
    try:
        holder = json.loads(Path(lock).read_text())
        return holder if isinstance(holder, dict) else {}
    except (OSError, ValueError):
        return {}


def _running(pid):
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# The variables that make this CPU compute like another one (claims.SIMULATED_CPU); provenance records them
CPU_VARIABLES = ("OMP_NUM_THREADS", "ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "MKL_CBWR")


def provenance(command: str, wall_time_s: float, **extra) -> dict:
    """What produced a result, one format for every results file: the command, the git commit (and whether a
    tracked file differed from it), UTC time, versions of python, torch, numpy and av, the CPU, its capability
    and thread count (as the variables in ``CPU_VARIABLES`` make them in a new process), those variables, the
    wall time, and ``extra`` facts."""
    import av
    import torch

    def git(*args):
        try:
            return subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                                  cwd=Path(__file__).parent).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return None

    variables = {name: os.environ.get(name) for name in CPU_VARIABLES}
    threads = int(variables["OMP_NUM_THREADS"]) if (variables["OMP_NUM_THREADS"] or "").isdigit() \
        else torch.get_num_threads()
    capability = variables["ATEN_CPU_CAPABILITY"] or torch.backends.cpu.get_cpu_capability()
    return {"command": command, "git_commit": git("rev-parse", "HEAD"),
            "git_dirty": bool(git("status", "--short", "--untracked-files=no")),
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "python": platform.python_version(),
            "torch": torch.__version__, "numpy": np.__version__, "av": av.__version__, "cpu": cpu_model(),
            "cpu_capability": capability, "threads": threads, "cpu_variables": variables,
            "wall_time_s": round(wall_time_s, 1), **extra}


def cpu_model() -> str:
    """The processor's name (Linux: /proc/cpuinfo), else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()
