"""Lab kinds: one module per kind, named after it (char_rnn.py is kind "char_rnn").

A lab module defines:
- SCHEMA: dict section -> dict key -> scenario.Field, for every table but [scenario];
- LAB: the Lab subclass that a Scenario becomes;
- optionally check_scenario(scenario), cross-field checks that raise ScenarioError;
- optionally HEADLINE_METRICS: the metric names a sweep's progress line shows.

Modules whose names start with "_" or that are named "base" or "stepper" are not kinds.
Kinds are found by listing this package, so a new kind is one new file here.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache
from types import ModuleType

_NOT_KINDS = {"base", "stepper"}


@cache
def kinds() -> tuple[str, ...]:
    """Every lab kind available, sorted."""
    return tuple(
        sorted(
            info.name
            for info in pkgutil.iter_modules(__path__)
            if not info.name.startswith("_") and info.name not in _NOT_KINDS and not info.ispkg
        )
    )


def lab_module(kind: str) -> ModuleType:
    if kind not in kinds():
        raise KeyError(f"unknown lab kind {kind!r}; known: {', '.join(kinds())}")
    return importlib.import_module(f"{__name__}.{kind}")


def schema_for(kind: str) -> dict:
    return lab_module(kind).SCHEMA


def build_lab(scenario, initial_weights: bool = True):
    """A Scenario -> a fresh Lab of its kind, with the weights of [model] weights if the
    scenario names a file (initial_weights=False skips them: a checkpoint follows)."""
    lab = lab_module(scenario.kind).LAB(scenario)
    if initial_weights:
        from tui_lab.interop import apply_scenario_weights

        apply_scenario_weights(lab)
    return lab
