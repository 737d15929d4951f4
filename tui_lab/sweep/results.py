"""A sweep's results: one record per run, the files that hold them, and the aggregate
per grid point (n, mean +- sd, min, max of every numeric metric; "k of n met")."""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from rich.table import Table

from tui_lab.files import atomic_write_json, atomic_write_text
from tui_lab.sweep.plan import RunSpec, SweepPlan, Threshold

RESULTS_JSONL, RESULTS_CSV, SUMMARY_JSON = "sweep.jsonl", "sweep.csv", "sweep-summary.json"


@dataclass
class RunRecord:
    """What sweep.jsonl says of one run."""

    run_id: str
    seed: int
    grid: dict[str, str]
    overrides: list[str]
    status: str  # the run's summary status ("done", "diverged: ...") or "failed"
    exit_code: int
    wall_s: float
    metrics: dict = field(default_factory=dict)
    message: str = ""

    @classmethod
    def from_summary(cls, spec: RunSpec, summary: dict, exit_code: int) -> RunRecord:
        return cls(
            spec.run_id,
            spec.seed,
            dict(spec.grid),
            list(spec.overrides),
            summary["status"],
            exit_code,
            summary["wall_s"],
            summary.get("metrics", {}),
        )

    @classmethod
    def failed(cls, spec: RunSpec, message: str, wall_s: float = 0.0) -> RunRecord:
        return cls(
            spec.run_id,
            spec.seed,
            dict(spec.grid),
            list(spec.overrides),
            "failed",
            1,
            round(wall_s, 3),
            {},
            message,
        )

    @property
    def outcome(self) -> str:
        """done, diverged or failed: the three counts of the summary."""
        if self.status == "done":
            return "done"
        return "diverged" if self.status.startswith("diverged") else "failed"

    def to_json(self) -> dict:
        record = {
            "id": self.run_id,
            "seed": self.seed,
            "grid": self.grid,
            "overrides": self.overrides,
            "status": self.status,
            "exit_code": self.exit_code,
            "wall_s": self.wall_s,
            "metrics": self.metrics,
        }
        if self.message:
            record["message"] = self.message
        return record

    def numeric_metrics(self) -> dict[str, float]:
        return flatten_numeric(self.metrics)


