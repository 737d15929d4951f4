"""GRU cell over a whole sequence (forward, exact BPTT backward) and one interactive step.

PyTorch's equations (torch.nn.GRU), gate order r, z, n in the stacked weights:

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) * n + z * h

Shapes: x [T, B, I]; h0 [B, H]; weight_ih [3H, I]; weight_hh [3H, H]; bias_* [3H].
The trace keeps hn = W_hn h + b_hn [T, B, H] because the n gate's backward needs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit

from kernels._common import as_c, check_sequence, grad_or_zeros, sigmoid, unpack_params

GATES = 3


@dataclass(frozen=True)
class GRUTrace:
    """Everything one forward pass computed; backward needs nothing else.

    out [T, B, H] all h_t; gates [T, B, 3H] post-activation (r, z, n); hn [T, B, H] the
    recurrent part of n's pre-activation (W_hn h_{t-1} + b_hn); h_n [B, H].
    """

    x: np.ndarray
    h0: np.ndarray
    params: dict
    out: np.ndarray
    gates: np.ndarray
    hn: np.ndarray
    h_n: np.ndarray


@njit(cache=True, nogil=True)
def forward_arrays(x, h0, w_ih, w_hh, b_ih, b_hh, hs, gates, hn):
    """Fill hs, hn [T, B, H] and gates [T, B, 3H] (post-activation r, z, n) in place."""
    T, B, I = x.shape
    H = h0.shape[1]
    G = 3 * H
    np.dot(x.reshape(T * B, I), w_ih.T, gates.reshape(T * B, G))
    rec = np.empty((B, G), dtype=x.dtype)
    w_hh_t = w_hh.T
    for t in range(T):
        h_prev = h0 if t == 0 else hs[t - 1]
        np.dot(h_prev, w_hh_t, rec)
        g_t = gates[t]
        for b in range(B):
            for j in range(H):
                r = sigmoid(g_t[b, j] + b_ih[j] + rec[b, j] + b_hh[j])
                z = sigmoid(g_t[b, H + j] + b_ih[H + j] + rec[b, H + j] + b_hh[H + j])
                rn = rec[b, 2 * H + j] + b_hh[2 * H + j]
                n = math.tanh(g_t[b, 2 * H + j] + b_ih[2 * H + j] + r * rn)
                g_t[b, j] = r
                g_t[b, H + j] = z
                g_t[b, 2 * H + j] = n
                hn[t, b, j] = rn
                hs[t, b, j] = (1.0 - z) * n + z * h_prev[b, j]


@njit(cache=True, nogil=True)
def backward_arrays(
    x,
    h0,
    w_ih,
    w_hh,
    hs,
    gates,
    hn,
    d_out,
    dh,
    d_h,
    d_pre_i,
    d_pre_h,
    dx,
    dw_ih,
    dw_hh,
    db_ih,
    db_hh,
):
    """Exact BPTT. dh [B, H] enters as dL/dh_n and leaves as dL/dh0.

    d_pre_i / d_pre_h [T, B, 3H] are dL/d(W_i* x + b_i*) and dL/d(W_h* h + b_h*); they differ
    only in the n block (the recurrent part of n is scaled by r).
    """
    T, B, I = x.shape
    H = h0.shape[1]
    G = 3 * H
    direct = np.empty((B, H), dtype=x.dtype)
    for t in range(T - 1, -1, -1):
        h_prev = h0 if t == 0 else hs[t - 1]
        g_t = gates[t]
        pi = d_pre_i[t]
        ph = d_pre_h[t]
        for b in range(B):
            for j in range(H):
                dht = d_out[t, b, j] + dh[b, j]
                d_h[t, b, j] = dht
                r = g_t[b, j]
                z = g_t[b, H + j]
                n = g_t[b, 2 * H + j]
                dan = dht * (1.0 - z) * (1.0 - n * n)
                dar = dan * hn[t, b, j] * r * (1.0 - r)
                daz = dht * (h_prev[b, j] - n) * z * (1.0 - z)
                pi[b, j] = dar
                pi[b, H + j] = daz
                pi[b, 2 * H + j] = dan
                ph[b, j] = dar
                ph[b, H + j] = daz
                ph[b, 2 * H + j] = dan * r
                direct[b, j] = dht * z
        np.dot(ph, w_hh, dh)
        dh += direct
    pi2 = d_pre_i.reshape(T * B, G)
    ph2 = d_pre_h.reshape(T * B, G)
    np.dot(pi2, w_ih, dx.reshape(T * B, I))
    np.dot(pi2.T, x.reshape(T * B, I), dw_ih)
    np.dot(d_pre_h[0].T, h0, dw_hh)
    if T > 1:
        dw_hh += np.dot(d_pre_h[1:].reshape((T - 1) * B, G).T, hs[: T - 1].reshape((T - 1) * B, H))
    for k in range(G):
        db_ih[k] = 0.0
        db_hh[k] = 0.0
    for row in range(T * B):
        for k in range(G):
            db_ih[k] += pi2[row, k]
            db_hh[k] += ph2[row, k]


@njit(cache=True)
def step_arrays(x_t, h, w_ih, w_hh, b_ih, b_hh, h_out, gates_out):
    """One step in place: x_t [B, I], h [B, H] -> h_out [B, H], gates_out [B, 3H] (r, z, n).

    The cheapest entry point (no checks): the interactive screen and the latency benchmark
    call this directly. All arrays C-contiguous and of one float dtype.
    """
    B = x_t.shape[0]
    H = h.shape[1]
    np.dot(x_t, w_ih.T, gates_out)
    rec = np.dot(h, w_hh.T)
    for b in range(B):
        for j in range(H):
            r = sigmoid(gates_out[b, j] + b_ih[j] + rec[b, j] + b_hh[j])
            z = sigmoid(gates_out[b, H + j] + b_ih[H + j] + rec[b, H + j] + b_hh[H + j])
            rn = rec[b, 2 * H + j] + b_hh[2 * H + j]
            n = math.tanh(gates_out[b, 2 * H + j] + b_ih[2 * H + j] + r * rn)
            gates_out[b, j] = r
            gates_out[b, H + j] = z
            gates_out[b, 2 * H + j] = n
            h_out[b, j] = (1.0 - z) * n + z * h[b, j]


def forward(x, h0, params) -> GRUTrace:
    """Run the GRU over x [T, B, I] from h0 [B, H]; dtype follows x."""
    x, h0, (T, B, input_size, H) = check_sequence(x, h0)
    w_ih, w_hh, b_ih, b_hh = unpack_params(params, GATES, input_size, H, x.dtype)
    if T == 0:
        raise ValueError("x must have at least one time step (T >= 1)")
    hs = np.empty((T, B, H), dtype=x.dtype)
    hn = np.empty((T, B, H), dtype=x.dtype)
    gates = np.empty((T, B, GATES * H), dtype=x.dtype)
    forward_arrays(x, h0, w_ih, w_hh, b_ih, b_hh, hs, gates, hn)
    conv = {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh}
    return GRUTrace(x, h0, conv, hs, gates, hn, hs[T - 1])


def backward(trace: GRUTrace, d_out, d_h_n=None) -> dict:
    """Exact BPTT through `trace`.

    d_out [T, B, H] (None = zeros), d_h_n [B, H] (None = zeros) -> dict "input" [T, B, I],
    "h0" [B, H], "weight_ih", "weight_hh", "bias_ih", "bias_hh", and "d_h" [T, B, H]: the
    total gradient dL/dh_t reaching each step.
    """
    x = trace.x
    T, B, input_size = x.shape
    H = trace.h0.shape[1]
    dt = x.dtype
    G = GATES * H
    d_out = grad_or_zeros(d_out, (T, B, H), dt, "d_out")
    dh = grad_or_zeros(d_h_n, (B, H), dt, "d_h_n").copy()
    p = trace.params
    d_h = np.empty((T, B, H), dtype=dt)
    d_pre_i = np.empty((T, B, G), dtype=dt)
    d_pre_h = np.empty((T, B, G), dtype=dt)
    dx = np.empty((T, B, input_size), dtype=dt)
    dw_ih = np.empty((G, input_size), dtype=dt)
    dw_hh = np.empty((G, H), dtype=dt)
    db_ih = np.empty(G, dtype=dt)
    db_hh = np.empty(G, dtype=dt)
    backward_arrays(
        x,
        trace.h0,
        p["weight_ih"],
        p["weight_hh"],
        trace.out,
        trace.gates,
        trace.hn,
        d_out,
        dh,
        d_h,
        d_pre_i,
        d_pre_h,
        dx,
        dw_ih,
        dw_hh,
        db_ih,
        db_hh,
    )
    return {
        "input": dx,
        "h0": dh,
        "weight_ih": dw_ih,
        "weight_hh": dw_hh,
        "bias_ih": db_ih,
        "bias_hh": db_hh,
        "d_h": d_h,
    }


def step(x_t, h, params):
    """One GRU step: x_t [B, I], h [B, H] -> (h_new [B, H], gates [B, 3H] as r, z, n)."""
    x_t = np.asarray(x_t)
    dt = x_t.dtype if x_t.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    x_t = as_c(x_t, dt)
    h = as_c(h, dt)
    H = h.shape[1]
    w_ih, w_hh, b_ih, b_hh = unpack_params(params, GATES, x_t.shape[1], H, dt)
    h_new = np.empty_like(h)
    gates = np.empty((h.shape[0], GATES * H), dtype=dt)
    step_arrays(x_t, h, w_ih, w_hh, b_ih, b_hh, h_new, gates)
    return h_new, gates
