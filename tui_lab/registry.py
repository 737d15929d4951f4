"""The lab kinds and everything that needs them: building a lab, reading scenario files
(their schema is the kind's), the bundled scenarios, checkpoints.

The layers, lowest first: scenario.py (schema code, no kind) -> labs/ (one module per
kind, each declaring its SCHEMA) -> this module -> the command line, the runner, the
sweep and the screen. Nothing below imports this module.

A lab module (tui_lab/labs/<kind>.py) defines:
- SCHEMA: dict section -> dict key -> scenario.Field, for every table but [scenario];
- LAB: the Lab subclass that a Scenario becomes;
- optionally check_scenario(scenario), cross-field checks that raise ScenarioError;
- optionally HEADLINE_METRICS: the metric names a sweep's progress line shows.

Kinds are found by listing tui_lab/labs/, so a new kind is one new file there. Modules
whose names start with "_" or that are named "base" or "stepper" are not kinds.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
from functools import cache
from importlib import resources
from pathlib import Path
from types import ModuleType

import numpy as np

import tui_lab.labs
from tui_lab.files import atomic_save_npz
from tui_lab.interop import apply_scenario_weights
from tui_lab.labs.base import Lab
from tui_lab.scenario import (
    COMMON,
    Scenario,
    ScenarioError,
    build,
    check_kind,
    did_you_mean,
    read_text,
    toml_tables,
)

_NOT_KINDS = {"base", "stepper"}


# ---- kinds ---------------------------------------------------------------------------
@cache
def kinds() -> tuple[str, ...]:
    """Every lab kind available, sorted."""
    return tuple(
        sorted(
            info.name
            for info in pkgutil.iter_modules(tui_lab.labs.__path__)
            if not info.name.startswith("_") and info.name not in _NOT_KINDS and not info.ispkg
        )
    )


def lab_module(kind: str) -> ModuleType:
    if kind not in kinds():
        raise KeyError(f"unknown lab kind {kind!r}; known: {', '.join(kinds())}")
    return importlib.import_module(f"tui_lab.labs.{kind}")


def build_lab(scenario: Scenario, initial_weights: bool = True) -> Lab:
    """A Scenario -> a fresh Lab of its kind, with the weights of [model] weights if the
    scenario names a file (initial_weights=False skips them: a checkpoint follows)."""
    lab = lab_module(scenario.kind).LAB(scenario)
    if initial_weights:
        apply_scenario_weights(lab)
    return lab


# ---- scenario files ----------------------------------------------------------------------
def parse(text: str, source: str = "<scenario>", path: Path | None = None) -> Scenario:
    """TOML text -> validated Scenario, with the schema of the kind it names."""
    raw = toml_tables(text, source)
    kind = check_kind(raw["scenario"].get("kind"), kinds(), source)
    module = lab_module(kind)
    check = getattr(module, "check_scenario", None)  # optional (see the module docstring)
    return build(raw, {"scenario": COMMON, **module.SCHEMA}, source, path, check)


def load(path: str | Path) -> Scenario:
    """A scenario file -> Scenario. Missing or unreadable files are ScenarioErrors."""
    path = Path(path)
    return parse(read_text(path), str(path), path)


def bundled_paths() -> list[Path]:
    """The scenario files shipped with tui-lab, sorted by name."""
    folder = resources.files("scenarios")
    return sorted(
        (Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith(".toml")),
        key=lambda path: path.stem,
    )


def bundled_names() -> list[str]:
    return [path.stem for path in bundled_paths()]


def resolve(name_or_path: str | Path) -> Scenario:
    """A path to a .toml file, or the name of a bundled scenario (e.g. char-textgen)."""
    text = str(name_or_path)
    path = Path(text)
    if path.suffix == ".toml" or path.exists() or "/" in text:
        return load(path)
    for bundled in bundled_paths():
        if bundled.stem == text:
            return load(bundled)
    names = bundled_names()
    raise ScenarioError(
        f"{text}: no such scenario file or bundled scenario{did_you_mean(text, names)}; "
        f"bundled: {', '.join(names)}"
    )


def load_folder(folder: str | Path) -> list[Scenario]:
    """Every *.toml in a folder (the picker's --scenarios DIR)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ScenarioError(f"{folder}: not a folder of scenario files")
    return [load(path) for path in sorted(folder.glob("*.toml"))]


# ---- checkpoints ---------------------------------------------------------------------------
def save_checkpoint(lab: Lab, path: str | Path) -> None:
    """Write a checkpoint atomically: weights, optimizer state, step, scenario."""
    atomic_save_npz(path, lab.state_arrays())


def read_checkpoint(path: str | Path) -> dict[str, np.ndarray]:
    """A checkpoint's arrays (Lab.state_arrays), for Lab.load_state_arrays."""
    with np.load(path, allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def load_checkpoint(path: str | Path) -> Lab:
    """A checkpoint -> the lab it came from (its scenario is stored inside)."""
    arrays = read_checkpoint(path)
    meta = json.loads(bytes(arrays["meta"]).decode("utf-8"))
    scenario = parse(meta["scenario_toml"], meta.get("scenario_source", str(path)))
    lab = build_lab(scenario, initial_weights=False)
    lab.load_state_arrays(arrays)
    return lab
