"""A Matrix panel as a heatmap: coloured cells, values where they fit, labels.

The heatmap is plain Rich Text with one line per row (plus a header line per
band of columns), laid out by `layout_for`. The same Layout answers "which
cell is at (x, y)?", so a click on the screen selects exactly the cell drawn
there.

Layouts:
- values: each cell prints its number in 5 characters; a matrix wider than the
  space wraps into bands of columns (a 50-unit h_t becomes 3 bands of 17);
- colour: 2 or 1 characters per cell, colour only, one band (the screen
  scrolls sideways if even that is too wide, unless the matrix names a `focus`
  column: then the band is a window of the columns around it, and the head
  says which, e.g. "slots 29-99 of 128"). A `compact` matrix puts two rows on
  each line: "▀" in the upper row's colour on the lower row's colour.
"auto" prints values when they fit in a few bands and falls back to colour.

Scale: numbers far from 1 (BPTT's dL/dh_t is ~1e-4) would all print "0.00", so
the values layout prints them in the panel's scale: the title says "x1e-4" and
each cell shows its mantissa (see `value_exponent`).

Marks: cells that changed since the previous frame are underlined (values) or
carry a dot (colour); the selected unit's column is reversed (values) or
carries a bar (colour), in every matrix indexing the same units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from tui_lab.frames import Matrix
from tui_lab.render import colors
from tui_lab.render.options import RenderOptions

VALUE_WIDTH = 5
MAX_LABEL = 8
AUTO_MAX_LINES = 14
CHANGED_FRACTION = 0.01


@dataclass(frozen=True)
class Layout:
    """Geometry of a drawn heatmap. x, y are relative to the heatmap's first line."""

    rows: int
    label_width: int
    cell: int
    gap: int
    bands: tuple[tuple[int, int], ...]
    values: bool
    rows_per_line: int = 1

    @property
    def lines_per_band(self) -> int:
        """Lines of cells in a band (a header line comes on top of them)."""
        return -(-self.rows // self.rows_per_line)

    matrix_cols: int | None = None
    """Columns of the matrix (None: the last band's end), when only a window is drawn."""

    @property
    def cols(self) -> int:
        return self.matrix_cols if self.matrix_cols is not None else self.bands[-1][1]

    @property
    def windowed(self) -> bool:
        """True when only a window of the columns is drawn (see `layout_for`)."""
        return self.bands[0][0] > 0 or self.bands[-1][1] < self.cols

    @property
    def pitch(self) -> int:
        return self.cell + self.gap

    @property
    def width(self) -> int:
        """Cells across: row labels, a space, the widest band."""
        widest = max(stop - start for start, stop in self.bands)
        return self.label_width + 1 + widest * self.pitch

    @property
    def height(self) -> int:
        return len(self.bands) * (self.lines_per_band + 1)

    def cell_at(self, x: int, y: int) -> tuple[int, int] | None:
        """The (row, col) drawn at column x, line y, or None (labels, gaps, outside).

        On a compact line (two rows) this is the upper row."""
        band_height = self.lines_per_band + 1
        band, line = divmod(y, band_height)
        if y < 0 or band >= len(self.bands) or line == 0:
            return None
        offset = x - self.label_width - 1
        if offset < 0:
            return None
        index, within = divmod(offset, self.pitch)
        if within >= self.cell:
            return None
        start, stop = self.bands[band]
        col = start + index
        return ((line - 1) * self.rows_per_line, col) if col < stop else None


def _row_labels(matrix: Matrix) -> list[str]:
    rows = matrix.shape[0]
    labels = matrix.row_labels or tuple(str(i) for i in range(rows))
    return [label[:MAX_LABEL] for label in labels]


def layout_for(matrix: Matrix, width: int, zoom: str = "auto", color: bool = True) -> Layout:
    rows, cols = matrix.shape
    label_width = max(1, max(len(label) for label in _row_labels(matrix)))
    available = max(1, width - label_width - 1)
    per_band = max(1, available // (VALUE_WIDTH + 1))
    bands_needed = math.ceil(cols / per_band)
    use_values = zoom == "values" or (
        zoom == "auto" and bands_needed * (rows + 1) <= max(AUTO_MAX_LINES, rows + 1)
    )
    if zoom == "auto" and cols * (VALUE_WIDTH + 1) <= available:
        use_values = True
    if use_values:
        bands = tuple((s, min(cols, s + per_band)) for s in range(0, cols, per_band))
        return Layout(rows, label_width, VALUE_WIDTH, 1, bands, True)
    cell = 2 if cols * 2 <= available else 1
    band = (0, cols)
    if cols > available and matrix.focus is not None:
        start = min(max(0, matrix.focus - available // 2), cols - available)
        band = (start, start + available)
    # Half blocks need two colours per character: without colour, one row per line.
    per_line = 2 if matrix.compact and color and rows > 1 else 1
    return Layout(rows, label_width, cell, 0, (band,), False, per_line, cols)


def format_value(value: float, width: int = VALUE_WIDTH) -> str:
    """A number in exactly `width` characters (right-aligned)."""
    if math.isnan(value):
        return "nan".rjust(width)
    if math.isinf(value):
        return ("inf" if value > 0 else "-inf").rjust(width)
    for digits in (2, 1, 0):
        text = f"{value:.{digits}f}"
        if len(text) <= width:
            return text.rjust(width)
    return f"{value:.0e}".replace("e+0", "e").replace("e-0", "e-")[:width].rjust(width)


SMALLEST_UNSCALED = 0.1  # a range of 0.1 or less prints scaled
LARGEST_UNSCALED = 1000.0


def value_exponent(matrix: Matrix) -> int:
    """The power of ten the printed numbers are divided by (0: printed as they are).

    Five characters hold two decimals, so a panel whose colour range (`colors.value_range`,
    rounded up to 1, 2 or 5 of a decade) is 0.1 or less would print mostly "0.00", and one
    above 1000 would lose its decimals or print "1e6". Scaled, the largest value's mantissa
    is 1..9.99 (three digits); the exponent changes only where the largest value crosses a
    power of ten. "unit" panels (0..1) never scale.
    """
    if matrix.scale == "unit":
        return 0
    finite = matrix.values[np.isfinite(matrix.values)]
    top = float(np.max(np.abs(finite))) if finite.size else 0.0
    if top == 0.0 or SMALLEST_UNSCALED < colors.nice_ceiling(top) <= LARGEST_UNSCALED:
        return 0
    return math.floor(math.log10(top) + 1e-9)


def scale_text(exponent: int) -> str:
    """`x1e-4`: what the printed numbers are multiplied by ("" when unscaled)."""
    return f"x1e{exponent}" if exponent else ""


def matrix_title(matrix: Matrix, layout: Layout) -> str:
    """The panel's name, plus its scale when the cells print scaled numbers."""
    scale = scale_text(value_exponent(matrix)) if layout.values else ""
    return f"{matrix.name} ({scale})" if scale else matrix.name


def changed_mask(matrix: Matrix, previous, span: colors.Range) -> np.ndarray:
    """Cells that moved by more than 1% of the colour range since `previous`."""
    if not isinstance(previous, Matrix) or previous.shape != matrix.shape:
        return np.zeros(matrix.shape, dtype=bool)
    tolerance = CHANGED_FRACTION * (span.hi - span.lo)
    with np.errstate(invalid="ignore"):
        return np.abs(matrix.values - previous.values) > tolerance


DIM = Style(dim=True)
BOLD = Style(bold=True)
MARKED = Style(bold=True, reverse=True)
PLAIN = Style()


def _header(matrix: Matrix, layout: Layout, start: int, stop: int, selected) -> list[Segment]:
    segments = [Segment(" " * (layout.label_width + 1), PLAIN)]
    labels = matrix.col_labels
    if layout.values:
        gap = Segment(" " * layout.gap, PLAIN)
        for col in range(start, stop):
            label = labels[col] if labels else str(col)
            cell = label[-layout.cell :].rjust(layout.cell)
            segments.append(Segment(cell, MARKED if col == selected else DIM))
            segments.append(gap)
        return segments
    # Colour cells are too narrow for labels: short labels fit, else ticks every 5.
    # Labels that fill a 2-wide cell would touch ("101112"): those get ticks too.
    longest = max((len(label) for label in labels), default=0) if labels else 0
    short = labels is not None and (longest == 1 or longest < layout.cell)
    buffer = [" "] * ((stop - start) * layout.pitch)
    for col in range(start, stop):
        at = (col - start) * layout.pitch
        label = (labels[col] if labels else str(col)) if short else None
        if label is None and col % 5 == 0:
            label = labels[col] if labels else str(col)
        # A label cut at the right edge ("7" of "70") would name the wrong column.
        fits = label is not None and at + len(label) <= len(buffer)
        if fits and all(ch == " " for ch in buffer[at : at + len(label)]):
            buffer[at : at + len(label)] = list(label)
    line = "".join(buffer)
    if selected is not None and start <= selected < stop:
        at = (selected - start) * layout.pitch
        segments += [
            Segment(line[:at], DIM),
            Segment(line[at : at + layout.cell], MARKED),
            Segment(line[at + layout.cell :], DIM),
        ]
    else:
        segments.append(Segment(line, DIM))
    return segments


def heatmap_lines(matrix: Matrix, options: RenderOptions) -> tuple[list[list[Segment]], Layout]:
    """The heatmap as lines of Segments (what the screen draws) and its Layout."""
    layout = layout_for(matrix, options.width, options.zoom, options.color)
    span = colors.value_range(matrix.scale, matrix.values)
    lvls = colors.levels(matrix.values, span).tolist()
    changed = changed_mask(matrix, options.previous.get(matrix.name), span).tolist()
    selection = options.selection
    selected_col = None
    if selection is not None:
        same_space = selection.units is not None and selection.units == matrix.units
        if same_space or selection.panel == matrix.name:
            selected_col = selection.col
    selected_row = selection.row if selection and selection.panel == matrix.name else None
    labels = _row_labels(matrix)
    lines: list[list[Segment]] = []
    if layout.values:
        row_cells = _value_cells(matrix, lvls, changed, selected_col, layout, options)
    elif layout.rows_per_line == 2:
        row_cells = _half_block_cells(matrix, lvls, layout, options)
    else:
        row_cells = _colour_cells(matrix, lvls, changed, selected_col, layout, options)
    for start, stop in layout.bands:
        lines.append(_header(matrix, layout, start, stop, selected_col))
        for row in range(0, layout.rows, layout.rows_per_line):
            on_line = range(row, row + layout.rows_per_line)
            label_style = MARKED if selected_row in on_line else BOLD
            line = [Segment(labels[row].rjust(layout.label_width), label_style)]
            line.extend(row_cells(row, start, stop))
            lines.append(line)
    return lines, layout


def _value_cells(matrix, lvls, changed, selected_col, layout: Layout, options: RenderOptions):
    """row, start, stop -> Segments: a separator, then each value and its gap."""
    values = (matrix.values / 10.0 ** value_exponent(matrix)).tolist()
    gap = Segment(" " * layout.gap, PLAIN)
    open_mark, close_mark = Segment("›", BOLD), Segment("‹", BOLD)  # around the selected unit

    def cells(row: int, start: int, stop: int) -> list[Segment]:
        out = [Segment(" ", PLAIN)]
        for col in range(start, stop):
            selected = col == selected_col
            if selected:
                out[-1] = open_mark
            text = format_value(values[row][col], layout.cell)
            lvl, moved = lvls[row][col], changed[row][col]
            if options.color:
                style = colors.cell_style(lvl, matrix.scale, options.dark, selected, moved)
            else:
                style = colors.plain_style(underline=moved, reverse=selected)
            out.append(Segment(text, style))
            out.append(close_mark if selected else gap)
        return out

    return cells


def _colour_cells(matrix, lvls, changed, selected_col, layout: Layout, options: RenderOptions):
    """row, start, stop -> Segments of colour-only cells, runs of equal cells merged.

    Merging matters: a 128x37 weighting history is 4,736 cells, mostly near 0.
    """
    finite = np.isfinite(matrix.values).tolist()
    scale, dark, cell = matrix.scale, options.dark, layout.cell
    levels = range(-colors.LEVELS, colors.LEVELS + 1)
    if options.color:
        plain = {lvl: colors.cell_style(lvl, scale, dark) for lvl in levels}
        marked = {lvl: colors.cell_style(lvl, scale, dark, True) for lvl in levels}
        fill = {lvl: " " * cell for lvl in levels}
    else:
        plain = marked = {lvl: colors.plain_style() for lvl in levels}
        fill = {lvl: colors.glyph(lvl) * cell for lvl in levels}
    pad = " " * (cell - 1)

    def cells(row: int, start: int, stop: int) -> list[Segment]:
        out = [Segment(" ", PLAIN)]
        run_text, run_style = "", None
        for col in range(start, stop):
            lvl = lvls[row][col]
            selected, moved = col == selected_col, changed[row][col]
            if finite[row][col] and not selected and not moved:
                style = plain[lvl]
                if style is run_style:
                    run_text += fill[lvl]
                    continue
                if run_style is not None:
                    out.append(Segment(run_text, run_style))
                run_text, run_style = fill[lvl], style
                continue
            if run_style is not None:
                out.append(Segment(run_text, run_style))
                run_text, run_style = "", None
            if not finite[row][col]:
                out.append(Segment("?" * cell, colors.plain_style(bold=True)))
            elif options.color:
                mark = "┃" if selected else "•"
                out.append(Segment(mark + pad, marked[lvl] if selected else plain[lvl]))
            else:
                style = colors.plain_style(underline=moved, reverse=selected)
                out.append(Segment(fill[lvl], style))
        if run_style is not None:
            out.append(Segment(run_text, run_style))
        return out

    return cells


def _half_block_cells(matrix, lvls, layout: Layout, options: RenderOptions):
    """top row, start, stop -> Segments: "▀" in the top row's colour on the next row's.

    Halves the height of a tall colour-only panel (a 20-feature memory, a 32-slot
    weighting history). No change or selection marks fit in a half block: the header
    still marks the selected column.
    """
    finite = np.isfinite(matrix.values).tolist()
    scale, dark, cell, rows = matrix.scale, options.dark, layout.cell, layout.rows
    fill, blank = "▀" * cell, " " * cell
    unknown = Segment("?" * cell, colors.plain_style(bold=True))

    def cells(row: int, start: int, stop: int) -> list[Segment]:
        out = [Segment(" ", PLAIN)]
        run_text, run_style = "", None
        upper, lower = lvls[row], lvls[row + 1] if row + 1 < rows else None
        for col in range(start, stop):
            if not finite[row][col] or (lower is not None and not finite[row + 1][col]):
                if run_style is not None:
                    out.append(Segment(run_text, run_style))
                run_text, run_style = "", None
                out.append(unknown)
                continue
            below = lower[col] if lower is not None else None
            style = colors.half_block_style(upper[col], below, scale, dark)
            # Two equal halves are a plain coloured cell: the block then marks only the
            # cells whose rows differ, which also reads in a copy of the screen's text.
            text = blank if below == upper[col] else fill
            if style is run_style:
                run_text += text
                continue
            if run_style is not None:
                out.append(Segment(run_text, run_style))
            run_text, run_style = text, style
        if run_style is not None:
            out.append(Segment(run_text, run_style))
        return out

    return cells


def heatmap(matrix: Matrix, options: RenderOptions) -> tuple[Text, Layout]:
    """The heatmap of `matrix` as Rich Text, and its Layout (for mapping clicks to cells)."""
    lines, layout = heatmap_lines(matrix, options)
    text = Text(no_wrap=True)
    for index, line in enumerate(lines):
        if index:
            text.append("\n")
        for segment in line:
            text.append(segment.text, segment.style)
    return text, layout


def legend(scale: str, values: np.ndarray, options: RenderOptions) -> Text:
    """`-0.5 ▮▮▮▮ 0 ▮▮▮▮ +0.5`: the colours of a scale and the numbers they mean."""
    span = colors.value_range(scale, values)
    text = Text(no_wrap=True)
    steps = (
        range(-colors.LEVELS, colors.LEVELS + 1, 2)
        if scale == "diverging"
        else range(0, colors.LEVELS + 1, 2)
    )
    text.append(f"{span.lo:g} ", "dim")
    for lvl in steps:
        if options.color:
            text.append(" ", colors.cell_style(lvl, scale, options.dark))
        else:
            text.append(colors.glyph(lvl))
    text.append(f" {span.hi:g}", "dim")
    return text


def matrix_renderable(matrix: Matrix, options: RenderOptions) -> Text:
    """Caption + legend line, then the heatmap (what the screen and --show print)."""
    body, layout = heatmap(matrix, options)
    head = matrix_head(matrix, options, layout)
    return Text("\n", no_wrap=True).join([head, body])


def matrix_head(matrix: Matrix, options: RenderOptions, layout: Layout) -> Text:
    """`[rows x cols]`, the scale, the legend, which columns show, the caption, the marks.

    What the numbers and colours mean comes before the caption: a long caption is cut
    at the panel's edge.
    """
    head = Text(no_wrap=True)
    rows, cols = matrix.shape
    head.append(f"[{rows}x{cols}] ", "dim")
    scale = scale_text(value_exponent(matrix)) if layout.values else ""
    if scale:
        head.append(f"values {scale}  ", "bold")
    head.append_text(legend(matrix.scale, matrix.values, options))
    if layout.windowed:
        (start, stop), what = layout.bands[0], matrix.units or "columns"
        head.append(f"  {what} {start}-{stop - 1} of {layout.cols}", "bold")
    if layout.rows_per_line == 2:
        head.append("  ▀ = 2 rows", "dim")  # a half block: the upper row over the lower
    if matrix.caption:
        head.append("  " + matrix.caption, "italic")
    if layout.rows_per_line == 1:
        mark = "underlined" if layout.values or not options.color else "•"
        head.append(f"  changed: {mark}", "dim")
    return head
