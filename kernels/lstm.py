"""LSTM cell over a whole sequence (forward, exact BPTT backward) and one interactive step.

PyTorch's equations (torch.nn.LSTM), gate order i, f, g, o in the stacked weights:

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      f = sigmoid(W_if x + b_if + W_hf h + b_hf)
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)         o = sigmoid(W_io x + b_io + W_ho h + b_ho)
    c' = f * c + i * g                              h' = o * tanh(c')

Shapes: x [T, B, I]; h0, c0 [B, H]; weight_ih [4H, I]; weight_hh [4H, H]; bias_* [4H].

Speed plan: one GEMM for every input projection of the sequence (x[T*B, I] @ W_ih^T), one GEMM
per step for h @ W_hh^T, the gate math fused in one loop around it. Backward stores the
pre-activation gradients of all steps and finishes dW_ih, dW_hh and dx with one GEMM each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from kernels._common import (
    as_c,
    check_sequence,
    grad_or_zeros,
    one,
    sigmoid,
    tanh,
    unpack_params,
)

GATES = 4


@dataclass(frozen=True)
class LSTMTrace:
    """Everything one forward pass computed; backward needs nothing else.

    out [T, B, H] all h_t; c [T, B, H] all c_t; gates [T, B, 4H] post-activation (i, f, g, o);
    h_n, c_n [B, H]; x, h0, c0 and params are the (dtype-converted) inputs.
    """

    x: np.ndarray
    h0: np.ndarray
    c0: np.ndarray
    params: dict
    out: np.ndarray
    c: np.ndarray
    gates: np.ndarray
    h_n: np.ndarray
    c_n: np.ndarray


@njit(cache=True, nogil=True, error_model="numpy")
def forward_arrays(x, h0, c0, w_ih, w_hh, b_ih, b_hh, hs, cs, gates):
    """Fill hs, cs [T, B, H] and gates [T, B, 4H] (post-activation i, f, g, o) in place."""
    T, B, I = x.shape
    H = h0.shape[1]
    G = 4 * H
    # gates holds the input projections (plus both biases) first, then is overwritten step by
    # step with the activations.
    pre = gates.reshape(T * B, G)
    np.dot(x.reshape(T * B, I), w_ih.T, pre)
    bias = b_ih + b_hh
    for row in range(T * B):
        pre[row] += bias
    rec = np.empty((B, G), dtype=x.dtype)
    w_hh_t = w_hh.T
    for t in range(T):
        if t == 0:
            h_prev = h0
            c_prev = c0
        else:
            h_prev = hs[t - 1]
            c_prev = cs[t - 1]
        np.dot(h_prev, w_hh_t, rec)
        for b in range(B):
            _gates_fwd(gates[t, b], rec[b], c_prev[b], cs[t, b], hs[t, b], H)


@njit(cache=True, inline="always", error_model="numpy")
def _gates_fwd(g, rec, c_prev, c_out, h_out, H):
    """One row: g [4H] pre-activations (input part) in, activations out; rec [4H] = W_hh h."""
    for j in range(H):
        i = sigmoid(g[j] + rec[j])
        f = sigmoid(g[H + j] + rec[H + j])
        gg = tanh(g[2 * H + j] + rec[2 * H + j])
        o = sigmoid(g[3 * H + j] + rec[3 * H + j])
        c = f * c_prev[j] + i * gg
        g[j] = i
        g[H + j] = f
        g[2 * H + j] = gg
        g[3 * H + j] = o
        c_out[j] = c
        h_out[j] = o * tanh(c)


@njit(cache=True, nogil=True, error_model="numpy")
def backward_arrays(
    x, h0, c0, w_ih, w_hh, hs, cs, gates, d_out, dh, dc, d_h, d_pre, dx, dw_ih, dw_hh, db
):
    """Exact BPTT. dh, dc [B, H] enter as dL/dh_n, dL/dc_n and leave as dL/dh0, dL/dc0.

    Fills d_h [T, B, H] (total dL/dh_t), d_pre [T, B, 4H] (dL/d pre-activations), dx [T, B, I],
    dw_ih [4H, I], dw_hh [4H, H] and db [4H] (equal for bias_ih and bias_hh).
    """
    T, B, I = x.shape
    H = h0.shape[1]
    G = 4 * H
    for t in range(T - 1, -1, -1):
        c_prev = c0 if t == 0 else cs[t - 1]
        for b in range(B):
            _gates_bwd(
                gates[t, b],
                cs[t, b],
                c_prev[b],
                d_out[t, b],
                dh[b],
                dc[b],
                d_h[t, b],
                d_pre[t, b],
                H,
            )
        np.dot(d_pre[t], w_hh, dh)
    d_pre2 = d_pre.reshape(T * B, G)
    np.dot(d_pre2, w_ih, dx.reshape(T * B, I))
    np.dot(d_pre2.T, x.reshape(T * B, I), dw_ih)
    np.dot(d_pre[0].T, h0, dw_hh)
    if T > 1:
        dw_hh += np.dot(d_pre[1:].reshape((T - 1) * B, G).T, hs[: T - 1].reshape((T - 1) * B, H))
    db[:] = 0.0
    for row in range(T * B):
        db += d_pre2[row]


@njit(cache=True, inline="always", error_model="numpy")
def _gates_bwd(g, c, c_prev, d_out, dh, dc, d_h, p, H):
    """One row of one step. dh, dc [H] hold the gradient from step t+1; dc leaves as dL/dc_{t-1}
    and p [4H] receives dL/d pre-activations (i, f, g, o)."""
    for j in range(H):
        one_ = one(c[j])
        dht = d_out[j] + dh[j]
        d_h[j] = dht
        i = g[j]
        f = g[H + j]
        gg = g[2 * H + j]
        o = g[3 * H + j]
        tc = tanh(c[j])
        dct = dc[j] + dht * o * (one_ - tc * tc)
        p[j] = dct * gg * i * (one_ - i)
        p[H + j] = dct * c_prev[j] * f * (one_ - f)
        p[2 * H + j] = dct * i * (one_ - gg * gg)
        p[3 * H + j] = dht * tc * o * (one_ - o)
        dc[j] = dct * f


@njit(cache=True, error_model="numpy")
def step_arrays(x_t, h, c, w_ih, w_hh, b_ih, b_hh, h_out, c_out, gates_out):
    """One step in place: x_t [B, I], h, c [B, H] -> h_out, c_out [B, H], gates_out [B, 4H].

    The cheapest entry point (no checks, no allocation but one [B, 4H] scratch): the
    interactive screen and the latency benchmark call this directly. All arrays C-contiguous
    and of one float dtype.
    """
    B = x_t.shape[0]
    H = h.shape[1]
    np.dot(x_t, w_ih.T, gates_out)
    rec = np.dot(h, w_hh.T)
    for b in range(B):
        rec[b] += b_ih
        rec[b] += b_hh
        _gates_fwd(gates_out[b], rec[b], c[b], c_out[b], h_out[b], H)


def forward(x, h0, c0, params) -> LSTMTrace:
    """Run the LSTM over x [T, B, I] from h0, c0 [B, H]; dtype follows x."""
    x, h0, (T, B, input_size, H) = check_sequence(x, h0)
    c0 = as_c(c0, x.dtype)
    if c0.shape != h0.shape:
        raise ValueError(f"c0 must have the shape of h0 {h0.shape}, got {c0.shape}")
    w_ih, w_hh, b_ih, b_hh = unpack_params(params, GATES, input_size, H, x.dtype)
    if T == 0:
        raise ValueError("x must have at least one time step (T >= 1)")
    hs = np.empty((T, B, H), dtype=x.dtype)
    cs = np.empty((T, B, H), dtype=x.dtype)
    gates = np.empty((T, B, GATES * H), dtype=x.dtype)
    forward_arrays(x, h0, c0, w_ih, w_hh, b_ih, b_hh, hs, cs, gates)
    conv = {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh}
    return LSTMTrace(x, h0, c0, conv, hs, cs, gates, hs[T - 1], cs[T - 1])


def backward(trace: LSTMTrace, d_out, d_h_n=None, d_c_n=None) -> dict:
    """Exact BPTT through `trace`.

    d_out [T, B, H] (None = zeros), d_h_n, d_c_n [B, H] (None = zeros) ->
    dict "input" [T, B, I], "h0", "c0" [B, H], "weight_ih", "weight_hh", "bias_ih", "bias_hh",
    and "d_h" [T, B, H]: the total gradient dL/dh_t reaching each step.
    """
    x = trace.x
    T, B, input_size = x.shape
    H = trace.h0.shape[1]
    dt = x.dtype
    d_out = grad_or_zeros(d_out, (T, B, H), dt, "d_out")
    dh = grad_or_zeros(d_h_n, (B, H), dt, "d_h_n").copy()
    dc = grad_or_zeros(d_c_n, (B, H), dt, "d_c_n").copy()
    p = trace.params
    d_h = np.empty((T, B, H), dtype=dt)
    d_pre = np.empty((T, B, GATES * H), dtype=dt)
    dx = np.empty((T, B, input_size), dtype=dt)
    dw_ih = np.empty((GATES * H, input_size), dtype=dt)
    dw_hh = np.empty((GATES * H, H), dtype=dt)
    db = np.empty(GATES * H, dtype=dt)
    backward_arrays(
        x,
        trace.h0,
        trace.c0,
        p["weight_ih"],
        p["weight_hh"],
        trace.out,
        trace.c,
        trace.gates,
        d_out,
        dh,
        dc,
        d_h,
        d_pre,
        dx,
        dw_ih,
        dw_hh,
        db,
    )
    return {
        "input": dx,
        "h0": dh,
        "c0": dc,
        "weight_ih": dw_ih,
        "weight_hh": dw_hh,
        "bias_ih": db,
        "bias_hh": db.copy(),
        "d_h": d_h,
    }


def step(x_t, h, c, params):
    """One LSTM step: x_t [B, I], h, c [B, H] -> (h_new, c_new, gates [B, 4H] as i, f, g, o)."""
    x_t = np.asarray(x_t)
    dt = x_t.dtype if x_t.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    x_t = as_c(x_t, dt)
    h = as_c(h, dt)
    c = as_c(c, dt)
    H = h.shape[1]
    w_ih, w_hh, b_ih, b_hh = unpack_params(params, GATES, x_t.shape[1], H, dt)
    h_new = np.empty_like(h)
    c_new = np.empty_like(c)
    gates = np.empty((h.shape[0], GATES * H), dtype=dt)
    step_arrays(x_t, h, c, w_ih, w_hh, b_ih, b_hh, h_new, c_new, gates)
    return h_new, c_new, gates
