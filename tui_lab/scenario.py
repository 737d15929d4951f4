"""Scenario values and their schema: Field, Scenario, validation and `--set` overrides.

A scenario is four tables: [scenario] (name, kind, description, seed, topic)
common to every lab, then [data], [model], [train] (and any others) whose keys
each lab kind declares in its SCHEMA. Every value is checked against its Field
on load: unknown keys (with a did-you-mean), wrong types, NaN, out-of-range
numbers and unknown choices are ScenarioErrors that name the file, the key and
what was expected. The command line turns a ScenarioError into one line on
stderr and exit code 2.

This module knows no lab kind: the kinds' schemas and cross-field checks come in
as arguments. tui_lab/registry.py, above the labs, reads files into Scenarios
(parse, load, resolve) with the schema of the kind each file names.
"""

from __future__ import annotations

import difflib
import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOPICS = ("recurrent cells", "rnn types", "word2vec", "memory networks", "time series")


class ScenarioError(ValueError):
    """Bad scenario input. str(error) is the whole message for the user."""


@dataclass(frozen=True)
class Field:
    """One scenario key: its type, default and allowed values.

    kind: "int", "float", "str", "bool", "path" (a str naming a file) or
    "int_list" / "str_list". default None means required. live: the value
    can change mid-run without rebuilding the model (learning rate,
    temperature, clipping).
    """

    kind: str
    default: Any = None
    doc: str = ""
    min: float | None = None
    max: float | None = None
    choices: tuple | None = None
    live: bool = False
    required: bool = False

    def describe(self) -> str:
        if self.choices:
            return "one of " + ", ".join(repr(choice) for choice in self.choices)
        noun = {
            "int": "an integer",
            "float": "a number",
            "str": "a string",
            "bool": "true or false",
            "path": "a file path (string)",
            "int_list": "a list of integers",
            "str_list": "a list of strings",
        }[self.kind]
        if self.min is not None and self.max is not None:
            return f"{noun} from {self.min:g} to {self.max:g}"
        if self.min is not None:
            return f"{noun} >= {self.min:g}"
        if self.max is not None:
            return f"{noun} <= {self.max:g}"
        return noun


Schema = dict[str, dict[str, Field]]

COMMON: dict[str, Field] = {
    "name": Field("str", required=True, doc="shown in the picker"),
    "kind": Field("str", required=True, doc="the lab kind (a module in tui_lab/labs/)"),
    "description": Field("str", "", doc="Markdown shown in the picker"),
    "topic": Field("str", "recurrent cells", choices=TOPICS, doc="picker group"),
    "seed": Field("int", 0, min=0, max=2**32 - 1, doc="seeds every random choice"),
}


@dataclass
class Scenario:
    """A validated scenario: values[section][key], every key present (defaults filled).

    check: the kind's cross-field check (raises ScenarioError), run again on every
    changed copy (with_overrides, with_value); None for a kind that has none.
    """

    values: dict[str, dict[str, Any]]
    schema: Schema
    source: str = "<scenario>"
    path: Path | None = None
    overrides: list[str] = field(default_factory=list)
    check: Callable[[Scenario], None] | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.values["scenario"]["name"]

    @property
    def kind(self) -> str:
        return self.values["scenario"]["kind"]

    @property
    def seed(self) -> int:
        return self.values["scenario"]["seed"]

    @property
    def description(self) -> str:
        return self.values["scenario"]["description"]

    @property
    def topic(self) -> str:
        return self.values["scenario"]["topic"]

    @property
    def stem(self) -> str:
        return self.path.stem if self.path else self.name

    def section(self, name: str) -> dict[str, Any]:
        return self.values[name]

    def get(self, dotted: str) -> Any:
        section, key = _split_key(dotted, self.source)
        return self.values[section][key]

    def field(self, dotted: str) -> Field:
        section, key = _split_key(dotted, self.source)
        return self.schema[section][key]

    def with_overrides(self, assignments: list[str]) -> Scenario:
        """A new Scenario with `section.key=value` assignments applied and validated."""
        raw = {section: dict(values) for section, values in self.values.items()}
        for assignment in assignments:
            dotted, value = _parse_assignment(assignment)
            section, key = _split_key(dotted, "--set")
            raw.setdefault(section, {})[key] = value
        where = f"{self.source} (with --set)"
        values = validate(raw, self.schema, where)
        return self._checked(values, self.overrides + assignments)

    def with_value(self, dotted: str, value: Any) -> Scenario:
        raw = {section: dict(values) for section, values in self.values.items()}
        section, key = _split_key(dotted, self.source)
        raw.setdefault(section, {})[key] = value
        values = validate(raw, self.schema, f"{self.source} ({dotted})")
        return self._checked(values, self.overrides)

    def _checked(self, values: dict[str, dict[str, Any]], overrides: list[str]) -> Scenario:
        scenario = Scenario(values, self.schema, self.source, self.path, overrides, self.check)
        if self.check is not None:
            self.check(scenario)
        return scenario

    def to_toml(self) -> str:
        """The scenario as currently set, every key written, seed included."""
        lines: list[str] = []
        for section, values in self.values.items():
            if lines:
                lines.append("")
            lines.append(f"[{section}]")
            for key, value in values.items():
                lines.append(f"{key} = {_toml_value(value)}")
        return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    text = str(value)
    if "\n" in text:
        return '"""\n' + text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"') + '"""'
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _split_key(dotted: str, where: str) -> tuple[str, str]:
    if dotted.count(".") != 1 or not all(dotted.split(".")):
        raise ScenarioError(f"{where}: key {dotted!r} must be section.key (e.g. model.hidden)")
    section, key = dotted.split(".")
    return section, key


