"""Colour scales for heatmaps, strips and legends.

Three scales (frames.Scale): "diverging" (signed, blue below 0, red above,
the background colour at 0), "unit" (0..1, background to green) and
"positive" (0..max, background to purple). The zero end blends into the
theme's background, so a cell near 0 is quiet on a dark and on a light
theme alike; the text on a cell is black or white, whichever contrasts.

Colours are quantised to LEVELS steps per side so that styles can be cached:
a 50x50 heatmap redrawn 20 times a second builds no new Style objects.

NO_COLOR (https://no-color.org): with `color=False` cells are drawn with
density glyphs instead of colours (see `glyph`).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rich.style import Style

LEVELS = 12

NEGATIVE = (37, 99, 235)  # blue
POSITIVE = (220, 38, 38)  # red
UNIT = (22, 163, 74)  # green
POSITIVE_ONLY = (147, 51, 234)  # purple
DARK_BACKGROUND = (24, 24, 27)
LIGHT_BACKGROUND = (250, 250, 250)

POSITIVE_GLYPHS = " ░▒▓█"
NEGATIVE_GLYPHS = " ·:=≡"


def no_color_requested() -> bool:
    """True when the NO_COLOR environment variable is set to anything non-empty."""
    return bool(os.environ.get("NO_COLOR"))


@dataclass(frozen=True)
class Range:
    """The numbers a scale spans: lo..hi (lo = -hi for diverging)."""

    scale: str
    lo: float
    hi: float


def nice_ceiling(value: float) -> float:
    """The smallest of 0.1, 0.2, 0.5, 1, 2, 5, 10, ... (any decade) that is >= value.

    A range rounded this way stays put while values wander a little between
    steps, so a colour means the same number from one step to the next.
    """
    if not math.isfinite(value) or value <= 0:
        return 1.0
    decade = 10.0 ** math.floor(math.log10(value))
    for factor in (1.0, 2.0, 5.0, 10.0):
        if factor * decade >= value * (1 - 1e-9):
            return factor * decade
    return 10.0 * decade


def value_range(scale: str, values: np.ndarray) -> Range:
    """The colour range for `values` on `scale` (NaN and Inf are ignored)."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if scale == "unit":
        return Range("unit", 0.0, 1.0)
    top = float(np.max(np.abs(finite))) if finite.size else 1.0
    top = nice_ceiling(top)
    if scale == "positive":
        return Range("positive", 0.0, top)
    return Range("diverging", -top, top)


def level(value: float, span: Range) -> int:
    """Signed quantised level in -LEVELS..LEVELS (0 for NaN)."""
    if not math.isfinite(value):
        return 0
    if span.scale == "diverging":
        fraction = value / span.hi
    else:
        fraction = (value - span.lo) / (span.hi - span.lo)
    fraction = max(-1.0, min(1.0, fraction))
    if span.scale != "diverging":
        fraction = max(0.0, fraction)
    return int(round(fraction * LEVELS))


def levels(values: np.ndarray, span: Range) -> np.ndarray:
    """Vectorised `level` for an array: int levels, 0 where not finite."""
    values = np.asarray(values, dtype=np.float64)
    if span.scale == "diverging":
        fraction = values / span.hi
        fraction = np.clip(fraction, -1.0, 1.0)
    else:
        fraction = np.clip((values - span.lo) / (span.hi - span.lo), 0.0, 1.0)
    fraction = np.where(np.isfinite(fraction), fraction, 0.0)
    return np.rint(fraction * LEVELS).astype(np.int64)


def _blend(a: tuple[int, int, int], b: tuple[int, int, int], f: float) -> tuple[int, int, int]:
    return tuple(int(round(x + (y - x) * f)) for x, y in zip(a, b, strict=True))


def _luminance(rgb: tuple[int, int, int]) -> float:
    r, g, b = (channel / 255 for channel in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def rgb_for(lvl: int, scale: str, dark: bool) -> tuple[int, int, int]:
    background = DARK_BACKGROUND if dark else LIGHT_BACKGROUND
    if scale == "diverging":
        target = POSITIVE if lvl > 0 else NEGATIVE
    elif scale == "unit":
        target = UNIT
    else:
        target = POSITIVE_ONLY
    return _blend(background, target, abs(lvl) / LEVELS)


@lru_cache(maxsize=2048)
def cell_style(
    lvl: int, scale: str, dark: bool, bold: bool = False, underline: bool = False
) -> Style:
    """Background colour for a level, with a contrasting foreground."""
    rgb = rgb_for(lvl, scale, dark)
    foreground = "#000000" if _luminance(rgb) > 0.5 else "#ffffff"
    return Style(
        color=foreground,
        bgcolor="#{:02x}{:02x}{:02x}".format(*rgb),
        bold=bold,
        underline=underline,
    )


def _hex(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


@lru_cache(maxsize=1024)
def half_block_style(upper: int, lower: int | None, scale: str, dark: bool) -> Style:
    """For "▀": the upper level as the foreground, the lower one (None: the theme's
    background, for the last line of an odd number of rows) as the background."""
    below = _hex(rgb_for(lower, scale, dark)) if lower is not None else None
    return Style(color=_hex(rgb_for(upper, scale, dark)), bgcolor=below)


@lru_cache(maxsize=64)
def plain_style(bold: bool = False, underline: bool = False, reverse: bool = False) -> Style:
    return Style(bold=bold, underline=underline, reverse=reverse)


def glyph(lvl: int) -> str:
    """A density glyph for a level: the NO_COLOR stand-in for a colour."""
    ramp = POSITIVE_GLYPHS if lvl >= 0 else NEGATIVE_GLYPHS
    index = int(math.ceil(abs(lvl) / LEVELS * (len(ramp) - 1)))
    return ramp[min(index, len(ramp) - 1)]
