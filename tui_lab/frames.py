"""Frames: immutable snapshots of a lab that every view renders.

A lab decides *what* to show by filling a Frame with named panels; the screen,
the headless `--show` print and SVG export decide *how*, from the panel kinds
alone. Arrays are copied and made read-only on construction, so the screen can
draw one Frame while the compute thread builds the next.

Panel kinds:
- Matrix:   a 2-D table of numbers with row/column labels and a colour scale.
- Sequence: the input (characters, words or bit vectors) with the current
            position marked, plus per-unit traces so a selected unit can
            colour the whole strip.
- Series:   one or more lines over an x axis (loss per training step,
            gradient norm per time step).
- Scalars:  named numbers or short strings (loss, accuracy, beta, gamma).
- Text:     free text (generated text), optionally with a per-character
            value to colour it by.
- TopK:     ranked predictions (token, probability), e.g. the next character.

A panel's `group` says what it is about. The screen places matrices of group
"memory" (a memory network's memory and its heads' weightings) first and full
width, and those of group "history" (weightings over time) side by side below;
every other panel goes where its kind goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Scale = Literal["diverging", "unit", "positive"]
"""Colour scales: "diverging" is signed around 0 (h_t, weights, gradients),
"unit" is 0..1 (gates, probabilities, attention weightings), "positive" is
0..max (norms, counts)."""


def _frozen(array, dtype=np.float64) -> np.ndarray:
    """A read-only array of `array`. An array that is already read-only and of `dtype` is
    kept as it is, not copied: a lab's Walk hands its whole-sequence traces to every
    frame as read-only views, and a copy per frame would cost O(T) per step."""
    if isinstance(array, np.ndarray) and array.dtype == dtype and not array.flags.writeable:
        return array
    copy = np.array(array, dtype=dtype, copy=True)
    copy.setflags(write=False)
    return copy


@dataclass(frozen=True)
class Matrix:
    """A table of numbers. values: [rows, cols].

    `units` names the space the *columns* index (for example "hidden" for the
    H units of h_t): selecting column j in one panel highlights column j in
    every panel with the same `units`. `row_traces` maps each row to a trace
    name in the frame's Sequence panel, so selecting (row, col) colours the
    input strip by that unit's value at every step.
    """

    name: str
    values: np.ndarray
    scale: Scale = "diverging"
    row_labels: tuple[str, ...] | None = None
    col_labels: tuple[str, ...] | None = None
    units: str | None = None
    row_traces: tuple[str | None, ...] | None = None
    caption: str = ""
    group: str = "state"
    focus: int | None = None
    compact: bool = False

    def __post_init__(self):
        values = np.asarray(self.values)
        if values.ndim == 1:
            values = values[None, :]
        if values.ndim != 2:
            raise ValueError(f"Matrix {self.name!r}: values must be 1-D or 2-D, got {values.shape}")
        object.__setattr__(self, "values", _frozen(values))
        rows, cols = self.values.shape
        if self.row_labels is not None and len(self.row_labels) != rows:
            raise ValueError(
                f"Matrix {self.name!r}: {len(self.row_labels)} row labels, {rows} rows"
            )
        if self.col_labels is not None and len(self.col_labels) != cols:
            raise ValueError(
                f"Matrix {self.name!r}: {len(self.col_labels)} col labels, {cols} cols"
            )
        if self.row_traces is not None and len(self.row_traces) != rows:
            raise ValueError(
                f"Matrix {self.name!r}: {len(self.row_traces)} row traces, {rows} rows"
            )

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape


@dataclass(frozen=True)
class Sequence:
    """The input sequence with the current position marked.

    tokens: one display string per step (a character, a word, or "" for bit
    vectors). bits: [T, width] for bit-vector inputs (NTM tasks), else None.
    position: the current step (0-based), or -1 before the first step.
    traces: name -> [T, U] values per step and unit, for colouring the strip
    by a selected unit (keys match Matrix.row_traces).
    """

    name: str
    tokens: tuple[str, ...]
    position: int = -1
    bits: np.ndarray | None = None
    traces: dict[str, np.ndarray] = field(default_factory=dict)
    targets: tuple[str, ...] | None = None
    group: str = "input"

    def __post_init__(self):
        object.__setattr__(self, "tokens", tuple(str(token) for token in self.tokens))
        if self.bits is not None:
            object.__setattr__(self, "bits", _frozen(self.bits))
        object.__setattr__(
            self, "traces", {key: _frozen(value) for key, value in self.traces.items()}
        )


@dataclass(frozen=True)
class Series:
    """Lines over an x axis. lines: name -> [N] values (NaN for gaps)."""

    name: str
    lines: dict[str, np.ndarray]
    x_label: str = "step"
    x_values: np.ndarray | None = None
    log_y: bool = False
    marker: int | None = None
    group: str = "series"

    def __post_init__(self):
        object.__setattr__(self, "lines", {key: _frozen(v) for key, v in self.lines.items()})
        if self.x_values is not None:
            object.__setattr__(self, "x_values", _frozen(self.x_values))


@dataclass(frozen=True)
class Scalars:
    """Named numbers or short strings, shown as a small key/value table."""

    name: str
    values: dict[str, float | int | str]
    group: str = "metrics"

    def __post_init__(self):
        object.__setattr__(self, "values", dict(self.values))


@dataclass(frozen=True)
class Text:
    """Free text. `values` ([len(text)], optional) colours each character."""

    name: str
    text: str
    values: np.ndarray | None = None
    scale: Scale = "unit"
    group: str = "text"

    def __post_init__(self):
        if self.values is not None:
            object.__setattr__(self, "values", _frozen(self.values))


@dataclass(frozen=True)
class TopK:
    """Ranked predictions: (label, probability) best first; `target` marks the truth."""

    name: str
    items: tuple[tuple[str, float], ...]
    target: str | None = None
    group: str = "metrics"

    def __post_init__(self):
        object.__setattr__(
            self, "items", tuple((str(label), float(prob)) for label, prob in self.items)
        )


Panel = Matrix | Sequence | Series | Scalars | Text | TopK


@dataclass(frozen=True)
class Frame:
    """One snapshot of a lab.

    t: the current time step (0-based; -1 before the first step), T: steps in
    the current input, phase: "forward" or "backward" (BPTT stepping),
    train_step: optimizer updates so far, loss: the last training loss.
    """

    title: str
    t: int
    T: int
    panels: tuple[Panel, ...]
    phase: str = "forward"
    train_step: int = 0
    loss: float | None = None
    status: str = ""

    def __post_init__(self):
        object.__setattr__(self, "panels", tuple(self.panels))
        names = [panel.name for panel in self.panels]
        duplicates = {name for name in names if names.count(name) > 1}
        if duplicates:
            raise ValueError(f"Frame {self.title!r}: duplicate panel names {sorted(duplicates)}")

    def panel(self, name: str) -> Panel:
        for panel in self.panels:
            if panel.name == name:
                return panel
        raise KeyError(f"no panel named {name!r} in frame {self.title!r}")

    def panels_of(self, kind: type) -> list:
        return [panel for panel in self.panels if isinstance(panel, kind)]
