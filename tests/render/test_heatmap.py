import numpy as np
import pytest
from rich.console import Console

from tui_lab.frames import Matrix
from tui_lab.render import RenderOptions, Selection
from tui_lab.render.heatmap import (
    format_value,
    heatmap,
    layout_for,
    legend,
    matrix_renderable,
    matrix_title,
    value_exponent,
)

CONSOLE = Console(width=200)


@pytest.mark.parametrize(
    "value, text",
    [
        (-0.123, "-0.12"),
        (0.5, " 0.50"),
        (12.345, "12.35"),
        (123.456, "123.5"),
        (99999.0, "99999"),
        (1e6, "  1e6"),
        (float("nan"), "  nan"),
        (float("-inf"), " -inf"),
    ],
)
def test_format_value_is_exactly_five_wide(value, text):
    assert format_value(value) == text


def test_layout_prints_values_in_bands_when_they_fit():
    matrix = Matrix("h", np.zeros((1, 50)))
    layout = layout_for(matrix, 100)
    assert layout.values
    per_band = (100 - 1 - 1) // 6
    assert layout.bands[0] == (0, per_band)
    assert layout.bands[-1][1] == 50
    assert len(layout.bands) == -(-50 // per_band)


def test_layout_falls_back_to_colour_cells_for_big_matrices():
    matrix = Matrix("w", np.zeros((50, 50)))
    assert layout_for(matrix, 100).values is False
    assert layout_for(matrix, 100).cell == 1
    assert layout_for(matrix, 120).cell == 2
    assert layout_for(matrix, 120, zoom="values").values is True
    assert layout_for(Matrix("x", np.zeros((2, 3))), 100, zoom="colour").values is False


@pytest.mark.parametrize("width, shape", [(60, (2, 30)), (200, (3, 7)), (80, (40, 40))])
def test_cell_at_finds_the_cell_drawn_there(width, shape):
    values = np.arange(np.prod(shape), dtype=float).reshape(shape) / 10
    matrix = Matrix("m", values)
    text, layout = heatmap(
        matrix, RenderOptions(width=width, zoom="values" if width > 60 else "auto")
    )
    lines = text.plain.split("\n")
    assert len(lines) == layout.height
    drawn: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for y, line in enumerate(lines):
        for x in range(len(line)):
            cell = layout.cell_at(x, y)
            if cell is not None:
                drawn.setdefault(cell, []).append((x, y))
    assert set(drawn) == {(r, c) for r in range(shape[0]) for c in range(shape[1])}
    for (row, col), hits in drawn.items():
        assert len(hits) == layout.cell
        if layout.values:
            x, y = hits[0]
            assert lines[y][x : x + layout.cell] == format_value(values[row, col])
    assert layout.cell_at(0, 1) is None  # the row label
    assert layout.cell_at(layout.label_width + 1, 0) is None  # the header line


def _style_at(text, line_no, column):
    offset = sum(len(line) + 1 for line in text.plain.split("\n")[:line_no]) + column
    return text.get_style_at_offset(CONSOLE, offset)


def test_changed_cells_are_underlined_in_values_layout():
    before = Matrix("h", np.array([[0.1, 0.2, 0.3]]))
    after = Matrix("h", np.array([[0.1, 0.9, 0.3]]))
    options = RenderOptions(width=100, previous={"h": before})
    text, layout = heatmap(after, options)
    x = layout.label_width + 1
    assert not _style_at(text, 1, x).underline
    assert _style_at(text, 1, x + layout.pitch).underline
    assert not _style_at(text, 1, x + 2 * layout.pitch).underline


def test_selected_unit_is_highlighted_in_every_matrix_over_the_same_units():
    selection = Selection("h_t", 0, 2, units="hidden", trace="h0")
    options = RenderOptions(width=100, selection=selection)
    same = Matrix("gates", np.full((2, 4), 0.5), "unit", units="hidden")
    other = Matrix("w", np.full((2, 4), 0.5), units="vocab")
    text, layout = heatmap(same, options)
    x = layout.label_width + 1
    assert _style_at(text, 1, x + 2 * layout.pitch).bold
    assert not _style_at(text, 1, x + 1 * layout.pitch).bold
    text, layout = heatmap(other, options)
    assert not _style_at(text, 1, x + 2 * layout.pitch).bold


def test_no_color_draws_glyphs_without_colours():
    matrix = Matrix("w", np.linspace(-1, 1, 60).reshape(3, 20))
    text, layout = heatmap(matrix, RenderOptions(width=40, color=False, zoom="colour"))
    for span in text.spans:
        style = span.style if not isinstance(span.style, str) else None
        if style is not None:
            assert style.color is None and style.bgcolor is None
    assert "█" in text.plain and "≡" in text.plain
    assert "█" in legend("diverging", matrix.values, RenderOptions(color=False)).plain


def test_legend_names_the_range():
    plain = legend("diverging", np.array([-0.3, 0.2]), RenderOptions()).plain
    assert plain.startswith("-0.5 ") and plain.endswith(" 0.5")
    assert legend("unit", np.array([0.3]), RenderOptions()).plain.endswith(" 1")


@pytest.mark.parametrize("zoom", ["auto", "values", "colour"])
def test_layout_width_is_the_drawn_width(zoom):
    matrix = Matrix("m", np.linspace(-1, 1, 3 * 40).reshape(3, 40), row_labels=("a", "bb", "c"))
    text, layout = heatmap(matrix, RenderOptions(width=90, zoom=zoom))
    assert max(len(line) for line in text.plain.split("\n")) == layout.width


def test_tiny_values_print_in_the_panels_scale():
    # BPTT's dL/dh_t: every value ~3e-4 printed "0.00" / "-0.00" before.
    values = np.array([[3.1e-4, -2.7e-4, 1.2e-4, -0.4e-4], [0.9e-4, 2.2e-4, -3.3e-4, 0.0]])
    matrix = Matrix("dL/dh_t", values, "diverging")
    options = RenderOptions(width=100)
    text, layout = heatmap(matrix, options)
    assert layout.values
    assert value_exponent(matrix) == -4
    assert matrix_title(matrix, layout) == "dL/dh_t (x1e-4)"
    head = matrix_renderable(matrix, options).plain.split("\n")[0]
    assert "x1e-4" in head
    cells = text.plain.split("\n")[1].split()[1:]
    assert cells == ["3.10", "-2.70", "1.20", "-0.40"]
    assert all(cell not in ("0.00", "-0.00") for cell in cells)


@pytest.mark.parametrize(
    "top, exponent",
    [(0.5, 0), (0.15, 0), (0.1, -1), (0.06, -2), (3e-4, -4), (800.0, 0), (4e4, 4), (0.0, 0)],
)
def test_the_scale_exponent_follows_the_largest_value(top, exponent):
    matrix = Matrix("m", np.array([[top, -top / 2]]))
    assert value_exponent(matrix) == exponent
    unit = Matrix("p", np.array([[top / 1e6]]), "unit")
    assert value_exponent(unit) == 0  # 0..1 panels print as they are


def test_colour_only_panels_name_no_scale():
    matrix = Matrix("w", np.full((50, 50), 2e-4))
    layout = layout_for(matrix, 100)
    assert not layout.values and matrix_title(matrix, layout) == "w"


def test_a_focus_column_keeps_a_window_of_wide_matrices_in_view():
    values = np.zeros((20, 128))
    values[:, 100] = 1.0
    matrix = Matrix("memory", values, units="slots", focus=100)
    text, layout = heatmap(matrix, RenderOptions(width=74))
    start, stop = layout.bands[0]
    assert layout.windowed and start <= 100 < stop and stop - start == 74 - 3
    assert layout.width <= 74
    head = matrix_renderable(matrix, RenderOptions(width=74)).plain.split("\n")[0]
    assert f"slots {start}-{stop - 1} of 128" in head
    assert layout.cell_at(layout.label_width + 1 + (100 - start), 1) == (0, 100)
    # Without a focus the strip stays whole (the screen scrolls it sideways).
    assert not layout_for(Matrix("m", values), 74).windowed


def test_compact_panels_draw_two_rows_a_line_with_colour_only():
    values = np.zeros((5, 30))
    values[1, 3] = 1.0  # the lower half of the first line, column 3
    matrix = Matrix("history", values, "unit", compact=True)
    text, layout = heatmap(matrix, RenderOptions(width=60))
    lines = text.plain.split("\n")
    assert layout.rows_per_line == 2 and layout.height == 1 + 3 == len(lines)
    first = lines[1][layout.label_width + 1 :]
    assert first[3] == "▀" and set(first[:3] + first[4:]) == {" "}  # equal halves: blank
    style = _style_at(text, 1, layout.label_width + 1 + 3)
    assert style.bgcolor is not None and style.color != style.bgcolor
    assert layout.cell_at(layout.label_width + 1 + 3, 3) == (4, 3)
    # NO_COLOR: a half block cannot show two glyphs, so one row a line again.
    text, layout = heatmap(matrix, RenderOptions(width=60, color=False))
    assert layout.rows_per_line == 1 and len(text.plain.split("\n")) == 6
