import numpy as np
from rich.console import Console

from tui_lab.frames import Sequence
from tui_lab.render import RenderOptions, Selection
from tui_lab.render.colors import DARK_BACKGROUND
from tui_lab.render.sequence import sequence_renderable

CONSOLE = Console(width=200)


def _lines(text):
    return text.plain.split("\n")


def test_characters_touch_and_the_position_is_marked():
    text = sequence_renderable(Sequence("in", tuple("hi there"), 3), RenderOptions(width=60))
    lines = _lines(text)
    assert lines[0].startswith("t = 3 of 8  reading 't'")
    assert lines[1] == "hi␣there"
    assert lines[2] == "   ^"
    style = text.get_style_at_offset(CONSOLE, len(lines[0]) + 1 + 3)
    assert style.reverse and style.bold


def test_before_the_first_step():
    text = sequence_renderable(Sequence("in", ("a", "b"), -1), RenderOptions())
    assert _lines(text)[0].startswith("t = - (before the first step)")


def test_selected_unit_colours_the_strip_by_its_trace():
    trace = np.zeros((4, 2))
    trace[:, 1] = [0.0, 1.0, -1.0, 0.0]
    sequence = Sequence("in", tuple("abcd"), 0, traces={"h0": trace})
    options = RenderOptions(width=60, selection=Selection("h_t", 0, 1, "hidden", "h0"))
    text = sequence_renderable(sequence, options)
    lines = _lines(text)
    assert "colour = h0 unit 1" in lines[0]
    start = len(lines[0]) + 1
    backgrounds = [text.get_style_at_offset(CONSOLE, start + i).bgcolor.triplet for i in range(4)]
    assert backgrounds[3] == DARK_BACKGROUND
    assert backgrounds[1] != backgrounds[2]
    assert backgrounds[1][0] > backgrounds[1][2]  # positive -> red
    assert backgrounds[2][2] > backgrounds[2][0]  # negative -> blue


def test_a_trace_for_another_unit_space_is_ignored():
    sequence = Sequence("in", tuple("ab"), 0, traces={"h0": np.ones((2, 2))})
    options = RenderOptions(selection=Selection("w", 0, 5, None, "h0"))
    assert "colour =" not in _lines(sequence_renderable(sequence, options))[0]


def test_long_inputs_show_a_window_around_the_position():
    tokens = tuple(f"w{i}" for i in range(1000))
    text = sequence_renderable(Sequence("in", tokens, 900), RenderOptions(width=40))
    body = "\n".join(_lines(text)[1:])
    assert body.startswith("… ") and "w900" in body and "w0 " not in body


def test_bit_vectors_draw_a_grid():
    bits = np.array([[1, 0, 1], [0, 1, 1]], dtype=float)  # [T=2, width=3]
    text = sequence_renderable(Sequence("in", ("", ""), 1, bits=bits), RenderOptions(color=False))
    lines = _lines(text)
    assert lines[1].rstrip() == "   v"
    assert [line[2:] for line in lines[2:5]] == ["█·", "·█", "██"]
