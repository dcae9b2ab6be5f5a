"""The course's notebooks: finding them in course order, reading their ``parameters`` cell, re-executing one in
place (what an author does before committing)."""

import ast
from pathlib import Path

from slowfast_lite.errors import UsageError

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"


class CourseError(UsageError):
    """A bad profile, notebook selection or parameter override (names the notebook and the key)."""


def discover(notebooks_dir=None) -> list[Path]:
    """The course notebooks ``NN_name.ipynb`` (and ``NNx_name.ipynb``, such as 06b after 06) of a folder, in
    course order."""
    folder = Path(notebooks_dir) if notebooks_dir else NOTEBOOKS_DIR
    found = sorted(p for p in folder.glob("[0-9][0-9]*_*.ipynb") if p.is_file())
    if not found:
        raise CourseError(f"no course notebooks (NN_name.ipynb) in {folder}")
    return found


def select(notebooks: list[Path], only=None) -> list[Path]:
    """Keep the notebooks named in ``only`` (numbers like ``"03"`` or full names), in course order."""
    if not only:
        return notebooks
    wanted = [w.strip() for w in (only.split(",") if isinstance(only, str) else only) if w.strip()]
    unknown = [w for w in wanted if not any(_names(p, w) for p in notebooks)]
    if unknown:
        raise CourseError(f"--only names no notebook: {', '.join(unknown)} "
                          f"(have {', '.join(p.stem for p in notebooks)})")
    return [p for p in notebooks if any(_names(p, w) for w in wanted)]


def _names(path: Path, wanted: str) -> bool:
    """Whether ``wanted`` names the notebook: its full name or its number ("3", "03", "06b")."""
    return path.stem == wanted or path.stem.split("_")[0] == wanted.zfill(2)


def notebook_parameters(path) -> dict:
    """The defaults of a notebook's `parameters` cell as Python values (name -> value), in order.

    Papermill reads the cell (``inspect_notebook``: each default's source text); a default that is an expression
    rather than a literal (``size = 2 * 56``) comes back as an ``Expression``.
    """
    import papermill

    found = papermill.inspect_notebook(str(path))
    if not found:
        raise CourseError(f"{Path(path).name}: no cell tagged 'parameters'")
    values = {}
    for name, parameter in found.items():
        try:
            values[name] = ast.literal_eval(parameter["default"])
        except (ValueError, SyntaxError):
            values[name] = Expression(parameter["default"])
    return values


class Expression(str):
    """A parameter default written as an expression: any override type is accepted for it."""


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
