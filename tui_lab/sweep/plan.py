"""A sweep's plan: the command-line arguments -> one validated RunSpec per (grid point x seed).

Every grid point is validated here, before any run starts, so a typo in the last
grid value costs a one-line error (exit 2), not an hour of runs.

    --seeds 0-4 | 0,3,7 | 0-2,9       which seeds (default 0-4: the five every claim uses)
    --grid model.cell=rnn,lstm,gru     one axis of the grid (repeatable: the product is taken)
    --set train.updates=500            the same value for every run
    --threshold accuracy>=0.9          a claim; the summary says "k of n met"
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

from tui_lab import registry
from tui_lab.scenario import Scenario, ScenarioError

DEFAULT_SEEDS = "0-4"
MAX_RUNS = 10_000  # a typo like --seeds 0-100000 is refused rather than planned


@dataclass(frozen=True)
class RunSpec:
    """One run of the sweep: exactly `tui-lab run SCENARIO --set ... --seed SEED`."""

    run_id: str  # the folder under DIR/runs/, e.g. "model.cell=lstm_seed=3"
    seed: int
    grid: tuple[tuple[str, str], ...]  # this run's grid point: (section.key, value text)
    overrides: tuple[str, ...]  # what the run's Scenario.overrides will be


@dataclass(frozen=True)
class Threshold:
    """A claim about one metric, e.g. `accuracy>=0.9`; a run without the metric misses it."""

    metric: str
    op: str  # "<=" or ">="
    value: float

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.value:g}"

    def met(self, metrics: dict[str, float]) -> bool:
        got = metrics.get(self.metric)
        if got is None:
            return False
        return got <= self.value if self.op == "<=" else got >= self.value


@dataclass
class SweepPlan:
    """What to run and where its scenario came from. The scenario travels as text (and the
    data files it names by relative path travel as bytes), so a worker needs no copy of
    the user's files."""

    scenario: Scenario  # as resolved on this machine, before any --set
    scenario_text: str
    data_files: dict[str, bytes]  # relative path (as the scenario names it) -> contents
    sets: tuple[str, ...]
    grid_keys: tuple[str, ...]
    runs: list[RunSpec]
    thresholds: list[Threshold] = field(default_factory=list)

    @property
    def scenario_sha1(self) -> str:
        digest = hashlib.sha1(self.scenario_text.encode("utf-8"))
        for name in sorted(self.data_files):
            digest.update(name.encode("utf-8") + b"\0" + self.data_files[name])
        return digest.hexdigest()

    def grid_points(self) -> list[tuple[tuple[str, str], ...]]:
        """The distinct grid points in plan order."""
        return list(dict.fromkeys(run.grid for run in self.runs))


def parse_seeds(text: str) -> list[int]:
    """'0-4' -> [0, 1, 2, 3, 4]; '0,3,7' -> [0, 3, 7]; '0-2,9' -> [0, 1, 2, 9]."""
    expected = "expected seeds like 0-4, 0,3,7 or 0-2,9 (non-negative integers)"
    seeds: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match:
            raise ScenarioError(f"--seeds {text!r}: {expected}")
        first = int(match.group(1))
        last = int(match.group(2)) if match.group(2) is not None else first
        if last < first:
            raise ScenarioError(f"--seeds {text!r}: range {first}-{last} runs backwards")
        if last - first >= MAX_RUNS:
            raise ScenarioError(f"--seeds {text!r}: more than {MAX_RUNS} seeds")
        seeds.extend(range(first, last + 1))
    duplicates = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if duplicates:
        raise ScenarioError(f"--seeds {text!r}: seed {duplicates[0]} given twice")
    return seeds


def _split_values(text: str) -> list[str]:
    """Split a grid's values at top-level commas, so `data.eval_lengths=[20,40],[80]`
    keeps its arrays and `"a,b"` its quotes."""
    values, current, depth, quote = [], [], 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char == "[":
            depth += 1
        elif char == "]":
            depth -= 1
        elif char == "," and depth == 0:
            values.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    values.append("".join(current).strip())
    return values


def parse_grid(text: str) -> tuple[str, list[str]]:
    """'model.cell=rnn,lstm' -> ('model.cell', ['rnn', 'lstm'])."""
    expected = "expected section.key=v1,v2,... (e.g. model.cell=rnn,lstm,gru)"
    if "=" not in text:
        raise ScenarioError(f"--grid {text!r}: {expected}")
    key, values_text = (part.strip() for part in text.split("=", 1))
    if key.count(".") != 1 or not all(key.split(".")):
        raise ScenarioError(f"--grid {text!r}: key {key!r} must be section.key; {expected}")
    if key == "scenario.seed":
        raise ScenarioError(f"--grid {text!r}: seeds are swept with --seeds, not --grid")
    values = _split_values(values_text)
    if not all(values):
        raise ScenarioError(f"--grid {text!r}: an empty value; {expected}")
    if len(set(values)) != len(values):
        raise ScenarioError(f"--grid {text!r}: a value is given twice")
    return key, values


