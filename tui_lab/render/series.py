"""Series panels as small block-character plots (one per line of the series).

Each line gets `height` text rows of eighth-blocks, resampled to the width by
averaging, with its last, min and max value printed beside it. NaNs are gaps.
"""

from __future__ import annotations

import math

import numpy as np
from rich.text import Text

from tui_lab.frames import Series
from tui_lab.render.options import RenderOptions

BLOCKS = " ▁▂▃▄▅▆▇█"
LINE_STYLES = ("cyan", "magenta", "yellow", "green", "blue", "red")


def resample(values: np.ndarray, width: int) -> np.ndarray:
    """[N] -> [min(N, width)] by averaging consecutive bins (NaN-aware)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) <= width:
        return values
    edges = np.linspace(0, len(values), width + 1).astype(int)
    out = np.full(width, np.nan)
    for i in range(width):
        chunk = values[edges[i] : edges[i + 1]]
        chunk = chunk[np.isfinite(chunk)]
        if chunk.size:
            out[i] = chunk.mean()
    return out


def plot_rows(values: np.ndarray, height: int, lo: float, hi: float) -> list[str]:
    """Block-character rows (top first) for values scaled from lo..hi."""
    rows = [[" "] * len(values) for _ in range(height)]
    span = hi - lo if hi > lo else 1.0
    for col, value in enumerate(values):
        if not math.isfinite(value):
            continue
        eighths = int(round((value - lo) / span * height * 8))
        eighths = max(1, min(height * 8, eighths))
        for row in range(height):
            fill = min(8, max(0, eighths - row * 8))
            rows[height - 1 - row][col] = BLOCKS[fill]
    return ["".join(row) for row in rows]


def series_renderable(series: Series, options: RenderOptions, height: int = 3) -> Text:
    text = Text(no_wrap=True)
    width = max(8, options.width - 2)
    for index, (name, raw) in enumerate(series.lines.items()):
        if index:
            text.append("\n")
        values = np.asarray(raw, dtype=np.float64)
        shown = values
        if series.log_y:
            with np.errstate(divide="ignore", invalid="ignore"):
                shown = np.where(values > 0, np.log10(values), np.nan)
        finite = values[np.isfinite(values)]
        style = LINE_STYLES[index % len(LINE_STYLES)] if options.color else ""
        text.append(f"{name}", f"bold {style}".strip())
        if finite.size == 0:
            text.append(f"  (no values yet; x = {series.x_label})", "dim")
            continue
        text.append(
            f"  last {finite[-1]:.4g}  min {finite.min():.4g}  max {finite.max():.4g}"
            f"  n = {len(values)} {series.x_label}s" + ("  (log y)" if series.log_y else ""),
            "dim",
        )
        sampled = resample(shown, width)
        good = sampled[np.isfinite(sampled)]
        lo, hi = (float(good.min()), float(good.max())) if good.size else (0.0, 1.0)
        marker = None
        if series.marker is not None and len(values):
            marker = int(series.marker * len(sampled) / max(1, len(values)))
        for row in plot_rows(sampled, height, lo, hi):
            text.append("\n")
            if marker is not None and 0 <= marker < len(row):
                text.append(row[:marker], style)
                text.append(row[marker] if row[marker] != " " else "│", "reverse")
                text.append(row[marker + 1 :], style)
            else:
                text.append(row, style)
    return text