def _parse_assignment(assignment: str) -> tuple[str, Any]:
    if "=" not in assignment:
        raise ScenarioError(f"--set {assignment!r}: expected section.key=value")
    dotted, text = assignment.split("=", 1)
    dotted, text = dotted.strip(), text.strip()
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        value = text  # a bare word is a string: --set model.cell=lstm
    return dotted, value


def did_you_mean(word: str, options) -> str:
    """' (did you mean 'x'?)' for the closest of `options`, or ''."""
    close = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_value(value: Any, spec: Field, where: str) -> Any:
    """Validate one value against its Field; return it normalised (int -> float for floats)."""
    expected = spec.describe()

    def bad(got: str = "") -> ScenarioError:
        shown = got or repr(value)
        return ScenarioError(f"{where}: expected {expected}, got {shown}")

    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise bad()
        return value
    if spec.kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad()
        if isinstance(value, float) and not math.isfinite(value):
            raise bad(repr(value))
        if spec.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise bad()
                value = int(value)
        else:
            value = float(value)
        if (spec.min is not None and value < spec.min) or (
            spec.max is not None and value > spec.max
        ):
            raise bad()
    elif spec.kind in ("str", "path"):
        if not isinstance(value, str):
            raise bad()
    elif spec.kind in ("int_list", "str_list"):
        item_type = int if spec.kind == "int_list" else str
        if not isinstance(value, list) or not all(
            isinstance(item, item_type) and not isinstance(item, bool) for item in value
        ):
            raise bad()
        if spec.kind == "int_list":
            for item in value:
                if (spec.min is not None and item < spec.min) or (
                    spec.max is not None and item > spec.max
                ):
                    raise bad()
        return list(value)
    else:
        raise AssertionError(f"unknown field kind {spec.kind!r}")
    if spec.choices is not None and value not in spec.choices:
        raise ScenarioError(
            f"{where}: expected {expected}, got {value!r}{did_you_mean(str(value), spec.choices)}"
        )
    return value


def validate(raw: dict[str, Any], schema: Schema, source: str) -> dict[str, dict[str, Any]]:
    """Check raw TOML tables against the schema; fill defaults. Raises ScenarioError."""
    values: dict[str, dict[str, Any]] = {}
    for section, table in raw.items():
        if section not in schema:
            hint = did_you_mean(section, schema)
            raise ScenarioError(
                f"{source}: unknown section [{section}]{hint}; "
                f"expected one of {', '.join('[' + s + ']' for s in schema)}"
            )
        if not isinstance(table, dict):
            raise ScenarioError(f"{source}: {section} must be a table [{section}]")
        for key in table:
            if key not in schema[section]:
                hint = did_you_mean(key, schema[section])
                known = ", ".join(schema[section])
                raise ScenarioError(
                    f"{source}: unknown key {section}.{key}{hint}; {section} has: {known}"
                )
    for section, fields in schema.items():
        table = raw.get(section, {})
        values[section] = {}
        for key, spec in fields.items():
            where = f"{source}: {section}.{key}"
            if key in table:
                values[section][key] = check_value(table[key], spec, where)
            elif spec.required or (spec.default is None and spec.kind != "path"):
                raise ScenarioError(f"{where} is missing: expected {spec.describe()}")
            else:
                default = spec.default
                values[section][key] = list(default) if isinstance(default, list) else default
    return values


def build(
    raw: dict[str, Any],
    schema: Schema,
    source: str,
    path: Path | None = None,
    check: Callable[[Scenario], None] | None = None,
) -> Scenario:
    """Raw TOML tables -> a validated Scenario, cross-field checks included."""
    scenario = Scenario(validate(raw, schema, source), schema, source, path, check=check)
    if check is not None:
        check(scenario)
    return scenario


def toml_tables(text: str, source: str) -> dict[str, Any]:
    """TOML text -> its tables, with a [scenario] table. Raises ScenarioError."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"{source}: not valid TOML: {error}") from None
    if not isinstance(raw.get("scenario"), dict):
        raise ScenarioError(f"{source}: missing the [scenario] table (name, kind, ...)")
    return raw


def check_kind(kind: Any, available: tuple[str, ...], source: str) -> str:
    """scenario.kind, if it names one of `available`; else a ScenarioError with a hint."""
    if not isinstance(kind, str) or kind not in available:
        hint = did_you_mean(str(kind), available) if isinstance(kind, str) else ""
        raise ScenarioError(
            f"{source}: scenario.kind: expected one of {', '.join(map(repr, available))}, "
            f"got {kind!r}{hint}"
        )
    return kind


def read_text(path: Path) -> str:
    """A scenario file's text. Missing or unreadable files are ScenarioErrors."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{path}: is a directory, expected a .toml scenario file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"{path}: not a UTF-8 text file") from None
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read: {error.strerror}") from None
