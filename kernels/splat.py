"""Quadratic Bezier strokes drawn as ink on a pixel grid: the rasteriser of the stroke glyphs
(tui_lab/tasks/glyphs.py) the one-shot learning lab draws its samples with.

    draw_curves(strokes [n, S, 3, 2], points, ink, sigma, density [n, rows, cols])

Each stroke (start, bend, end control points in pixel coordinates, x across, y down; pixel
(i, j) covers x in [j, j + 1), y in [i, i + 1)) becomes `points` points along the curve, and
each point adds ink * (the length of curve it stands for) * exp(-d^2 / (2 sigma^2)) to every
pixel centre within 3 sigma of it, so ink per unit length is the same on every stroke.
Strokes with a NaN coordinate draw nothing.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def draw_curves(strokes, points, ink, sigma, density):
    n, S = strokes.shape[0], strokes.shape[1]
    rows, cols = density.shape[1], density.shape[2]
    scale = -0.5 / (sigma * sigma)
    reach = 3.0 * sigma
    across = np.empty(int(2 * reach) + 2)
    for k in range(n):
        for s in range(S):
            x0, y0 = strokes[k, s, 0, 0], strokes[k, s, 0, 1]
            x1, y1 = strokes[k, s, 1, 0], strokes[k, s, 1, 1]
            x2, y2 = strokes[k, s, 2, 0], strokes[k, s, 2, 1]
            if not math.isfinite(x0 + y0 + x1 + y1 + x2 + y2):
                continue
            for p in range(points):
                u = p / (points - 1)
                v = 1.0 - u
                x = v * v * x0 + 2.0 * v * u * x1 + u * u * x2
                y = v * v * y0 + 2.0 * v * u * y1 + u * u * y2
                dx = 2.0 * (v * (x1 - x0) + u * (x2 - x1))  # d(point)/du
                dy = 2.0 * (v * (y1 - y0) + u * (y2 - y1))
                w = ink * math.sqrt(dx * dx + dy * dy) / (points - 1)
                # exp(a (ex^2 + ey^2)) = exp(a ex^2) exp(a ey^2): one exp per row and column
                i0 = max(int(math.floor(y - reach)), 0)
                i1 = min(int(math.floor(y + reach)) + 1, rows)
                j0 = max(int(math.floor(x - reach)), 0)
                j1 = min(int(math.floor(x + reach)) + 1, cols)
                for j in range(j0, j1):
                    ex = j + 0.5 - x
                    across[j - j0] = math.exp(scale * ex * ex)
                for i in range(i0, i1):
                    ey = i + 0.5 - y
                    wy = w * math.exp(scale * ey * ey)
                    for j in range(j0, j1):
                        density[k, i, j] += wy * across[j - j0]
