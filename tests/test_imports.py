"""The package's modules import each other without a cycle: each one builds only on the ones below it.

Read statically from the source, imports inside functions included (a lazy import that closes a cycle still
ties the two modules together, and turns into an ImportError the day someone moves it to the top).
"""

import ast
from pathlib import Path

import slowfast_lite

PACKAGE = Path(slowfast_lite.__file__).parent


def import_graph(package_dir: Path, name: str) -> dict:
    """{module: set of the package's modules it imports}, for every .py file below ``package_dir``."""
    files = {}
    for path in package_dir.rglob("*.py"):
        parts = (name, *path.relative_to(package_dir).with_suffix("").parts)
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    graph = {}
    for module, path in files.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        targets = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:  # relative: from .x import y, from . import y
                    anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                # "from pkg import sub" imports the module pkg.sub; "from pkg.mod import name" imports pkg.mod
                targets |= {f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names}
        graph[module] = {t for t in targets if t in files and t != module}
    return graph


def find_cycle(graph: dict) -> list:
    """One import cycle [a, b, ..., a], or [] when there is none (depth-first search)."""
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        stack.pop()
        return []

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return []


def test_the_package_has_no_import_cycle():
    graph = import_graph(PACKAGE, "slowfast_lite")
    assert len(graph) > 30 and "slowfast_lite.train" in graph["slowfast_lite.course.recipes"]  # the graph was read
    assert find_cycle(graph) == [], "import cycle"


def test_a_lazy_import_that_closes_a_cycle_is_found(tmp_path):
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "engine.py").write_text("from pkg import metrics\n")
    (tmp_path / "metrics.py").write_text("def cli():\n    from .engine import fit\n")
    (tmp_path / "tools.py").write_text("import pkg.metrics\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.tools"] == {"pkg.metrics"}
    assert find_cycle(graph) == ["pkg.engine", "pkg.metrics", "pkg.engine"]


def test_the_library_never_imports_the_course():
    """Two layers: what a researcher imports (video, models, data, train, ...) stands without the course on top."""
    graph = import_graph(PACKAGE, "slowfast_lite")
    course = {m for m in graph if m == "slowfast_lite.course" or m.startswith("slowfast_lite.course.")}
    library = set(graph) - course
    assert {"slowfast_lite.course.claims", "slowfast_lite.course.runner"} <= course and "slowfast_lite.train" in library
    upward = sorted(f"{m} -> {t}" for m in library for t in graph[m] & course)
    assert upward == [], "the library imports the course"


def test_a_library_module_importing_the_course_is_found(tmp_path):
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "course").mkdir()
    (tmp_path / "course" / "__init__.py").write_text("")
    (tmp_path / "course" / "recipes.py").write_text("from pkg import train\n")
    (tmp_path / "train.py").write_text("def fit():\n    from pkg.course import recipes\n")
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.train"] == {"pkg.course.recipes"} and graph["pkg.course.recipes"] == {"pkg.train"}
