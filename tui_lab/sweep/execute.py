"""Run a planned sweep: skip what is already on disk, send the rest to Dask, write each
run's files as it finishes, and keep sweep.jsonl / sweep.csv current throughout.

Exit codes: 0 every run ran (a diverged run counts as ran), 1 some failed,
130 interrupted (finished runs stay on disk; the same command resumes).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tui_lab.files import atomic_write_bytes, atomic_write_json
from tui_lab.runner import EXIT_DIVERGED
from tui_lab.scenario import ScenarioError
from tui_lab.sweep import results
from tui_lab.sweep.cluster import dask_client
from tui_lab.sweep.plan import RunSpec, SweepPlan
from tui_lab.sweep.results import RunRecord
from tui_lab.sweep.worker import RunOutcome, RunTask, execute_run

EXIT_OK, EXIT_SOME_FAILED, EXIT_INTERRUPTED = 0, 1, 130
PLAN_JSON = "sweep-plan.json"


@dataclass
class SweepResult:
    exit_code: int
    summary: dict
    points: list[results.PointSummary]
    ran: list[str]  # run ids executed by this call (the rest were on disk already)


def run_dir(out: Path, spec: RunSpec) -> Path:
    return out / "runs" / spec.run_id


def finished_summary(out: Path, spec: RunSpec) -> dict | None:
    """The run's summary.json if it is complete (done or diverged), else None."""
    path = run_dir(out, spec) / "summary.json"
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    status = summary.get("status", "") if isinstance(summary, dict) else ""
    if status != "done" and not status.startswith("diverged"):
        return None  # interrupted, or not ours: run it again
    if summary.get("overrides") != list(spec.overrides):
        raise ScenarioError(
            f"--out {out}: {path} was made with --set {summary.get('overrides')}, this sweep "
            f"gives {list(spec.overrides)}; use another --out or remove that folder"
        )
    return summary


def _check_same_scenario(out: Path, plan: SweepPlan) -> None:
    """Resuming in a folder that holds another scenario's runs would mix them."""
    path = out / PLAN_JSON
    mine = {"scenario": plan.scenario.source, "sha1": plan.scenario_sha1}
    try:
        before = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if before.get("sha1") != mine["sha1"]:
        raise ScenarioError(
            f"--out {out}: holds a sweep of {before.get('scenario')!r} whose scenario file "
            "has changed since (or is another file); use another --out"
        )


def headline(kind: str, numeric: dict[str, float], limit: int = 3) -> dict[str, float]:
    """The metrics a run's progress line shows: the lab's HEADLINE_METRICS if it declares
    them, else its first few numeric metrics."""
    from tui_lab.registry import lab_module

    declared = getattr(lab_module(kind), "HEADLINE_METRICS", ())
    names = [name for name in declared if name in numeric] or list(numeric)[:limit]
    return {name: numeric[name] for name in names[:limit]}


def _write_outcome(folder: Path, outcome: RunOutcome) -> None:
    """The run's files, summary.json last: a complete summary means a complete run."""
    for relative, contents in outcome.files.items():
        if relative != "summary.json":
            atomic_write_bytes(folder / relative, contents)
    if "summary.json" in outcome.files:
        (folder / "error.txt").unlink(missing_ok=True)
        atomic_write_bytes(folder / "summary.json", outcome.files["summary.json"])


def _outcome_or_failure(future) -> RunOutcome | str:
    try:
        return future.result()
    except Exception as error:  # KilledWorker after the retry, a lost scheduler, ...
        name = type(error).__name__
        if name == "KilledWorker":
            return "the worker process died running it, twice (retried once on a new worker)"
        return f"{name}: {error}"


