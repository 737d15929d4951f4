"""Compare mode: RNN, LSTM and GRU on the same task, side by side, stepping together.

One scenario holds several sequence labs (tui_lab.labs.sequence), one per cell in
model.cells, built from the same seed and trained on the same batch at every update.
A step advances all of them over the same input sequence (forward, then BPTT backward),
and the frame shows each cell's panels under its name, with the training losses on one
plot and, in the backward phase, ||dL/dh_t|| of every cell on one plot.

Parameter, optimizer and extra-state names are prefixed by the cell ("lstm/weight_hh_l0").
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np

from tui_lab.frames import Frame, Series
from tui_lab.labs import _sequence_view as view
from tui_lab.labs import sequence
from tui_lab.labs.base import LOSS_TAIL, OWN_INPUT, Lab, Walk
from tui_lab.scenario import Field, Scenario, ScenarioError

CELLS = ("rnn", "lstm", "gru")
SCHEMA = copy.deepcopy(sequence.SCHEMA)
del SCHEMA["model"]["cell"]
SCHEMA["model"] = {
    "cells": Field("str_list", list(CELLS), doc="which cells run side by side"),
    **SCHEMA["model"],
}
_SHARED = ("input",)  # panels shown once (the input sequence is the same for every cell)
_COMBINED = ("training loss", "gradient norm", "||dL/dh_t||")  # one plot, a line per cell


def check_scenario(scenario) -> None:
    cells = scenario.get("model.cells")
    bad = [cell for cell in cells if cell not in CELLS]
    if bad or not cells or len(set(cells)) != len(cells):
        raise ScenarioError(
            f"{scenario.source}: model.cells: expected distinct cells from "
            f"{', '.join(map(repr, CELLS))}, got {cells!r}"
        )
    for cell in cells:
        sequence.check_scenario(_cell_scenario(scenario, cell))


def _cell_scenario(scenario, cell: str) -> Scenario:
    """The "sequence" scenario of one cell: the same values with model.cell = cell."""
    values = copy.deepcopy(scenario.values)
    values["scenario"]["kind"] = "sequence"
    values["model"].pop("cells")
    values["model"]["cell"] = cell
    schema = {"scenario": scenario.schema["scenario"], **sequence.SCHEMA}
    return Scenario(values, schema, scenario.source, scenario.path)


@dataclass(frozen=True)
class CompareWalk(Walk):
    """One input walked by every cell: input, the Batch they share; cells: cell name ->
    its SequenceWalk (length 2T each: forward, then BPTT)."""

    cells: dict[str, sequence.SequenceWalk] = field(default_factory=dict)


class CompareLab(Lab):
    kind = "compare"
    capabilities = frozenset({OWN_INPUT})

    def __init__(self, scenario):
        super().__init__(scenario)
        self.cells = list(scenario.get("model.cells"))
        self.labs = {cell: sequence.LAB(_cell_scenario(scenario, cell)) for cell in self.cells}
        self.task = self.labs[self.cells[0]].task

    # ---- training: every cell on the same batch --------------------------------------
    def _prefixed(self, getter) -> dict[str, np.ndarray]:
        return {f"{cell}/{k}": v for cell, lab in self.labs.items() for k, v in getter(lab).items()}

    def _split(self, arrays: dict) -> dict[str, dict]:
        parts: dict[str, dict] = {cell: {} for cell in self.cells}
        for key, value in arrays.items():
            cell, _, name = key.partition("/")
            if cell in parts:
                parts[cell][name] = value
        return parts

    def parameters(self):
        return self._prefixed(lambda lab: lab.parameters())

    def optimizer_state(self):
        return self._prefixed(lambda lab: lab.optimizer_state())

    def load_optimizer_state(self, state) -> None:
        for cell, part in self._split(state).items():
            self.labs[cell].load_optimizer_state(part)

    def extra_state(self):
        extra = self._prefixed(lambda lab: lab.extra_state())
        for cell, lab in self.labs.items():
            extra[f"{cell}/loss_history"] = np.asarray(lab.loss_history[-LOSS_TAIL:], np.float64)
        return extra

    def load_extra_state(self, state) -> None:
        for cell, part in self._split(state).items():
            lab = self.labs[cell]
            lab.load_extra_state(part)
            lab.loss_history = [float(v) for v in part.get("loss_history", [])]

    def load_state_arrays(self, arrays) -> None:
        super().load_state_arrays(arrays)
        for lab in self.labs.values():  # every cell made every update (the history is a tail)
            lab.train_step = self.train_step

    def on_live_change(self, dotted: str) -> None:
        for lab in self.labs.values():
            lab.scenario = lab.scenario.with_value(dotted, self.scenario.get(dotted))
            lab.on_live_change(dotted)

    def total_train_steps(self) -> int:
        return self.scenario.get("train.updates")

    def train_one(self) -> float:
        """One update of every cell on the data of update k; the mean of their losses."""
        losses = []
        for lab in self.labs.values():
            lab.train_step = self.train_step  # same k, same batch
            loss = lab.train_one()
            lab.record_loss(loss)
            lab.train_step += 1
            losses.append(loss)
        return float(np.mean(losses)) if all(map(math.isfinite, losses)) else math.nan

    def evaluate(self) -> dict:
        per_cell = {cell: lab.evaluate() for cell, lab in self.labs.items()}
        metrics: dict = {"task": self.task.name, "T": self.task.length}
        metrics["chance"] = round(self.task.chance, 4)
        for cell, found in per_cell.items():
            for key in ("accuracy", "loss", "grad_ratio_init", "grad_ratio_final"):
                metrics[f"{cell}_{key}"] = found[key]
        return metrics

    # ---- stepping: all cells over the same sequence ------------------------------------
    def walk(self, input=None) -> CompareWalk:
        """Every cell over one sequence: the first cell's lab draws or parses it."""
        first = self.labs[self.cells[0]].walk(input)
        walks = {self.cells[0]: first}
        for cell in self.cells[1:]:
            walks[cell] = self.labs[cell].walk(first.input)
        return CompareWalk(first.input, first.length, cells=walks)

    def frame(self, walk: CompareWalk, t: int) -> Frame:
        """Each cell's frame at t, its panels under the cell's name, and one plot per
        quantity that every cell has (losses, gradient norms, ||dL/dh_t||)."""
        frames = {cell: self.labs[cell].frame(walk.cells[cell], t) for cell in self.cells}
        first = frames[self.cells[0]]
        panels = [first.panel("input")]
        for cell, frame in frames.items():
            for panel in frame.panels:
                if panel.name in _SHARED or panel.name in _COMBINED:
                    continue
                panels.append(
                    dataclasses.replace(panel, name=f"{cell.upper()} {panel.name}", group=cell)
                )
        lines = {
            cell: np.asarray(lab.loss_history[-2000:], np.float64)
            for cell, lab in self.labs.items()
        }
        panels.append(Series("training loss", lines, x_label="update"))
        grad = {cell: np.asarray(lab.grad_norms, np.float64) for cell, lab in self.labs.items()}
        positive = all(np.all(v[np.isfinite(v)] > 0) for v in grad.values())
        panels.append(Series("gradient norm", grad, x_label="update", log_y=positive))
        if first.phase == "backward":
            norms = {}
            for cell in self.cells:
                values = view.top_norms(walk.cells[cell]).copy()
                values[: first.t] = np.nan
                norms[cell] = values
            positive = all(np.all(v[~np.isnan(v)] > 0) for v in norms.values())
            panels.append(Series("||dL/dh_t||", norms, x_label="t", marker=first.t, log_y=positive))
        loss = self.loss_history[-1] if self.loss_history else None
        title = f"{self.scenario.name} - {' / '.join(c.upper() for c in self.cells)}"
        return Frame(
            title,
            first.t,
            first.T,
            panels,
            phase=first.phase,
            train_step=self.train_step,
            loss=loss,
            status=first.status,
        )

    def warmup_tasks(self):
        return [task for lab in self.labs.values() for task in lab.warmup_tasks()]


LAB = CompareLab
HEADLINE_METRICS = ("rnn_accuracy", "lstm_accuracy", "gru_accuracy")
