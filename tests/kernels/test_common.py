"""dot_rows: the per-step product, whole or in row blocks, equals numpy's a @ b."""

import numpy as np
import pytest

from kernels._common import dot_rows, dot_tn


@pytest.mark.parametrize(
    "rows,k,n",
    [
        (3, 8, 16),  # small: one BLAS call
        (40, 64, 256),  # over the threshold: row blocks of 16, 16, 8
        (5, 512, 1024),  # a row block would hold < 4 rows: one BLAS call
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_dot_rows_matches_numpy(rows, k, n, dtype):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(rows, k)).astype(dtype)
    w = rng.normal(size=(n, k)).astype(dtype)
    out = np.empty((rows, n), dtype=dtype)
    tol = 1e-12 if dtype == np.float64 else 1e-4
    for b in (w.T, np.ascontiguousarray(w.T)):  # F- and C-order operands
        out[:] = np.nan
        dot_rows(a, b, out)
        np.testing.assert_allclose(out, a @ w.T, rtol=tol, atol=tol * k)


@pytest.mark.parametrize("k,m,n", [(6, 4, 5), (48, 128, 128), (800, 64, 32), (50, 1024, 512)])
@pytest.mark.parametrize("accumulate", [False, True])
def test_dot_tn_matches_numpy(k, m, n, accumulate):
    """(48, 128, 128) is summed in K blocks of 16; the others are one BLAS call (800 rows span
    a whole sequence: BLAS may thread it)."""
    rng = np.random.default_rng(1)
    a = rng.normal(size=(k, m))
    b = rng.normal(size=(k, n))
    start = rng.normal(size=(m, n))
    out = start.copy()
    dot_tn(a, b, out, accumulate)
    expected = a.T @ b + (start if accumulate else 0.0)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12 * k)
