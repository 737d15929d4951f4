"""Vector-times-matrix loops for one episode, laid out so the inner loop is a SIMD axpy.

Forward uses the transposed weight w_t [In, Out] (row k scaled by v[k] and added to y), so
no reduction runs in the inner loop and LLVM vectorises it without fastmath. Backward uses
the weight in its stored [Out, In] layout for the same reason.
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def linear_forward(w_t, bias, v, y):
    """y [Out] = w_t^T v + bias. w_t: [In, Out], v: [In]."""
    n_in, n_out = w_t.shape
    for j in range(n_out):
        y[j] = bias[j]
    for k in range(n_in):
        vk = v[k]
        if vk != 0.0:
            row = w_t[k]
            for j in range(n_out):
                y[j] += vk * row[j]


@njit(cache=True)
def linear_backward_input(w, d_y, d_v):
    """d_v [In] += w^T d_y. w [Out, In]. (Weight gradients: add_outer_sum, once per episode.)"""
    n_out, n_in = w.shape
    for j in range(n_out):
        dj = d_y[j]
        if dj != 0.0:
            row = w[j]
            for k in range(n_in):
                d_v[k] += dj * row[k]


@njit(cache=True)
def add_outer_sum(g, d, u, n):
    """g [J, K] += sum_{t < n} outer(d[t], u[t]); d [T, J], u [T, K].

    The weight gradient of a whole episode at once: each row of g is read and written once
    (it stays in L1 while the n steps stream past), instead of once per step."""
    J, K = g.shape
    for j in range(J):
        row = g[j]
        for t in range(n):
            dj = d[t, j]
            if dj != 0.0:
                ut = u[t]
                for k in range(K):
                    row[k] += dj * ut[k]
