"""The NTM's LSTM controller, one step of one episode (vectors, not batches).

Same equations and gate order (i, f, g, o) as kernels/lstm.py (PyTorch's), with one bias
vector (PyTorch's bias_ih + bias_hh). The NTM needs a step-at-a-time controller because its
input at step t holds the read vectors of step t - 1, so the input projections of a whole
sequence cannot be computed up front as kernels/lstm.py does; this fused step keeps one
episode's work in one thread.

Shapes: u [I] input, h, c [H], gates [4H] (post-activation), w_ih_t [I, 4H], w_hh_t [H, 4H]
(transposed for the forward loops), w_ih [4H, I], w_hh [4H, H] (stored layout, backward).
"""

from __future__ import annotations

import math

from numba import njit

from kernels._common import sigmoid
from kernels.ntm.linear import linear_forward


@njit(cache=True)
def lstm_step_forward(u, h_prev, c_prev, w_ih_t, w_hh_t, bias, gates, h, c):
    """Fills gates [4H], h, c [H]."""
    H = h.shape[0]
    linear_forward(w_ih_t, bias, u, gates)
    for k in range(H):
        hk = h_prev[k]
        row = w_hh_t[k]
        for j in range(4 * H):
            gates[j] += hk * row[j]
    for j in range(H):
        i = sigmoid(gates[j])
        f = sigmoid(gates[H + j])
        g = math.tanh(gates[2 * H + j])
        o = sigmoid(gates[3 * H + j])
        cj = f * c_prev[j] + i * g
        gates[j] = i
        gates[H + j] = f
        gates[2 * H + j] = g
        gates[3 * H + j] = o
        c[j] = cj
        h[j] = o * math.tanh(cj)


@njit(cache=True)
def lstm_step_backward(c_prev, gates, c, d_h, d_c, w_ih, w_hh, d_pre, d_u, d_h_prev):
    """d_h: total dL/dh_t. d_c: in dL/dc_t from later steps, out dL/dc_{t-1} (in place).
    Sets d_pre [4H] (dL/d pre-activations), d_u [I], d_h_prev [H]. The weight and bias
    gradients are sums over steps of outer(d_pre, u) etc.: the caller forms them once per
    episode (linear.add_outer_sum)."""
    H = c.shape[0]
    n_in = d_u.shape[0]
    for j in range(H):
        i = gates[j]
        f = gates[H + j]
        g = gates[2 * H + j]
        o = gates[3 * H + j]
        tc = math.tanh(c[j])
        dct = d_c[j] + d_h[j] * o * (1.0 - tc * tc)
        d_pre[j] = dct * g * i * (1.0 - i)
        d_pre[H + j] = dct * c_prev[j] * f * (1.0 - f)
        d_pre[2 * H + j] = dct * i * (1.0 - g * g)
        d_pre[3 * H + j] = d_h[j] * tc * o * (1.0 - o)
        d_c[j] = dct * f
    for k in range(n_in):
        d_u[k] = 0.0
    for k in range(H):
        d_h_prev[k] = 0.0
    for j in range(4 * H):
        dj = d_pre[j]
        if dj != 0.0:
            row_i = w_ih[j]
            for k in range(n_in):
                d_u[k] += dj * row_i[k]
            row_h = w_hh[j]
            for k in range(H):
                d_h_prev[k] += dj * row_h[k]
