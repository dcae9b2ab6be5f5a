"""Running the course: the key-number recorder notebooks call, and re-executing notebooks in place."""

import json
import os
import sys
from pathlib import Path

RECORD_ENV = "SLOWFAST_LITE_RECORD"


def record(key: str, value):
    """Record a notebook's key number for the run report; returns ``value`` unchanged.

    The runner sets ``$SLOWFAST_LITE_RECORD`` to a json sidecar file; outside a run this only returns.
    """
    path = os.environ.get(RECORD_ENV)
    if path:
        path = Path(path)
        data = json.loads(path.read_text()) if path.exists() else {}
        data[key] = value
        path.write_text(json.dumps(data, indent=1, sort_keys=True))
    return value


def clean_notebook(nb) -> None:
    """Drop execution noise from a notebook in place: keep only cell tags and the kernel spec."""
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags")
        cell["metadata"] = {"tags": tags} if tags else {}
        if cell.get("cell_type") == "code":
            for output in cell.get("outputs", []):
                output.get("metadata", {}).pop("papermill", None)
    keep = {k: nb.metadata[k] for k in ("kernelspec", "language_info") if k in nb.metadata}
    keep.get("language_info", {}).pop("version", None)
    nb.metadata = keep


def refresh(path, timeout: int = 900) -> None:
    """Execute a notebook from a fresh kernel in its own folder and save it with its outputs, cleaned."""
    import nbformat
    from nbclient import NotebookClient

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=False,
                            resources={"metadata": {"path": str(path.parent.resolve())}})
    client.execute()
    clean_notebook(nb)
    nbformat.write(nb, path)


def cli(argv) -> int:
    if argv and argv[0] == "refresh":
        for p in argv[1:]:
            print(f"executing {p}", file=sys.stderr)
            refresh(p)
        return 0
    print("usage: python -m slowfast_lite course refresh NOTEBOOK...", file=sys.stderr)
    return 2
