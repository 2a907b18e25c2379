"""The architecture as the code must keep it: layers, no import circles, built-ins on the public API only.

import-linter checks the layer contracts in CI (``lint-imports``, contracts
in ``pyproject.toml``); these tests check what it does not: circles that
function-local imports would hide, and that a plugin's imports of
``hygiene`` name only its top-level public names.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import hygiene

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "hygiene"
BUILTIN_PLUGINS = [ROOT / "rules" / "hygiene_rules", ROOT / "plugins" / "hygiene_plugins"]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(path: Path, known: set[str]) -> set[str]:
    """Every hygiene module ``path`` imports, at the top or inside a function, ``TYPE_CHECKING`` blocks included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from hygiene.api import models` imports the module hygiene.api.models.
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            while name and name not in known:
                name = name.rpartition(".")[0]
            if name:
                found.add(name)
    return found


def core_import_graph() -> dict[str, set[str]]:
    paths = {module_name(path): path for path in CORE.rglob("*.py")}
    known = set(paths)
    return {name: imported_modules(path, known) - {name} for name, path in paths.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle_through_a_function_local_import(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]


def test_no_import_circles_among_hygiene_modules_counting_function_local_imports():
    assert cycles(core_import_graph()) == []


def test_the_import_graph_sees_function_local_imports():
    # The CLI imports its commands inside the command functions; the graph must still see them.
    assert "hygiene.audit.run" in core_import_graph()["hygiene.cli"]


LAYERS = [
    "hygiene.api",
    "hygiene.files",
    "hygiene.plugin",
    "hygiene.config",
    "hygiene.history",
    "hygiene.forecast",
    "hygiene.audit",
    "hygiene.ci",
    "hygiene.commands",
    "hygiene.cli",
]


def layer_of(module: str) -> int | None:
    for rank, layer in enumerate(LAYERS):
        if module == layer or module.startswith(layer + "."):
            return rank
    return None


def test_no_module_imports_a_layer_above_it_even_inside_a_function():
    upward = []
    for module, targets in core_import_graph().items():
        rank = layer_of(module)
        for target in targets:
            target_rank = layer_of(target)
            if rank is not None and target_rank is not None and target_rank > rank:
                upward.append(f"{module} -> {target}")
    assert upward == []


def test_the_api_imports_nothing_else_of_hygiene():
    graph = core_import_graph()
    outside = sorted(
        f"{module} -> {target}" for module, targets in graph.items() if module.startswith("hygiene.api") for target in targets if not target.startswith("hygiene.api")
    )
    assert outside == []


@pytest.mark.parametrize("package", BUILTIN_PLUGINS, ids=lambda path: path.name)
def test_builtin_plugins_import_only_the_public_top_level_names(package):
    reaching = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hygiene."):
                reaching.append(f"{path.relative_to(ROOT)}: from {node.module} import ...")
            elif isinstance(node, ast.ImportFrom) and node.module == "hygiene":
                reaching += [f"{path.relative_to(ROOT)}: {alias.name}" for alias in node.names if alias.name not in hygiene.__all__]
            elif isinstance(node, ast.Import):
                reaching += [f"{path.relative_to(ROOT)}: import {alias.name}" for alias in node.names if alias.name.startswith("hygiene.")]
    assert reaching == []


def test_every_public_name_resolves():
    assert [name for name in hygiene.__all__ if getattr(hygiene, name, None) is None] == []


def test_every_sub_package_says_what_it_is_for_and_what_it_may_import():
    for init in sorted(CORE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in doc, init.relative_to(ROOT)


def test_the_core_keeps_few_top_level_modules():
    assert sorted(path.name for path in CORE.glob("*.py")) == ["__init__.py", "cli.py", "files.py", "testing.py"]


def test_help_does_not_import_polars():
    code = "import sys; from hygiene.cli import cli; print('polars' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_every_package_is_in_the_distribution():
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    roots = [CORE, *BUILTIN_PLUGINS]
    found = {module_name(init).removeprefix("rules.").removeprefix("plugins.") for root in roots for init in root.rglob("__init__.py")}
    assert sorted(found - listed) == []
