"""Selecting a unit: from a click on a cell, or moved with [ ] { } keys.

Pure functions over Frames, so they are tested without a screen.
"""

from __future__ import annotations

from tui_lab.frames import Frame, Matrix
from tui_lab.render.options import Selection


def select_cell(frame: Frame, panel: str, row: int, col: int) -> Selection | None:
    try:
        matrix = frame.panel(panel)
    except KeyError:
        return None
    if not isinstance(matrix, Matrix):
        return None
    rows, cols = matrix.shape
    row, col = row % rows, col % cols
    trace = matrix.row_traces[row] if matrix.row_traces else None
    return Selection(panel, row, col, matrix.units, trace)


def first_selectable(frame: Frame) -> Matrix | None:
    """The first matrix with unit traces (h_t), else one with units, else any matrix."""
    matrices = frame.panels_of(Matrix)
    for wanted in (lambda m: m.row_traces, lambda m: m.units, lambda m: True):
        for matrix in matrices:
            if wanted(matrix):
                return matrix
    return None


def move(selection: Selection | None, frame: Frame | None, d_col: int, d_row: int):
    """The selection moved by columns/rows (wrapping); starts on `first_selectable`."""
    if frame is None:
        return selection
    if selection is None or _missing(frame, selection.panel):
        matrix = first_selectable(frame)
        return select_cell(frame, matrix.name, 0, 0) if matrix is not None else None
    return select_cell(frame, selection.panel, selection.row + d_row, selection.col + d_col)


def _missing(frame: Frame, name: str) -> bool:
    try:
        return not isinstance(frame.panel(name), Matrix)
    except KeyError:
        return True
