"""Vector-times-matrix loops for one episode, laid out so the inner loop is a SIMD axpy.

Forward uses the transposed weight w_t [In, Out] (rows scaled by v[k] and added to y), so
no reduction runs in the inner loop and LLVM vectorises it without fastmath. Backward uses
the weight in its stored [Out, In] layout for the same reason. Every loop takes four rows
per pass: y is then loaded and stored once for four multiply-adds instead of once for each,
which is what bounds these loops (the copy preset's controller step: 11 -> 4 us).
"""

from __future__ import annotations

from numba import njit


@njit(cache=True, error_model="numpy")
def add_vec_mat(v, m, y):
    """y [Out] += v^T m for v [In], m [In, Out] (rows of m scaled by v and summed into y)."""
    n_in, n_out = m.shape
    k = 0
    while k + 4 <= n_in:
        v0, v1, v2, v3 = v[k], v[k + 1], v[k + 2], v[k + 3]
        r0, r1, r2, r3 = m[k], m[k + 1], m[k + 2], m[k + 3]
        for j in range(n_out):
            y[j] += v0 * r0[j] + v1 * r1[j] + v2 * r2[j] + v3 * r3[j]
        k += 4
    while k < n_in:
        vk = v[k]
        row = m[k]
        for j in range(n_out):
            y[j] += vk * row[j]
        k += 1


@njit(cache=True, error_model="numpy")
def linear_forward(w_t, bias, v, y):
    """y [Out] = w_t^T v + bias. w_t: [In, Out], v: [In]."""
    for j in range(y.shape[0]):
        y[j] = bias[j]
    add_vec_mat(v, w_t, y)


@njit(cache=True, error_model="numpy")
def linear_backward_input(w, d_y, d_v):
    """d_v [In] += w^T d_y. w [Out, In]. (Weight gradients: add_outer_sum, once per episode.)"""
    add_vec_mat(d_y, w, d_v)


@njit(cache=True, error_model="numpy")
def add_outer_sum(g, d, u, n):
    """g [J, K] += sum_{t < n} outer(d[t], u[t]); d [T, J], u [T, K].

    The weight gradient of a whole episode at once: each row of g stays in L1 while the n
    steps stream past, four steps per pass."""
    J, K = g.shape
    for j in range(J):
        row = g[j]
        t = 0
        while t + 4 <= n:
            d0, d1, d2, d3 = d[t, j], d[t + 1, j], d[t + 2, j], d[t + 3, j]
            u0, u1, u2, u3 = u[t], u[t + 1], u[t + 2], u[t + 3]
            for k in range(K):
                row[k] += d0 * u0[k] + d1 * u1[k] + d2 * u2[k] + d3 * u3[k]
            t += 4
        while t < n:
            dt = d[t, j]
            ut = u[t]
            for k in range(K):
                row[k] += dt * ut[k]
            t += 1
