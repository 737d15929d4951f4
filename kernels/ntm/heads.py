"""Head activations: the raw head projection -> key, beta, g, gamma, shift, erase, add.

One head's block of the projection (see layout.py) is activated in place of a copy:

    key = tanh       beta = softplus       g = sigmoid       gamma = 1 + softplus
    shift = softmax over the S shift logits    erase = sigmoid    add = tanh

Backward needs only the activated values: softplus' = sigmoid(raw) = 1 - exp(-softplus).
"""

from __future__ import annotations

import math

from numba import njit

from kernels._common import sigmoid


@njit(cache=True, inline="always")
def softplus(a):
    return max(a, 0.0) + math.log1p(math.exp(-abs(a)))


@njit(cache=True)
def activate(raw, act, width, shifts, is_write):
    """raw, act: one head's block [width + 3 + shifts (+ 2 width for write heads)]."""
    for j in range(width):
        act[j] = math.tanh(raw[j])
    act[width] = softplus(raw[width])
    act[width + 1] = sigmoid(raw[width + 1])
    act[width + 2] = 1.0 + softplus(raw[width + 2])
    o = width + 3
    mx = raw[o]
    for k in range(1, shifts):
        if raw[o + k] > mx:
            mx = raw[o + k]
    total = 0.0
    for k in range(shifts):
        e = math.exp(raw[o + k] - mx)
        act[o + k] = e
        total += e
    for k in range(shifts):
        act[o + k] = act[o + k] / total
    if is_write:
        o += shifts
        for j in range(width):
            act[o + j] = sigmoid(raw[o + j])
            act[o + width + j] = math.tanh(raw[o + width + j])


@njit(cache=True)
def activate_backward(act, d_act, d_raw, width, shifts, is_write):
    """d_act (gradient w.r.t. the activated block) -> d_raw (set)."""
    for j in range(width):
        d_raw[j] = d_act[j] * (1.0 - act[j] * act[j])
    d_raw[width] = d_act[width] * -math.expm1(-act[width])
    g = act[width + 1]
    d_raw[width + 1] = d_act[width + 1] * g * (1.0 - g)
    d_raw[width + 2] = d_act[width + 2] * -math.expm1(-(act[width + 2] - 1.0))
    o = width + 3
    s = 0.0
    for k in range(shifts):
        s += act[o + k] * d_act[o + k]
    for k in range(shifts):
        d_raw[o + k] = act[o + k] * (d_act[o + k] - s)
    if is_write:
        o += shifts
        for j in range(width):
            e = act[o + j]
            d_raw[o + j] = d_act[o + j] * e * (1.0 - e)
            a = act[o + width + j]
            d_raw[o + width + j] = d_act[o + width + j] * (1.0 - a * a)
