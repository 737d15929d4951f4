"""Finite-difference gradients for the tests: one helper, used by every gradient check.

Importable as `gradcheck` because pytest puts tests/ on sys.path for tests/conftest.py.
"""

import numpy as np


def numeric_grad(f, array: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Central differences of scalar f() with respect to every element of `array`,
    which is perturbed in place (so f must read it) and restored."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + eps
        up = f()
        array[index] = saved - eps
        down = f()
        array[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


def rel_err(a, b) -> float:
    """Largest absolute difference over the largest magnitude of either side."""
    return np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12)
