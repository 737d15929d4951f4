"""Elman RNN cell over a whole sequence (forward, exact BPTT backward) and one step.

PyTorch's equation (torch.nn.RNN):  h' = act(W_ih x + b_ih + W_hh h + b_hh),  act tanh or relu.

Shapes: x [T, B, I]; h0 [B, H]; weight_ih [H, I]; weight_hh [H, H]; bias_* [H].
The activation's derivative is read off the output (1 - h'^2 for tanh, h' > 0 for relu), so
the trace needs no pre-activations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from kernels._common import as_c, check_sequence, grad_or_zeros, unpack_params

NONLINEARITIES = ("tanh", "relu")
_ACT_CODE = {"tanh": 0, "relu": 1}


def _act_code(nonlinearity: str) -> int:
    if nonlinearity not in _ACT_CODE:
        raise ValueError(
            f"nonlinearity must be one of {', '.join(repr(n) for n in NONLINEARITIES)}, "
            f"got {nonlinearity!r}"
        )
    return _ACT_CODE[nonlinearity]


@dataclass(frozen=True)
class RNNTrace:
    """Everything one forward pass computed: out [T, B, H] all h_t, h_n [B, H], the inputs."""

    x: np.ndarray
    h0: np.ndarray
    params: dict
    nonlinearity: str
    out: np.ndarray
    h_n: np.ndarray


@njit(cache=True, nogil=True)
def forward_arrays(x, h0, w_ih, w_hh, b_ih, b_hh, act, hs):
    """Fill hs [T, B, H] in place; act 0 = tanh, 1 = relu."""
    T, B, I = x.shape
    H = h0.shape[1]
    np.dot(x.reshape(T * B, I), w_ih.T, hs.reshape(T * B, H))
    rec = np.empty((B, H), dtype=x.dtype)
    w_hh_t = w_hh.T
    for t in range(T):
        h_prev = h0 if t == 0 else hs[t - 1]
        np.dot(h_prev, w_hh_t, rec)
        h_t = hs[t]
        for b in range(B):
            for j in range(H):
                a = h_t[b, j] + b_ih[j] + rec[b, j] + b_hh[j]
                if act == 0:
                    h_t[b, j] = np.tanh(a)
                else:
                    h_t[b, j] = a if a > 0.0 else 0.0


@njit(cache=True, nogil=True)
def backward_arrays(x, h0, w_ih, w_hh, hs, act, d_out, dh, d_h, d_pre, dx, dw_ih, dw_hh, db):
    """Exact BPTT. dh [B, H] enters as dL/dh_n and leaves as dL/dh0; db serves both biases."""
    T, B, I = x.shape
    H = h0.shape[1]
    for t in range(T - 1, -1, -1):
        p_t = d_pre[t]
        for b in range(B):
            for j in range(H):
                dht = d_out[t, b, j] + dh[b, j]
                d_h[t, b, j] = dht
                h = hs[t, b, j]
                if act == 0:
                    p_t[b, j] = dht * (1.0 - h * h)
                else:
                    p_t[b, j] = dht if h > 0.0 else 0.0
        np.dot(p_t, w_hh, dh)
    d_pre2 = d_pre.reshape(T * B, H)
    np.dot(d_pre2, w_ih, dx.reshape(T * B, I))
    np.dot(d_pre2.T, x.reshape(T * B, I), dw_ih)
    np.dot(d_pre[0].T, h0, dw_hh)
    if T > 1:
        dw_hh += np.dot(d_pre[1:].reshape((T - 1) * B, H).T, hs[: T - 1].reshape((T - 1) * B, H))
    for k in range(H):
        db[k] = 0.0
    for row in range(T * B):
        for k in range(H):
            db[k] += d_pre2[row, k]


@njit(cache=True)
def step_arrays(x_t, h, w_ih, w_hh, b_ih, b_hh, act, h_out):
    """One step in place: x_t [B, I], h [B, H] -> h_out [B, H]; act 0 = tanh, 1 = relu.

    The cheapest entry point (no checks): the interactive screen and the latency benchmark
    call this directly. All arrays C-contiguous and of one float dtype.
    """
    B = x_t.shape[0]
    H = h.shape[1]
    np.dot(x_t, w_ih.T, h_out)
    rec = np.dot(h, w_hh.T)
    for b in range(B):
        for j in range(H):
            a = h_out[b, j] + b_ih[j] + rec[b, j] + b_hh[j]
            if act == 0:
                h_out[b, j] = np.tanh(a)
            else:
                h_out[b, j] = a if a > 0.0 else 0.0


def forward(x, h0, params, nonlinearity="tanh") -> RNNTrace:
    """Run the RNN over x [T, B, I] from h0 [B, H]; dtype follows x."""
    act = _act_code(nonlinearity)
    x, h0, (T, B, input_size, H) = check_sequence(x, h0)
    w_ih, w_hh, b_ih, b_hh = unpack_params(params, 1, input_size, H, x.dtype)
    if T == 0:
        raise ValueError("x must have at least one time step (T >= 1)")
    hs = np.empty((T, B, H), dtype=x.dtype)
    forward_arrays(x, h0, w_ih, w_hh, b_ih, b_hh, act, hs)
    conv = {"weight_ih": w_ih, "weight_hh": w_hh, "bias_ih": b_ih, "bias_hh": b_hh}
    return RNNTrace(x, h0, conv, nonlinearity, hs, hs[T - 1])


def backward(trace: RNNTrace, d_out, d_h_n=None) -> dict:
    """Exact BPTT through `trace`.

    d_out [T, B, H] (None = zeros), d_h_n [B, H] (None = zeros) -> dict "input" [T, B, I],
    "h0" [B, H], "weight_ih", "weight_hh", "bias_ih", "bias_hh", and "d_h" [T, B, H]: the
    total gradient dL/dh_t reaching each step.
    """
    x = trace.x
    T, B, input_size = x.shape
    H = trace.h0.shape[1]
    dt = x.dtype
    d_out = grad_or_zeros(d_out, (T, B, H), dt, "d_out")
    dh = grad_or_zeros(d_h_n, (B, H), dt, "d_h_n").copy()
    p = trace.params
    d_h = np.empty((T, B, H), dtype=dt)
    d_pre = np.empty((T, B, H), dtype=dt)
    dx = np.empty((T, B, input_size), dtype=dt)
    dw_ih = np.empty((H, input_size), dtype=dt)
    dw_hh = np.empty((H, H), dtype=dt)
    db = np.empty(H, dtype=dt)
    backward_arrays(
        x,
        trace.h0,
        p["weight_ih"],
        p["weight_hh"],
        trace.out,
        _ACT_CODE[trace.nonlinearity],
        d_out,
        dh,
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
        "weight_ih": dw_ih,
        "weight_hh": dw_hh,
        "bias_ih": db,
        "bias_hh": db.copy(),
        "d_h": d_h,
    }


def step(x_t, h, params, nonlinearity="tanh"):
    """One RNN step: x_t [B, I], h [B, H] -> h_new [B, H]."""
    act = _act_code(nonlinearity)
    x_t = np.asarray(x_t)
    dt = x_t.dtype if x_t.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    x_t = as_c(x_t, dt)
    h = as_c(h, dt)
    w_ih, w_hh, b_ih, b_hh = unpack_params(params, 1, x_t.shape[1], h.shape[1], dt)
    h_new = np.empty_like(h)
    step_arrays(x_t, h, w_ih, w_hh, b_ih, b_hh, act, h_new)
    return h_new
