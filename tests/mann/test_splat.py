"""The stroke rasteriser against a plain-numpy reference written from its docstring."""

import math

import numpy as np

from kernels.splat import draw_curves


def reference(strokes, points, ink, sigma, rows, cols):
    density = np.zeros((strokes.shape[0], rows, cols))
    reach = 3.0 * sigma
    for k, glyph in enumerate(strokes):
        for (x0, y0), (x1, y1), (x2, y2) in glyph:
            if not np.isfinite([x0, y0, x1, y1, x2, y2]).all():
                continue
            for p in range(points):
                u = p / (points - 1)
                v = 1.0 - u
                x = v * v * x0 + 2 * v * u * x1 + u * u * x2
                y = v * v * y0 + 2 * v * u * y1 + u * u * y2
                speed = 2 * math.hypot(v * (x1 - x0) + u * (x2 - x1), v * (y1 - y0) + u * (y2 - y1))
                weight = ink * speed / (points - 1)
                for i in range(max(math.floor(y - reach), 0), min(math.floor(y + reach) + 1, rows)):
                    for j in range(max(math.floor(x - reach), 0), min(math.floor(x + reach) + 1, cols)):
                        d2 = (j + 0.5 - x) ** 2 + (i + 0.5 - y) ** 2
                        density[k, i, j] += weight * math.exp(-d2 / (2 * sigma * sigma))
    return density


def test_strokes_on_a_wide_canvas_and_off_its_edges_match_the_reference():
    # rows != cols, and strokes that leave the canvas on every side: a bound taken from the
    # wrong axis, or truncation towards zero instead of floor, changes which pixels get ink
    strokes = np.array(
        [
            [[[-3.0, 2.0], [10.0, -4.0], [31.0, 9.5]], [[5.0, 12.0], [np.nan, 1.0], [2.0, 2.0]]],
            [[[-0.7, -0.4], [3.0, 3.0], [6.0, 0.2]], [[28.0, 8.0], [33.0, 11.5], [20.0, 13.0]]],
        ]
    )
    rows, cols = 10, 30
    got = np.zeros((2, rows, cols))
    draw_curves(strokes, 17, 0.8, 0.9, got)
    want = reference(strokes, 17, 0.8, 0.9, rows, cols)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert got[:, -1, :].sum() > 0 and got[:, :, -1].sum() > 0  # ink reaches both far edges