def flatten_numeric(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Numeric metrics, nested dicts joined by dots (wrong_bits_by_length.40); strings and
    booleans are left out (they are not averaged)."""
    flat: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten_numeric(value, f"{name}."))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


@dataclass
class MetricStats:
    n: int
    mean: float
    sd: float  # sample standard deviation (n - 1); 0 for one run
    min: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> MetricStats:
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        return cls(len(values), statistics.fmean(values), sd, min(values), max(values))

    def to_json(self) -> dict:
        return {"n": self.n, "mean": self.mean, "sd": self.sd, "min": self.min, "max": self.max}


@dataclass
class PointSummary:
    """The runs of one grid point, aggregated."""

    grid: dict[str, str]
    runs: int
    done: int
    diverged: int
    failed: int
    metrics: dict[str, MetricStats]
    thresholds: list[tuple[Threshold, int]]  # (claim, runs that met it) out of `runs`

    @property
    def label(self) -> str:
        return " ".join(f"{key}={value}" for key, value in self.grid.items()) or "all runs"

    def to_json(self) -> dict:
        return {
            "grid": self.grid,
            "runs": self.runs,
            "done": self.done,
            "diverged": self.diverged,
            "failed": self.failed,
            "metrics": {name: stats.to_json() for name, stats in self.metrics.items()},
            "thresholds": [
                {"threshold": str(claim), "met": met, "n": self.runs}
                for claim, met in self.thresholds
            ],
        }


def aggregate(plan: SweepPlan, records: dict[str, RunRecord]) -> list[PointSummary]:
    """One PointSummary per grid point, over the runs recorded so far. Metrics average over
    the runs that finished ("done"); a diverged or failed run meets no threshold."""
    summaries = []
    for point in plan.grid_points():
        specs = [spec for spec in plan.runs if spec.grid == point]
        found = [records[spec.run_id] for spec in specs if spec.run_id in records]
        finished = [record.numeric_metrics() for record in found if record.outcome == "done"]
        names = list(dict.fromkeys(name for metrics in finished for name in metrics))
        stats = {}
        for name in names:
            values = [m[name] for m in finished if name in m and math.isfinite(m[name])]
            if values:
                stats[name] = MetricStats.of(values)
        thresholds = [
            (claim, sum(1 for metrics in finished if claim.met(metrics)))
            for claim in plan.thresholds
        ]
        outcomes = [record.outcome for record in found]
        summaries.append(
            PointSummary(
                dict(point),
                len(found),
                outcomes.count("done"),
                outcomes.count("diverged"),
                outcomes.count("failed"),
                stats,
                thresholds,
            )
        )
    return summaries


def write_results(out: Path, plan: SweepPlan, records: dict[str, RunRecord]) -> None:
    """sweep.jsonl and sweep.csv, in plan order, each written atomically."""
    ordered = [records[spec.run_id] for spec in plan.runs if spec.run_id in records]
    atomic_write_text(out / RESULTS_JSONL, "".join(json.dumps(r.to_json()) + "\n" for r in ordered))
    metric_names = list(dict.fromkeys(n for r in ordered for n in r.numeric_metrics()))
    columns = ["id", "seed", *plan.grid_keys, "status", "exit_code", "wall_s", *metric_names]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for record in ordered:
        numeric = record.numeric_metrics()
        writer.writerow(
            [
                record.run_id,
                record.seed,
                *(record.grid[key] for key in plan.grid_keys),
                record.status,
                record.exit_code,
                record.wall_s,
                *(repr(numeric[name]) if name in numeric else "" for name in metric_names),
            ]
        )
    atomic_write_text(out / RESULTS_CSV, buffer.getvalue())


def summary_json(plan: SweepPlan, out: Path, points: list[PointSummary]) -> dict:
    return {
        "scenario": plan.scenario.name,
        "file": plan.scenario.source,
        "out": str(out),
        "sets": list(plan.sets),
        "seeds": sorted({spec.seed for spec in plan.runs}),
        "runs": sum(point.runs for point in points),
        "planned": len(plan.runs),
        "done": sum(point.done for point in points),
        "diverged": sum(point.diverged for point in points),
        "failed": sum(point.failed for point in points),
        "points": [point.to_json() for point in points],
    }


def write_summary(out: Path, summary: dict) -> None:
    atomic_write_json(out / SUMMARY_JSON, summary)


def _number(value: float) -> str:
    return f"{value:.4g}"


def point_table(point: PointSummary) -> Table:
    """n, mean +- sd, min and max of every numeric metric of one grid point."""
    counts = f"{point.runs} runs: {point.done} done"
    if point.diverged or point.failed:
        counts += f", {point.diverged} diverged, {point.failed} failed"
    table = Table(title=f"{point.label} ({counts})", title_justify="left")
    for column, justify in (
        ("metric", "left"),
        ("n", "right"),
        ("mean +- sd", "right"),
        ("min", "right"),
        ("max", "right"),
    ):
        table.add_column(column, justify=justify)
    for name, stats in point.metrics.items():
        table.add_row(
            name,
            str(stats.n),
            f"{_number(stats.mean)} +- {_number(stats.sd)}",
            _number(stats.min),
            _number(stats.max),
        )
    for claim, met in point.thresholds:
        table.add_row(f"[bold]{claim}", "", f"[bold]{met} of {point.runs} met", "", "")
    return table


def comparison_table(points: list[PointSummary], metrics: list[str]) -> Table:
    """The grid points side by side (a column each) on a few metrics and on the claims."""
    table = Table(
        title="grid points side by side: mean +- sd over the done runs", title_justify="left"
    )
    table.add_column("")
    single_axis = all(len(point.grid) == 1 for point in points)
    for point in points:
        label = next(iter(point.grid.values())) if single_axis else point.label
        table.add_column(label, justify="right", no_wrap=True)
    if single_axis and points:
        table.columns[0].header = next(iter(points[0].grid))
    table.add_row("runs done", *(f"{point.done} of {point.runs}" for point in points))
    for name in metrics:
        cells = []
        for point in points:
            stats = point.metrics.get(name)
            cells.append(f"{stats.mean:.3g} +- {stats.sd:.2g}" if stats else "-")
        table.add_row(name, *cells)
    for index, (claim, _) in enumerate(points[0].thresholds if points else []):
        table.add_row(str(claim), *(f"{p.thresholds[index][1]} of {p.runs}" for p in points))
    return table
