"""The package's own imports run one way: no circle, no import from a lower layer to a
higher one, no import found by name at run time (docs/architecture.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "tightrope"

LAYERS: dict[str, int] = {
    "version": 0,
    "errors": 0,
    "scenario": 1,
    "core": 2,
    "model": 3,
    "results": 4,
    "engine": 5,
    "experiments": 6,
    "peers": 6,
    "report": 7,
    "explorer": 8,
    "cli": 8,
    "__init__": 9,
    "__main__": 9,
}
"""The layer of each top-level module or folder: a module may import its own layer and the
layers below it. `peers` (benchmark references) sits beside the experiments: only tests and
benchmarks import it."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def imports(path: Path) -> list[tuple[str, int, bool]]:
    """(module imported, line, at module level) for each import of a tightrope module."""
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rsplit(".", 1)[0]
    return source_imports(path.read_text("utf-8"), package)


def source_imports(source: str, package: str) -> list[tuple[str, int, bool]]:
    """`imports` of a module's text, the module being in `package`; function-level imports
    count as much as those at the top."""
    tree = ast.parse(source)
    top = {id(node) for node in tree.body}
    found: list[tuple[str, int, bool]] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base == "tightrope" or base.startswith("tightrope."):
                names += [f"{base}.{a.name}" for a in node.names] + [base]
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("tightrope")]
        found += [(n, node.lineno, id(node) in top) for n in names]
    return found


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def resolve(name: str, known: dict[str, Path]) -> str | None:
    """The module a dotted import name refers to (a name imported from a module is the
    module itself), or None for the package."""
    while name and name not in known:
        name = name.rsplit(".", 1)[0] if "." in name else ""
    return name or None


def layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def edges() -> dict[str, set[str]]:
    known = modules()
    graph: dict[str, set[str]] = {m: set() for m in known}
    for mod, path in known.items():
        for name, _, _ in imports(path):
            target = resolve(name, known)
            if target is not None and target != mod and target != "tightrope":
                graph[mod].add(target)
    return graph


def test_every_module_has_a_layer() -> None:
    for mod in modules():
        layer(mod)  # KeyError names a module outside the table


def test_no_import_goes_up_a_layer() -> None:
    up = [
        f"{mod} (layer {layer(mod)}) imports {target} (layer {layer(target)})"
        for mod, targets in edges().items()
        for target in sorted(targets)
        if layer(target) > layer(mod)
    ]
    assert up == []


def test_the_model_never_imports_the_peers() -> None:
    bad = [
        f"{m} imports {t}"
        for m, ts in edges().items()
        for t in ts
        if t.startswith("tightrope.peers") and not m.startswith("tightrope.peers")
    ]
    assert bad == []


def test_no_circle_of_imports() -> None:
    graph = edges()
    state: dict[str, int] = {}
    circles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                circles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert circles == []


def test_no_module_is_found_by_name_at_run_time() -> None:
    found = []
    for mod, path in modules().items():
        text = path.read_text("utf-8")
        for needle in ("importlib.import_module", "__import__(", "ModuleNotFoundError"):
            if needle in text:
                found.append(f"{mod}: {needle}")
    assert found == []


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from tightrope.model import feed\n", "tightrope.model.feed"),
        (
            "def f():\n    from tightrope.engine.simulation import run\n",
            "tightrope.engine.simulation",
        ),
        ("from ..engine import stops\n", "tightrope.engine.stops"),
    ],
)
def test_the_checker_sees_imports_at_any_depth(source: str, expected: str) -> None:
    names = [n for n, _, _ in source_imports(source, "tightrope.model")]
    assert expected in {resolve(n, modules()) for n in names}