def parse_threshold(text: str) -> Threshold:
    """'accuracy>=0.9' or 'wrong_bits<=1' (nested metrics by dots: wrong_bits_by_length.40)."""
    match = re.fullmatch(r"\s*([^<>=\s]+)\s*(<=|>=)\s*(\S+)\s*", text)
    expected = "expected METRIC<=VALUE or METRIC>=VALUE (e.g. accuracy>=0.9)"
    if not match:
        raise ScenarioError(f"--threshold {text!r}: {expected}")
    try:
        value = float(match.group(3))
    except ValueError:
        raise ScenarioError(f"--threshold {text!r}: {match.group(3)!r} is not a number") from None
    return Threshold(match.group(1), match.group(2), value)


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-") or "-"


def run_id(grid: tuple[tuple[str, str], ...], seed: int) -> str:
    parts = [f"{key}={_safe(value)}" for key, value in grid]
    return "_".join([*parts, f"seed={seed}"])


def _data_files(scenario: Scenario) -> dict[str, bytes]:
    """The files a scenario names by a relative `path` field, read here to travel with
    the runs. Absolute paths and bundled texts are left for the worker to open."""
    files: dict[str, bytes] = {}
    if scenario.path is None:
        return files
    for section, fields in scenario.schema.items():
        for key, spec in fields.items():
            value = scenario.values.get(section, {}).get(key)
            if spec.kind != "path" or not value or ":" in value or Path(value).is_absolute():
                continue
            where = scenario.path.parent / value
            try:
                files[value] = where.read_bytes()
            except OSError as error:
                raise ScenarioError(
                    f"{scenario.source}: {section}.{key}: cannot read {where}: {error.strerror}"
                ) from None
    return files


def build_plan(
    name: str,
    seeds_text: str | None,
    grid_texts: list[str],
    sets: list[str],
    threshold_texts: list[str],
) -> SweepPlan:
    """Parse and validate every argument and every grid point; ScenarioError on the first
    problem, naming the argument, the key and what was expected."""
    base = registry.resolve(name)
    seeds = parse_seeds(seeds_text or DEFAULT_SEEDS)
    thresholds = [parse_threshold(text) for text in threshold_texts]
    axes: dict[str, list[str]] = {}
    for text in grid_texts:
        key, values = parse_grid(text)
        if key in axes:
            raise ScenarioError(f"--grid {text!r}: {key} is already a grid axis")
        axes[key] = values
    set_keys = {assignment.split("=", 1)[0].strip() for assignment in sets if "=" in assignment}
    for assignment in sets:
        if assignment.split("=", 1)[0].strip() == "scenario.seed":
            raise ScenarioError(f"--set {assignment!r}: seeds are swept with --seeds")
    for key in axes:
        if key in set_keys:
            raise ScenarioError(f"--grid {key}: {key} is also given by --set; give it once")

    try:
        with_sets = base.with_overrides(list(sets)) if sets else base
    except ScenarioError as error:
        raise ScenarioError(f"--set: {error}") from None
    for key, values in axes.items():
        for value in values:
            try:
                with_sets.with_overrides([f"{key}={value}"])
            except ScenarioError as error:
                raise ScenarioError(f"--grid {key}={value}: {error}") from None

    points = [tuple(zip(axes, combo, strict=True)) for combo in itertools.product(*axes.values())]
    if len(points) * len(seeds) > MAX_RUNS:
        raise ScenarioError(f"the sweep has {len(points) * len(seeds)} runs; at most {MAX_RUNS}")
    runs: list[RunSpec] = []
    for point in points:
        assignments = [f"{key}={value}" for key, value in point]
        try:  # cross-field checks see the whole point at once
            base.with_overrides([*sets, *assignments])
        except ScenarioError as error:
            raise ScenarioError(f"--grid point {' '.join(assignments)}: {error}") from None
        for seed in seeds:
            overrides = (*sets, *assignments, f"scenario.seed={seed}")
            runs.append(RunSpec(run_id(point, seed), seed, point, overrides))
    ids = [run.run_id for run in runs]
    if len(set(ids)) != len(ids):
        clash = next(i for i in ids if ids.count(i) > 1)
        raise ScenarioError(f"--grid: two grid points share the folder name {clash!r}")
    return SweepPlan(
        scenario=base,
        scenario_text=_scenario_text(base),
        data_files=_data_files(base),
        sets=tuple(sets),
        grid_keys=tuple(axes),
        runs=runs,
        thresholds=thresholds,
    )


def _scenario_text(scenario: Scenario) -> str:
    if scenario.path is not None:
        return scenario.path.read_text(encoding="utf-8")
    return scenario.to_toml()
