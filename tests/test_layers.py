"""The arrows point one way: app -> registry -> labs -> scenario, render, kernels.

Each lower layer is imported in a fresh interpreter and sys.modules is checked,
so a stray import anywhere below fails here; the import graph read from the source
(lazy imports included) has no cycle and no arrow from below the registry to above it."""

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import kernels
import tui_lab
import tui_lab.labs


def imported_after(modules: list[str]) -> set[str]:
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules)
    code += "print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return {line.split(".")[0] for line in result.stdout.split()}


def submodules(package) -> list[str]:
    return [f"{package.__name__}.{info.name}" for info in pkgutil.iter_modules(package.__path__)]


def test_kernels_import_only_numerics():
    loaded = imported_after(submodules(kernels))
    assert not loaded & {"tui_lab", "textual", "rich"}


def test_labs_never_import_the_screen():
    loaded = imported_after(submodules(tui_lab.labs) + ["tui_lab.runner"] * 0)
    assert "textual" not in loaded and "rich" not in loaded


def test_render_never_imports_textual():
    import tui_lab.render

    loaded = imported_after(["tui_lab.render", *submodules(tui_lab.render)])
    assert "textual" not in loaded


# ---- the import graph of tui_lab, read from the source --------------------------------
# Every import counts, those inside functions too: a lazy import is still an arrow (the
# scenario -> labs arrow and the lab screen cycle were both lazy imports).
ROOT = Path(tui_lab.__file__).parent.parent


def module_files() -> dict[str, Path]:
    files = {}
    for path in (ROOT / "tui_lab").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    return files


def type_only_imports(tree: ast.Module) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:`: annotations only, never run, so
    no arrow (a kind's view module names the kind's Walk class for its signatures)."""
    found = set()
    for node in ast.walk(tree):
        test = node.test if isinstance(node, ast.If) else None
        name = getattr(test, "id", None) or getattr(test, "attr", None)
        if name == "TYPE_CHECKING":
            found.update(id(inner) for stmt in node.body for inner in ast.walk(stmt))
    return found


def import_graph() -> dict[str, set[str]]:
    """module -> the tui_lab modules it imports (`from pkg import name` counts as pkg.name
    when that is a module, else as pkg)."""
    files = module_files()
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        type_only = type_only_imports(tree)  # once per file: per node it took minutes
        for node in ast.walk(tree):
            if id(node) in type_only:
                continue
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names if alias.name in files)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parent + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in files else base)
        graph[name] = {target for target in targets if target in files and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_graph_reader_sees_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_tui_lab():
    graph = import_graph()
    assert graph["tui_lab.app.screens.lab"], "the graph reader found no imports"
    assert cycles(graph) == []


UPPER = ("tui_lab.registry", "tui_lab.runner", "tui_lab.sweep", "tui_lab.app", "tui_lab.cli")
"""The registry and what stands on it. Below them: scenario, labs, render, kernels' users."""


def test_nothing_below_the_registry_imports_it():
    def upper(name: str) -> bool:
        return any(name == top or name.startswith(top + ".") for top in UPPER)

    reaching_up = {
        (name, target)
        for name, targets in import_graph().items()
        if not upper(name)
        for target in targets
        if upper(target)
    }
    assert reaching_up == set()


def test_scenario_schema_imports_no_lab():
    """scenario.py holds the schema code alone: the kinds' schemas come in as arguments."""
    assert import_graph()["tui_lab.scenario"] == set()
    code = (
        "import sys\n"
        "from tui_lab import scenario as s\n"
        "schema = {'scenario': s.COMMON, 'train': {'lr': s.Field('float', 0.1, min=0.0)}}\n"
        "raw = s.toml_tables('[scenario]\\nname = \"x\"\\nkind = \"k\"\\n', 'x.toml')\n"
        "s.build(raw, schema, 'x.toml').with_overrides(['train.lr=0.5'])\n"
        "print('\\n'.join(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    loaded = set(result.stdout.split())
    assert "tui_lab.scenario" in loaded
    assert not {name for name in loaded if name.startswith(("tui_lab.labs", "tui_lab.registry"))}
