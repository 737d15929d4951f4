"""Headless runs: train a scenario to the end, with progress, outputs and exit codes.

Exit codes: 0 done, 2 bad input, 3 diverged (NaN/Inf; the last good checkpoint
is kept), 130 interrupted (a checkpoint of the last finished update is saved
first). Every file is written atomically.
"""

from __future__ import annotations

import json
import math
import time
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
from rich.table import Table

from tui_lab.files import atomic_write_json, atomic_write_text
from tui_lab.interop import save_weights
from tui_lab.labs.base import Diverged, Lab
from tui_lab.registry import build_lab, read_checkpoint
from tui_lab.scenario import Scenario, ScenarioError

EXIT_OK, EXIT_BAD_INPUT, EXIT_DIVERGED, EXIT_INTERRUPTED = 0, 2, 3, 130


@dataclass
class RunResult:
    exit_code: int
    summary: dict
    lab: Lab


def _chunk_size(total: int) -> int:
    return max(1, min(1000, total // 200 or 1))


def run(
    scenario: Scenario,
    out_dir: Path | None = None,
    resume: Path | None = None,
    console: Console | None = None,
    quiet: bool = False,
) -> RunResult:
    """Train `scenario` for its full length; write outputs to out_dir if given."""
    err = console or Console(stderr=True)
    if resume is not None:
        checkpoint = Path(resume) / "checkpoint.npz"
        if not checkpoint.exists():
            raise ScenarioError(f"--resume {resume}: no checkpoint.npz in that folder")
        lab = build_lab(scenario, initial_weights=False)
        try:
            lab.load_state_arrays(read_checkpoint(checkpoint))
        except (ValueError, KeyError, OSError) as error:
            raise ScenarioError(f"--resume {checkpoint}: cannot load: {error}") from None
        out_dir = out_dir or Path(resume)
    else:
        lab = build_lab(scenario)
    total = lab.total_train_steps()
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
    metrics_lines: list[str] = []
    if resume is not None and out_dir is not None and (out_dir / "metrics.jsonl").exists():
        metrics_lines = (out_dir / "metrics.jsonl").read_text().splitlines()
    good_state = lab.state_arrays()
    start = time.perf_counter()
    exit_code = EXIT_OK
    status = "done"
    diverged_at = None

    def save_good() -> None:
        if out_dir is not None:
            from tui_lab.files import atomic_save_npz

            atomic_save_npz(out_dir / "checkpoint.npz", good_state)

    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("loss {task.fields[loss]}"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        disable=quiet,
        transient=False,
    )
    chunk = _chunk_size(total)
    last_saved = -math.inf  # save after the first chunk, then every 30 s
    try:
        with progress:
            task = progress.add_task(scenario.stem, total=total, completed=lab.train_step, loss="-")
            while lab.train_step < total:
                n = min(chunk, total - lab.train_step)
                before = lab.train_step

                def report(done: int, metrics: dict, before=before) -> None:
                    progress.update(task, completed=before + done, loss=f"{metrics['loss']:.4f}")

                metrics = lab.train(n, report)
                good_state = lab.state_arrays()
                record = {
                    "step": lab.train_step,
                    "loss": metrics.get("loss"),
                    "wall_s": round(time.perf_counter() - start, 3),
                }
                metrics_lines.append(json.dumps(record))
                progress.update(task, completed=lab.train_step, loss=f"{metrics['loss']:.4f}")
                if out_dir is not None and time.perf_counter() - last_saved > 30:
                    save_good()
                    atomic_write_text(out_dir / "metrics.jsonl", "\n".join(metrics_lines) + "\n")
                    last_saved = time.perf_counter()
    except Diverged as error:
        exit_code, status = EXIT_DIVERGED, f"diverged: {error}"
        diverged_at = error.step
        lab.load_state_arrays(good_state)
    except KeyboardInterrupt:
        # The update under way may be half applied: go back to the last finished one.
        exit_code, status = EXIT_INTERRUPTED, "interrupted"
        lab.load_state_arrays(good_state)
    wall = time.perf_counter() - start
    if exit_code == EXIT_OK:
        metrics = lab.evaluate()
    else:
        metrics = {"loss": _last_finite(lab.loss_history)}
    summary = {
        "scenario": scenario.name,
        "file": scenario.source,
        "kind": scenario.kind,
        "seed": scenario.seed,
        "steps": lab.train_step,
        "total_steps": total,
        "wall_s": round(wall, 3),
        "status": status,
        "overrides": scenario.overrides,
        "metrics": metrics,
    }
    if diverged_at is not None:
        summary["diverged_at_update"] = diverged_at  # steps is the last good checkpoint's
    if out_dir is not None:
        save_good()
        atomic_write_text(
            out_dir / "metrics.jsonl", "\n".join(metrics_lines) + ("\n" if metrics_lines else "")
        )
        # torch's state-dict names, for model.load_state_dict(safetensors.torch.load_file(...))
        save_weights(lab, out_dir / "model.safetensors")
        if exit_code == EXIT_OK:
            summary["artifacts"] = ["model.safetensors", *lab.write_artifacts(out_dir)]
        atomic_write_json(out_dir / "summary.json", summary)
    return RunResult(exit_code, summary, lab)


def _last_finite(values: list[float]) -> float | None:
    for value in reversed(values):
        if math.isfinite(value):
            return value
    return None


def metrics_table(summary: dict) -> Table:
    table = Table(title=f"{summary['scenario']} ({summary['status']})", title_justify="left")
    table.add_column("metric", style="bold")
    table.add_column("value", overflow="fold")
    table.add_row("steps", f"{summary['steps']} / {summary['total_steps']}")
    table.add_row("wall time", f"{summary['wall_s']:.2f} s")
    for key, value in summary["metrics"].items():
        if isinstance(value, float):
            shown = f"{value:.6g}"
        elif isinstance(value, dict | list):
            shown = json.dumps(value)
        else:
            shown = str(value)
        table.add_row(key, shown)
    return table
