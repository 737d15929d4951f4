import math

import numpy as np
import pytest

from tui_lab.render import colors


@pytest.mark.parametrize(
    "value, expected",
    [(0.03, 0.05), (0.05, 0.05), (0.5, 0.5), (0.51, 1.0), (7.0, 10.0), (0.0, 1.0), (math.nan, 1.0)],
)
def test_nice_ceiling_rounds_up_to_1_2_5(value, expected):
    assert colors.nice_ceiling(value) == pytest.approx(expected)


def test_value_range_per_scale_ignores_nan():
    values = np.array([-0.3, 0.1, np.nan, np.inf])
    assert colors.value_range("diverging", values) == colors.Range("diverging", -0.5, 0.5)
    assert colors.value_range("unit", values) == colors.Range("unit", 0.0, 1.0)
    assert colors.value_range("positive", np.array([0.0, 3.0])) == colors.Range(
        "positive", 0.0, 5.0
    )


def test_levels_clip_and_match_the_scalar_version():
    span = colors.Range("diverging", -1.0, 1.0)
    values = np.array([-2.0, -1.0, -0.5, 0.0, 0.25, 1.0, 3.0, np.nan])
    expected = [-12, -12, -6, 0, 3, 12, 12, 0]
    assert colors.levels(values, span).tolist() == expected
    assert [colors.level(v, span) for v in values] == expected
    unit = colors.Range("unit", 0.0, 1.0)
    assert colors.levels(np.array([-0.5, 0.5, 2.0]), unit).tolist() == [0, 6, 12]


def test_zero_blends_into_the_background_and_text_contrasts():
    dark_zero = colors.cell_style(0, "diverging", True)
    light_zero = colors.cell_style(0, "diverging", False)
    assert dark_zero.bgcolor.triplet == colors.DARK_BACKGROUND
    assert light_zero.bgcolor.triplet == colors.LIGHT_BACKGROUND
    assert dark_zero.color.triplet == (255, 255, 255)
    assert light_zero.color.triplet == (0, 0, 0)
    assert colors.cell_style(12, "diverging", True).bgcolor.triplet == colors.POSITIVE
    assert colors.cell_style(-12, "diverging", False).bgcolor.triplet == colors.NEGATIVE
    assert colors.cell_style(12, "unit", True).bgcolor.triplet == colors.UNIT


def test_glyphs_stand_in_for_colour():
    assert colors.glyph(0) == " "
    assert colors.glyph(12) == "█"
    assert colors.glyph(-12) == "≡"
    assert colors.glyph(6) != colors.glyph(-6)


def test_no_color_follows_the_environment(monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert colors.no_color_requested()
    monkeypatch.setenv("NO_COLOR", "")
    assert not colors.no_color_requested()
