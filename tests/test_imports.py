"""The layers of docs/architecture.md, read from the source with ``ast``.

A module imports only modules below it in :data:`ORDER`, at the top of the file or inside a
function alike. Nothing is imported to check this: the source files are parsed, so a back-edge
hidden in a function body is found too. ``tests/test_structure.py`` checks the rest of the
import rule (no cycle, no deferred imports, no private names across modules, a light
``import geosource``); this file pins the order a newcomer reads in the architecture page.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "src" / "geosource"

#: Every module of the package, bottom first: a module may import only modules before it.
#: ``__init__`` is the public API; only the command line sits above it.
ORDER: tuple[str, ...] = (
    # foundations: no geosource imports, or only each other
    "errors",
    "_version",
    "_records",
    "_files",
    "_geodesy",
    "_slug",
    "_pages",
    "_engine",
    "minerals",
    "countries",
    # layers: specs, parsers, validation, searoute's ports, the Layers object
    "_schemas",
    "_searoute",
    "_parse",
    "_validate",
    "layers",
    "freshness",
    "capacity",
    "raster",
    # the route graph and its engine
    "network",
    "routing",
    "_cache",
    # per-leg figures, exposure and the score
    "transport",
    "objectives",
    "exposure",
    "scoring",
    "_config",
    # chains and the analyses built on them
    "chains",
    "coverage",
    "sourcing",
    "scenarios",
    "world",
    "flows",
    "sweeps",
    "invest",
    "surfaces",
    # outputs
    "_summary",
    "maps",
    "report",
    "__init__",
    "cli",
)


def _imports(path: Path) -> list[tuple[str, list[str], int]]:
    """(module imported, names imported, line) for every in-package import of a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            names = [a.name for a in node.names]
            if node.module:
                found.append((node.module.split(".")[0], names, node.lineno))
            else:  # `from . import x`: a submodule, or a name of the package itself
                for name in names:
                    target = name if (path.parent / f"{name}.py").exists() else "__init__"
                    found.append((target, [name], node.lineno))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("geosource"):
            parts = (node.module or "").split(".")
            target = parts[1] if len(parts) > 1 else "__init__"
            found.append((target, [a.name for a in node.names], node.lineno))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "geosource" or alias.name.startswith("geosource."):
                    parts = alias.name.split(".")
                    found.append((parts[1] if len(parts) > 1 else "__init__", [], node.lineno))
    return found


def back_edges(package: Path, order: tuple[str, ...]) -> dict[tuple[str, str], list[str]]:
    """Imports of a module at or above the importer in ``order``, with their lines."""
    rank = {name: i for i, name in enumerate(order)}
    edges: dict[tuple[str, str], list[str]] = {}
    for path in sorted(package.glob("*.py")):
        if path.stem not in rank:
            continue  # reported by test_every_module_has_a_place_in_the_order
        for target, _names, line in _imports(path):
            if target != path.stem and rank.get(target, -1) > rank[path.stem]:
                edges.setdefault((path.stem, target), []).append(f"{path.name}:{line}")
    return edges


def test_every_module_has_a_place_in_the_order() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert sorted(modules - set(ORDER)) == [], "add new modules to ORDER (and the architecture)"
    assert sorted(set(ORDER) - modules) == []
    assert len(ORDER) == len(set(ORDER))


def test_no_module_imports_a_higher_one() -> None:
    edges = back_edges(PACKAGE, ORDER)
    assert not edges, "lower module imports a higher one: " + "; ".join(
        f"{a} -> {b} ({', '.join(lines)})" for (a, b), lines in sorted(edges.items())
    )


def test_the_check_finds_a_back_edge_inside_a_function(tmp_path: Path) -> None:
    # SYNTHETIC: a three-module package in which the bottom module reaches up, inside a function
    (tmp_path / "low.py").write_text("def f():\n    from .high import g\n    return g\n")
    (tmp_path / "mid.py").write_text("from .low import f\n")
    (tmp_path / "high.py").write_text("import geosource.mid\nfrom . import low\n")
    assert back_edges(tmp_path, ("low", "mid", "high")) == {("low", "high"): ["low.py:2"]}
    assert back_edges(tmp_path, ("low", "high", "mid")) == {
        ("low", "high"): ["low.py:2"],
        ("high", "mid"): ["high.py:1"],
    }
