"""The vectorisable exp/expm1/sigmoid/tanh in kernels/_common.py vs numpy, both dtypes."""

import numpy as np
import pytest
from numba import njit

from kernels._common import fast_exp, fast_expm1, sigmoid, tanh


@njit(error_model="numpy")
def apply_all(x, out):
    for k in range(x.size):
        out[0, k] = fast_exp(x[k])
        out[1, k] = fast_expm1(x[k])
        out[2, k] = sigmoid(x[k])
        out[3, k] = tanh(x[k])


def inputs(dtype):
    rng = np.random.default_rng(0)
    wide = rng.normal(size=2000) * 8
    tiny = rng.normal(size=500) * 1e-4
    special = [0.0, 1e-30, -1e-30, 0.34, -0.35, 0.7, 20.0, -20.0, 80.0, -80.0]
    return np.concatenate([wide, tiny, special]).astype(dtype)


@pytest.mark.parametrize("dtype,ulps", [(np.float64, 4), (np.float32, 4)])
def test_matches_numpy_within_a_few_ulps(dtype, ulps):
    x = inputs(dtype)
    out = np.empty((4, x.size), dtype=dtype)
    apply_all(x, out)
    assert out.dtype == dtype
    x64 = x.astype(np.float64)
    refs = [np.exp(x64), np.expm1(x64), 1 / (1 + np.exp(-x64)), np.tanh(x64)]
    eps = np.finfo(dtype).eps
    for name, got, ref in zip(("exp", "expm1", "sigmoid", "tanh"), out, refs, strict=True):
        ok = np.abs(ref) > np.finfo(dtype).tiny * 1e6  # skip results near underflow
        rel = np.abs(got[ok] - ref[ok]) / np.abs(ref[ok])
        assert rel.max() < ulps * eps, name


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_saturation_and_nan(dtype):
    x = np.array([np.nan, np.inf, -np.inf, 1e4, -1e4], dtype=dtype)
    out = np.empty((4, x.size), dtype=dtype)
    apply_all(x, out)
    assert np.all(np.isnan(out[:, 0]))  # NaN propagates through every function
    # sigmoid saturates: exactly 1 above, below the smallest normal number underneath
    tiny = np.finfo(dtype).tiny
    np.testing.assert_allclose(out[2, 1:], [1.0, 0.0, 1.0, 0.0], rtol=0, atol=tiny)
    np.testing.assert_array_equal(out[3, 1:], [1.0, -1.0, 1.0, -1.0])  # tanh saturates
    assert np.all(np.isfinite(out[1:, 1:]))
