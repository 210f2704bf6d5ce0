"""The modules form layers, and imports only point down: no circle, nothing imported lazily
(inside a function) to dodge one. A new module must be placed in ``LAYERS`` here, which is
the picture of ``docs/design.md`` as data."""

from __future__ import annotations

import ast
import fnmatch
import subprocess
import sys
from pathlib import Path

import lrkit

SRC = Path(lrkit.__file__).parent

#: Lowest first. A module may import modules of its own layer or lower ones (the cycle test
#: keeps a layer's modules from importing each other in a circle). The facade ``lrkit``
#: (``__init__``) re-exports the model, formulas, combinators, recipes, configs and the text
#: form; adapters and tools sit above it.
LAYERS: list[list[str]] = [
    ["lrkit._ops", "lrkit._display", "lrkit._compile"],
    ["lrkit._validate"],
    ["lrkit._params"],
    ["lrkit._core"],
    ["lrkit.schedules"],
    ["lrkit.compose"],
    ["lrkit.recipes"],
    ["lrkit.config", "lrkit.spec", "lrkit.control"],
    ["lrkit.compat._common"],
    ["lrkit.compat.keras", "lrkit.compat.optax", "lrkit.compat.torch", "lrkit.compat.transformers"],
    ["lrkit.compat", "lrkit._adapt", "lrkit.find"],
    ["lrkit"],
    ["lrkit.keras", "lrkit.torch", "lrkit.jax", "lrkit._find_*"],
    ["lrkit.plot"],
    ["lrkit.demo.*", "lrkit.demo", "lrkit.find_command"],
    ["lrkit.cli"],
    ["lrkit.__main__"],
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(name: str) -> int:
    for i, layer in enumerate(LAYERS):
        if any(fnmatch.fnmatchcase(name, pattern) for pattern in layer):
            return i
    raise AssertionError(f"{name} is in no layer: add it to LAYERS (and to docs/design.md)")


def lrkit_imports(path: Path, package: str) -> set[str]:
    """Every lrkit module ``path`` imports, anywhere in the file (functions included)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.split(".")[0] == "lrkit")
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if base.split(".")[0] != "lrkit":
                continue
            for alias in node.names:  # `from lrkit import _validate` imports a module
                candidate = f"{base}.{alias.name}"
                exists = (SRC.parent / Path(*candidate.split("."))).with_suffix(".py").exists()
                out.add(
                    candidate
                    if exists or (SRC.parent / Path(*candidate.split("."))).is_dir()
                    else base
                )
    return out


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in SRC.rglob("*.py")}


def test_every_import_points_down() -> None:
    wrong = []
    for name, path in modules().items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for target in lrkit_imports(path, package):
            if target == name:
                continue
            if layer_of(target) > layer_of(name):
                wrong.append(
                    f"{name} (layer {layer_of(name)}) imports {target} ({layer_of(target)})"
                )
    assert not wrong, "\n".join(sorted(wrong))


def test_the_graph_has_no_cycle() -> None:
    graph = {}
    for name, path in modules().items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        graph[name] = {t for t in lrkit_imports(path, package) if t != name}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        if state.get(node) == 2:
            return
        assert state.get(node) != 1, " -> ".join([*trail, node])
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*trail, node])
        state[node] = 2

    for node in sorted(graph):
        visit(node, [])


def test_a_cycle_would_be_found(tmp_path: Path) -> None:
    """The checks can fail: an upward import inside a function is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from lrkit import compose\n    return compose\n")
    assert "lrkit.compose" in lrkit_imports(bad, "lrkit")
    assert layer_of("lrkit.compose") > layer_of("lrkit._core")


def test_import_lrkit_loads_no_lrkit_module_twice_and_no_framework() -> None:
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import lrkit"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    loaded = [line.rsplit("|", 1)[-1].strip() for line in out.splitlines() if "|" in line]
    ours = [m for m in loaded if m.strip().split(".")[0] == "lrkit"]
    assert len(ours) == len(set(ours))
    assert not {"torch", "tensorflow", "jax", "keras", "matplotlib"} & {m.strip() for m in loaded}
