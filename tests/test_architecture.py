"""The package's layout is its architecture: no import cycles, layers import only downwards, small modules.

The import graph is built with ``ast`` from every ``import`` statement in ``pinn_mrepu`` (module level and inside
functions, ``TYPE_CHECKING`` blocks included), so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pinn_mrepu"

#: Bottom to top.  A module may import its own unit (a subpackage or a top-level module) and units of lower
#: layers only; units within one layer are independent of each other.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "storage", "optim", "fields"),
    ("config",),
    ("activations",),
    ("criticality",),
    ("nn",),
    ("physics", "derivatives"),
    ("training",),
    ("validation",),
    ("solver",),
    ("runs",),
    ("sweeps", "interop", "experiments"),
    ("cli",),
    ("", "__main__"),  # "" is the package's own __init__: the public API over everything
]
MAX_LINES = 300


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    """``{"derivatives.taylor": path, "physics": path-of-__init__, "": root __init__, ...}``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of the dotted ``name`` that is a module of the package (None if outside it)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph(root: Path = PACKAGE, package: str = "pinn_mrepu") -> dict[str, set[str]]:
    """``{module: {modules it imports}}`` over the package's own modules (names relative to ``package``)."""
    modules = module_names(root)
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for mod, path in modules.items():
        is_pkg = path.name == "__init__.py"
        here = mod.split(".") if mod else []
        base = here if is_pkg else here[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    anchor = base[: len(base) - (node.level - 1)]
                    prefix = ".".join([package, *anchor] + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                targets = [f"{prefix}.{a.name}" for a in node.names]  # a name may be a submodule
            for target in targets:
                if target != package and not target.startswith(package + "."):
                    continue
                dep = _resolve(target[len(package) + 1:], modules) if target != package else ""
                if dep is None:
                    dep = ""
                if dep != mod:
                    graph[mod].add(dep)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as ``[a, b, ..., a]``, or None when the graph is acyclic."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                return stack[stack.index(dep):] + [dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def unit(module: str) -> str:
    return module.split(".")[0] if module else ""


def layer_of(module: str) -> int | None:
    return next((i for i, names in enumerate(LAYERS) if unit(module) in names), None)


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that goes sideways or upwards, and every module that belongs to no declared layer."""
    problems = []
    for mod, deps in sorted(graph.items()):
        lm = layer_of(mod)
        if lm is None:
            problems.append(f"{mod or '__init__'}: its unit {unit(mod)!r} is in no declared layer")
            continue
        for dep in sorted(deps):
            ld = layer_of(dep)
            if unit(dep) != unit(mod) and (ld is None or ld >= lm):
                problems.append(f"{mod or '__init__'} imports {dep or 'pinn_mrepu'} (layer {ld} >= {lm})")
    return problems


def test_the_package_has_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_layers_import_only_downwards():
    assert layer_violations(import_graph()) == []


def test_the_checks_catch_what_they_are_for(tmp_path):
    """A cycle through a function-level import and an upward import are both reported (the checks can fail)."""
    pkg = tmp_path / "pinn_mrepu"
    (pkg / "config").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "errors.py").write_text("")
    (pkg / "config" / "__init__.py").write_text("from .schema import Config\n")
    (pkg / "config" / "schema.py").write_text("def f():\n    from pinn_mrepu.physics import build\n")
    (pkg / "physics.py").write_text("from pinn_mrepu.config.schema import Config\nimport numpy\n")
    graph = import_graph(pkg)
    assert graph["physics"] == {"config.schema"} and graph["config"] == {"config.schema"}
    assert find_cycle(graph) == ["config.schema", "physics", "config.schema"]
    assert layer_violations(graph) == ["config.schema imports physics (layer 5 >= 1)"]


def test_every_subpackage_re_exports_its_public_names_explicitly():
    for mod, path in module_names().items():
        if path.name != "__init__.py" or not mod:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [n for n in tree.body if isinstance(n, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)]
        assert names, f"{mod}/__init__.py has no __all__"
        exported = set(ast.literal_eval(names[0].value))
        bound = {a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names}
        bound |= {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        bound |= {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                  for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
        assert exported <= bound, f"{mod}/__init__.py lists names it does not define: {sorted(exported - bound)}"


@pytest.mark.parametrize("mod", sorted(module_names()))
def test_modules_are_small_and_have_no_module_getattr(mod):
    path = module_names()[mod]
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_LINES, f"{path.relative_to(PACKAGE)} has {len(text.splitlines())} lines"
    tree = ast.parse(text)
    assert not any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body), \
        f"{path.relative_to(PACKAGE)} re-exports through a module __getattr__"


def test_the_public_api_is_importable_from_the_package():
    import pinn_mrepu

    for name in ("PINNSolver", "load_config", "compute_fields", "MLP", "get_activation", "compare", "ConfigError",
                 "TrainResult", "Config", "MRePU", "ACTIVATIONS"):
        assert name in pinn_mrepu.__all__ and hasattr(pinn_mrepu, name), name
    assert callable(pinn_mrepu.compare) and pinn_mrepu.compare.__module__ == "pinn_mrepu.sweeps.sweep"
