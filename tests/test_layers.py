"""The arrows point one way: app -> render, labs -> kernels.

Each lower layer is imported in a fresh interpreter and sys.modules is checked,
so a stray import anywhere below fails here."""

import pkgutil
import subprocess
import sys

import kernels
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