def run_sweep(
    plan: SweepPlan,
    out: Path,
    workers: int | None = None,
    scheduler: str | None = None,
    console: Console | None = None,
    quiet: bool = False,
    task_function: Callable[[RunTask], RunOutcome] = execute_run,
) -> SweepResult:
    """Every run of `plan` not yet finished in `out`, then the aggregate."""
    err = console or Console(stderr=True)
    out.mkdir(parents=True, exist_ok=True)
    _check_same_scenario(out, plan)
    records: dict[str, RunRecord] = {}
    for spec in plan.runs:
        summary = finished_summary(out, spec)
        if summary is not None:
            exit_code = EXIT_OK if summary["status"] == "done" else EXIT_DIVERGED
            records[spec.run_id] = RunRecord.from_summary(spec, summary, exit_code)
    atomic_write_json(
        out / PLAN_JSON,
        {"scenario": plan.scenario.source, "sha1": plan.scenario_sha1, "sets": list(plan.sets)},
    )
    pending = [spec for spec in plan.runs if spec.run_id not in records]
    if records and not quiet:
        err.print(f"{len(records)} of {len(plan.runs)} runs already finished in {out}: skipped")
    ran: list[str] = []
    exit_code = EXIT_OK
    if pending:
        try:
            ran = _execute(
                plan, out, pending, records, workers, scheduler, err, quiet, task_function
            )
        except KeyboardInterrupt:
            exit_code = EXIT_INTERRUPTED
    results.write_results(out, plan, records)
    points = results.aggregate(plan, records)
    summary = results.summary_json(plan, out, points)
    results.write_summary(out, summary)
    if exit_code == EXIT_OK and summary["failed"]:
        exit_code = EXIT_SOME_FAILED
    return SweepResult(exit_code, summary, points, ran)


def _execute(plan, out, pending, records, workers, scheduler, err, quiet, task_function):
    """Submit `pending` and record each as it finishes; returns the ids that ran."""
    tasks = {
        spec.run_id: RunTask(
            spec.run_id,
            plan.scenario_text,
            plan.scenario.source,
            plan.scenario.path.name if plan.scenario.path else None,
            plan.data_files,
            spec.overrides,
        )
        for spec in pending
    }
    specs = {spec.run_id: spec for spec in pending}
    progress = Progress(
        TextColumn("[bold]sweep {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("runs"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
    )
    ran: list[str] = []
    with dask_client(workers, scheduler) as (client, where):
        from dask.distributed import as_completed

        if not quiet:
            err.print(f"{len(pending)} runs of {plan.scenario.stem} on {where}")
        token = f"{time.time_ns():x}"
        futures = {
            client.submit(task_function, task, key=f"tui-lab-{token}-{run_id}", pure=False): run_id
            for run_id, task in tasks.items()
        }
        with progress:
            bar = progress.add_task(
                plan.scenario.stem, total=len(plan.runs), completed=len(records)
            )
            try:
                for future in as_completed(futures):
                    spec = specs[futures[future]]
                    outcome = _outcome_or_failure(future)
                    record = _record(out, spec, outcome)
                    records[spec.run_id] = record
                    ran.append(spec.run_id)
                    results.write_results(out, plan, records)
                    progress.advance(bar)
                    if not quiet:
                        progress.console.print(_line(plan, record))
            except KeyboardInterrupt:
                client.cancel(list(futures))
                if not quiet:
                    progress.console.print(
                        f"interrupted: {len(records)} of {len(plan.runs)} runs on disk in {out}; "
                        "the same command runs the rest"
                    )
                raise
    return ran


def _record(out: Path, spec: RunSpec, outcome: RunOutcome | str) -> RunRecord:
    folder = run_dir(out, spec)
    if isinstance(outcome, str):
        atomic_write_bytes(folder / "error.txt", (outcome + "\n").encode("utf-8"))
        return RunRecord.failed(spec, outcome)
    _write_outcome(folder, outcome)
    if outcome.summary is None:
        return RunRecord.failed(spec, outcome.message, outcome.wall_s)
    return RunRecord.from_summary(spec, outcome.summary, outcome.exit_code)


def _line(plan: SweepPlan, record: RunRecord) -> str:
    style = {"done": "green", "diverged": "yellow", "failed": "red"}[record.outcome]
    shown = headline(plan.scenario.kind, record.numeric_metrics())
    metrics = "  ".join(f"{name} {value:.4g}" for name, value in shown.items())
    detail = metrics if record.outcome != "failed" else record.message
    # The id names the grid values and the seed.
    return f"[{style}]{record.outcome:<8}[/] {record.run_id}  {detail}  {record.wall_s:.1f} s"
