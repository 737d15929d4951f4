"""One box per Frame panel. The boxes only draw what render/ gives them.

A box is created from a panel's kind and name, and `show(panel, options)`
redraws it with the current frame's panel. MatrixBox keeps the heatmap's
Layout so a click lands on exactly the cell drawn under the mouse, and wraps
the cells in a sideways scroller for matrices wider than the screen.
"""

from __future__ import annotations

import dataclasses
from dataclasses import replace

import numpy as np
from textual.containers import HorizontalScroll, Vertical
from textual.message import Message

from tui_lab import frames
from tui_lab.app.widgets.lines import LinesView
from tui_lab.render import RenderOptions, render_panel
from tui_lab.render.heatmap import Layout, heatmap_lines, matrix_head, matrix_title

FALLBACK_WIDTH = 60


class CellClicked(Message):
    def __init__(self, panel: str, row: int, col: int):
        super().__init__()
        self.panel = panel
        self.row = row
        self.col = col


class PanelBox(Vertical):
    """A bordered box titled with the panel's name, holding its renderable."""

    def __init__(self, panel: frames.Panel, *children, **kwargs):
        kind = type(panel).__name__.lower()
        super().__init__(*children, classes=f"panel {kind}", **kwargs)
        self.panel_name = panel.name
        self.border_title = panel.name
        self.stale = False  # skipped while out of sight; drawn when scrolled back in
        self.shown: tuple | None = None  # the last (panel, options), redrawn on resize
        self.laid_out_width: int | None = None
        self.drawn_width: int | None = None  # the width the content was drawn for

    def available_width(self) -> int:
        """The content width; while not laid out (new, or hidden: Textual sizes a hidden
        widget 0), the width it last had, which it gets again when shown in the same
        place, so a box shown again draws once, not at a guess and again."""
        width = self.content_size.width
        if width > 4:
            self.laid_out_width = width
        return self.laid_out_width or FALLBACK_WIDTH

    def settled(self) -> bool:
        """Drawn for its current width and laid out to the height of what it drew."""
        return self.drawn_width == self.content_size.width and all(
            view.size.height == view.line_count for view in self.query(LinesView)
        )

    def show(self, panel: frames.Panel, options: RenderOptions) -> None:
        self.shown = (panel, options)
        self.draw(panel, options)

    def draw(self, panel: frames.Panel, options: RenderOptions) -> None:
        raise NotImplementedError

    def blank(self) -> None:
        """Empty the box but keep its size (a panel the current frame lacks and the next
        one fills: the screen before the first step). The next show draws it again."""
        self.shown = None
        self._signature = None
        for view in self.query(LinesView):
            view.blank()

    def on_resize(self) -> None:
        # A box drawn before its first layout used FALLBACK_WIDTH; a window of slots
        # chosen for that width would stay until the next frame (never, when paused).
        # Redrawing is cheap when nothing changed: the signature includes the width. After
        # this layout pass, not inside it: a new width asked for inside it was lost (the
        # cells kept the fallback width on a real terminal).
        if self.shown is not None:
            self.call_after_refresh(self._redraw)

    def _redraw(self) -> None:
        if self.shown is not None:  # not blanked since
            self.draw(*self.shown)


class GenericBox(PanelBox):
    """Sequence, Series, Scalars, TopK and Text panels."""

    def __init__(self, panel: frames.Panel):
        self.body = LinesView(classes="body")
        super().__init__(panel, self.body)
        self._signature = None

    def draw(self, panel, options):
        width = self.drawn_width = self.available_width()
        signature = (panel_signature(panel), width, options.dark, options.color, options.selection)
        if signature == self._signature:
            return  # the loss curve and metrics rarely change between two steps
        self._signature = signature
        self.body.set_renderable(render_panel(panel, replace(options, width=width)), width)


class HeatmapCells(LinesView):
    """The heatmap; clicks map to (row, col) through the heatmap's Layout."""

    layout: Layout | None = None

    def __init__(self, panel_name: str):
        super().__init__(classes="cells")
        self.panel_name = panel_name

    def on_click(self, event) -> None:
        offset = event.get_content_offset(self)
        if offset is None or self.layout is None:
            return
        cell = self.layout.cell_at(offset.x, offset.y)
        if cell is not None:
            event.stop()
            self.post_message(CellClicked(self.panel_name, *cell))


class MatrixBox(PanelBox):
    def __init__(self, panel: frames.Matrix):
        self.head = LinesView(classes="head")
        self.cells = HeatmapCells(panel.name)
        self.scroller = HorizontalScroll(self.cells, classes="scroller")
        super().__init__(panel, self.head, self.scroller)
        self._signature = None

    def draw(self, panel, options):
        options = replace(options, width=self.available_width())
        self.drawn_width = options.width
        signature = _signature(panel, options)
        if signature == self._signature:
            return  # same numbers, same marks: nothing to draw (weights between updates)
        self._signature = signature
        lines, layout = heatmap_lines(panel, options)
        self.cells.layout = layout
        self.cells.set_lines(lines, layout.width, drawn_for=options.width)
        self.head.set_renderable(matrix_head(panel, options, layout), options.width)
        self.border_title = matrix_title(panel, layout)  # names the scale (x1e-4) when scaled


def _hashable(value):
    if isinstance(value, np.ndarray):
        return (value.shape, hash(value.tobytes()))
    if isinstance(value, dict):
        return tuple((key, _hashable(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    return value


def panel_signature(panel: frames.Panel) -> tuple:
    """A hashable fingerprint of a panel's content (arrays hashed by their bytes)."""
    return (type(panel).__name__,) + tuple(
        _hashable(getattr(panel, field.name)) for field in dataclasses.fields(panel)
    )


def _signature(panel: frames.Matrix, options: RenderOptions) -> tuple:
    previous = options.previous.get(panel.name)
    previous_key = None
    if isinstance(previous, frames.Matrix) and previous.shape == panel.shape:
        previous_key = hash(previous.values.tobytes())
    return (
        hash(panel.values.tobytes()),
        panel.shape,
        previous_key,
        options.width,
        options.dark,
        options.color,
        options.zoom,
        options.selection,
        panel.caption,
    )


def box_for(panel: frames.Panel) -> PanelBox:
    if isinstance(panel, frames.Matrix):
        return MatrixBox(panel)
    return GenericBox(panel)
