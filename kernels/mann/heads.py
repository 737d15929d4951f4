"""Head activations of the MANN: the raw head projection -> key, add, write gate, key strength.

Each head's block of the projection (layout.py) is activated in place of a copy:

    key = tanh    add = tanh    sigma = sigmoid(alpha)    beta = softplus (key_strength only)

Backward needs only the activated values: softplus' = sigmoid(raw) = 1 - exp(-softplus).
Shapes: raw, act, d_act, d_raw [R * block] for R heads of `block` rows, width M.
"""

from __future__ import annotations

import math

from numba import njit

from kernels._common import sigmoid, tanh


@njit(cache=True, error_model="numpy")
def activate(raw, act, heads, width, key_strength):
    """Activates in place of a copy. tanh is kernels/_common's, which vectorises (libm's
    scalar tanh was a fifth of a step's time at the scenario's size)."""
    block = 2 * width + 1 + (1 if key_strength else 0)
    for k in range(heads):
        o = k * block
        r = raw[o : o + 2 * width]
        a = act[o : o + 2 * width]
        for j in range(2 * width):  # key, then add
            a[j] = tanh(r[j])
        act[o + 2 * width] = sigmoid(raw[o + 2 * width])
        if key_strength:
            a = raw[o + 2 * width + 1]
            act[o + 2 * width + 1] = max(a, 0.0) + math.log1p(math.exp(-abs(a)))


@njit(cache=True)
def activate_backward(act, d_act, d_raw, heads, width, key_strength):
    """d_act (gradient w.r.t. the activated blocks) -> d_raw (set)."""
    block = 2 * width + 1 + (1 if key_strength else 0)
    for k in range(heads):
        o = k * block
        for j in range(2 * width):
            a = act[o + j]
            d_raw[o + j] = d_act[o + j] * (1.0 - a * a)
        s = act[o + 2 * width]
        d_raw[o + 2 * width] = d_act[o + 2 * width] * s * (1.0 - s)
        if key_strength:
            beta = act[o + 2 * width + 1]
            d_raw[o + 2 * width + 1] = d_act[o + 2 * width + 1] * -math.expm1(-beta)
