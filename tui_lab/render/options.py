"""How to render: width, theme, colour on/off, zoom, and the selected unit.

The screen, the headless `--show` print and tests all pass one of these to the
panel renderers, so a renderer never asks a terminal or an app anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ZOOMS = ("auto", "values", "colour")


@dataclass(frozen=True)
class Selection:
    """A selected unit: column `col` of matrix `panel`, row `row` of it.

    `units` (Matrix.units) lets every matrix indexing the same space highlight
    the same column; `trace` (Matrix.row_traces[row]) names the Sequence trace
    that colours the input strip.
    """

    panel: str
    row: int
    col: int
    units: str | None = None
    trace: str | None = None

    def label(self) -> str:
        where = self.trace or f"{self.panel}[{self.row}]"
        return f"{where} unit {self.col}"


@dataclass(frozen=True)
class RenderOptions:
    width: int = 100
    dark: bool = True
    color: bool = True
    zoom: str = "auto"
    selection: Selection | None = None
    previous: dict = field(default_factory=dict)
    """panel name -> the same panel in the previous frame, for change marks."""
