"""The house: imports flow one way between the rooms, and every room ships in a non-editable install."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# lowest first: a module may import from its own floor or below, never from above
FLOORS = [
    {"vfi.io", "vfi.core"},
    {"vfi.motion"},
    {"vfi.classic", "vfi.models"},
    {"vfi.registry"},
    {"vfi.pipeline", "vfi.training"},
    {"vfi.bench"},
    {"vfi.api"},
    {"vfi.cli", "vfi.__main__", "vfi"},  # the package's face (its __init__) hands out the API
]


def room(module: str) -> str:
    """vfi.pipeline.job -> vfi.pipeline; vfi.classic -> vfi.classic; vfi -> vfi."""
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def floor(module: str) -> int:
    return next(i for i, rooms in enumerate(FLOORS) if room(module) in rooms)


def imports_of(path: Path) -> set[str]:
    """Every vfi module this file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vfi"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.startswith("vfi")}
    return found


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted((ROOT / "vfi").rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


def test_no_module_imports_from_a_room_above_its_own():
    upward = [f"{name} imports {target}" for name, path in modules().items() for target in imports_of(path)
              if target != "vfi" and floor(target) > floor(name)]
    assert not upward


def test_the_rooms_import_each_other_without_cycles():
    graph = {room(name): set() for name in modules()}
    for name, path in modules().items():
        graph[room(name)] |= {room(t) for t in imports_of(path) if room(t) != room(name) and t != "vfi"}
    done, active = set(), []

    def visit(node):
        assert node not in active, " -> ".join(active[active.index(node):] + [node])
        if node in done:
            return
        active.append(node)
        for nxt in graph.get(node, ()):
            visit(nxt)
        active.pop()
        done.add(node)

    for node in graph:
        visit(node)


def test_every_package_folder_is_listed_for_the_wheel_with_the_weights():
    tomllib = pytest.importorskip("tomllib")  # Python 3.11 on; the listing is the same on 3.10
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "vfi").rglob("__init__.py")}
    assert set(config["packages"]) == folders | {"vfi.weights"}
    assert config["package-dir"]["vfi.weights"] == "weights"
    assert {"*.pt", "*.md"} <= set(config["package-data"]["vfi.weights"])
