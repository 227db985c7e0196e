"""The layer's shape (docs/design.md): every module in a sub-package, packages importing downwards only, no
import cycle, and each function loading only its own path.

Imports are read from the source (every ``import``, also inside functions; not those under ``TYPE_CHECKING``,
which never run), so a lazy import cannot hide a dependency.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
LAYER = ROOT / "shared" / "logship"
# What each package may import besides itself: downwards only, and the two paths never import each other.
MAY_IMPORT = {"core": set(), "cluster": {"core"}, "ship": {"cluster", "core"}, "subscribe": {"core"}}


def module_name(path: Path) -> str:
    parts = path.relative_to(LAYER.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(LAYER.rglob("*.py"))}


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path) -> set[str]:
    """The layer's modules this file imports when it runs (a name imported from a package: that package)."""
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text())]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in MODULES else node.module
                         for alias in node.names)
        pending.extend(child for child in ast.iter_child_nodes(node) if not _type_checking_only(child))
    return {name for name in found if name in MODULES}


GRAPH = {name: imports_of(path) - {name} for name, path in MODULES.items()}


def package_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 2 or (len(parts) == 2 and parts[1] in MAY_IMPORT) else None


def test_every_module_of_the_layer_is_in_a_sub_package():
    loose = [name for name in MODULES if package_of(name) is None and name != "logship"]

    assert {package_of(name) for name in MODULES} - {None} == set(MAY_IMPORT)
    assert loose == []
    assert [path.name for path in LAYER.iterdir() if path.suffix == ".py"] == ["__init__.py"]


def test_the_import_graph_is_read_from_the_source():
    # The reader itself, on modules whose imports are known: a broken reader would pass every test below.
    assert "logship.core.config" in GRAPH["logship.ship.shipper"]
    assert "logship.ship.lines.python" in GRAPH["logship.ship.lines.stacks"]  # from logship.ship.lines import python
    assert GRAPH["logship.core.timefmt"] == set()


@pytest.mark.parametrize("package", sorted(MAY_IMPORT))
def test_packages_import_downwards_only(package):
    crossing = sorted((module, target) for module, targets in GRAPH.items() if package_of(module) == package
                      for target in targets if package_of(target) not in {package, *MAY_IMPORT[package]})

    assert crossing == []


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """A path of modules that leads back to where it started, or [] when there is none (depth first)."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str]:
        if node in path:
            return [*path[path.index(node):], node]
        if node in done:
            return []
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if cycle := visit(target):
                return cycle
        path.pop()
        done.add(node)
        return []

    return next((cycle for node in sorted(graph) if (cycle := visit(node))), [])


def test_the_cycle_finder_finds_a_cycle():
    # A finder that never finds one would pass the test below on any house.
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_no_import_cycle():
    assert find_cycle(GRAPH) == []


# In a fresh interpreter: load one function's handler, then list the layer's packages it loaded.
_LOADED = """
import importlib.util, sys
sys.path[:0] = [{shared!r}]
spec = importlib.util.spec_from_file_location("app", {app!r})
spec.loader.exec_module(importlib.util.module_from_spec(spec))
print(sorted({{name.split(".")[1] for name in sys.modules if name.startswith("logship.")}}))
"""


@pytest.mark.parametrize(("function", "packages"), [
    ("ship_logs", ["cluster", "core", "ship"]),
    ("install_index_template", ["cluster", "core"]),
    ("subscribe_log_group", ["core", "subscribe"]),
    ("reconcile_subscriptions", ["core", "subscribe"]),
])
def test_each_function_loads_only_its_own_path(function, packages):
    probe = _LOADED.format(shared=str(ROOT / "shared"), app=str(ROOT / "functions" / function / "app.py"))
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(packages)
