"""The house's one-way flow (DESIGN.md, docs/architecture.md), checked on the source: no import
cycle between the package's modules, not even through imports inside functions; no module
imports another's private names; and `import geosource` stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx

import geosource

SRC = Path(geosource.__file__).parent
MODULES = sorted(p for p in SRC.glob("*.py"))
#: The command line sits on top of everything and may defer its imports to keep `--help` fast.
TOP = {"cli"}
HEAVY = ("folium", "branca", "rasterio", "dask", "distributed", "matplotlib", "skimage", "pandera")


def _relative_imports(path: Path) -> list[tuple[ast.ImportFrom, bool]]:
    """Each relative import of the module, and whether it sits inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inner = {
        id(node)
        for fn in ast.walk(tree)
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef)
        for node in ast.walk(fn)
    }
    return [
        (node, id(node) in inner)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.level == 1
    ]


def _target(node: ast.ImportFrom, name: str) -> str:
    """The module an import reads: ``from .x import y`` reads x; ``from . import x`` reads x."""
    return node.module or name


def test_the_module_graph_has_no_cycle():
    graph = nx.DiGraph()
    for path in MODULES:
        for node, _ in _relative_imports(path):
            for alias in node.names:
                target = _target(node, alias.name)
                if (SRC / f"{target}.py").exists() and target != "__init__":
                    graph.add_edge(path.stem, target)
    graph.remove_nodes_from(["__init__"])
    cycles = list(nx.simple_cycles(graph))
    assert cycles == [], f"import cycles: {cycles}"
    assert graph.number_of_edges() > 50, "the check saw the package's imports"


def test_no_module_defers_an_import_of_another():
    deferred = [
        f"{path.stem}: from .{node.module} import ..."
        for path in MODULES
        if path.stem not in TOP
        for node, inside in _relative_imports(path)
        if inside
    ]
    assert deferred == [], "import at the top of the module, or the flow is upside down"


def test_no_module_imports_another_modules_private_names():
    private = [
        f"{path.stem}: from .{node.module} import {alias.name}"
        for path in MODULES
        for node, _ in _relative_imports(path)
        for alias in node.names
        if alias.name.startswith("_") and not alias.name.startswith("__")
    ]
    assert private == []


def test_importing_the_package_loads_no_heavy_module():
    code = f"import sys, geosource; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"`import geosource` imported {out}"


def test_the_version_is_the_one_pyproject_declares():
    import tomllib

    pyproject = SRC.parents[1] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["version"]
    assert geosource.__version__ == declared
