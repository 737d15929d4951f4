"""Elman RNN cell over a whole sequence (forward, exact BPTT backward) and one step.

PyTorch's equation (torch.nn.RNN):  h' = act(W_ih x + b_ih + W_hh h + b_hh),  act tanh or relu.

Shapes: x [T, B, I]; h0 [B, H]; weight_ih [H, I]; weight_hh [H, H]; bias_* [H].
The activation's derivative is read off the output (1 - h'^2 for tanh, h' > 0 for relu), so
the trace needs no pre-activations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from kernels._common import (
    as_c,
    check_sequence,
    grad_or_zeros,
    one,
    scratch,
    sum_rows,
    tanh,
    unpack_params,
)
from kernels._gemm import (
    batch_chunks,
    cell_weight_gradients,
    chunk_bounds,
    matmul,
    matmul_packed,
    matmul_rows,
    pack,
    pack_transposed,
    step_weights,
)

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


@njit(cache=True, nogil=True, error_model="numpy")
def forward_arrays(x, h0, w_ih, w_hh, b_ih, b_hh, act, hs, threads):
    """Fill hs [T, B, H] in place; act 0 = tanh, 1 = relu; batch rows in up to `threads`
    parallel chunks (see kernels/lstm.py)."""
    T, B, I = x.shape
    H = h0.shape[1]
    # hs holds the input projections first; each step overwrites its slice with activations.
    matmul_packed(x.reshape(T * B, I), pack_transposed(w_ih), hs.reshape(T * B, H), False, threads)
    bias = b_ih + b_hh
    w_hh_t = pack_transposed(w_hh)
    chunks = batch_chunks(B, threads)
    if chunks > 1:
        _forward_chunks(h0, w_hh_t, bias, act, hs, chunks)
    else:
        _forward_rows(h0, w_hh_t, bias, act, hs, 0, B)


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _forward_chunks(h0, w_hh_t, bias, act, hs, chunks):
    for i in prange(chunks):
        r0, r1 = chunk_bounds(h0.shape[0], chunks, i)
        _forward_rows(h0, w_hh_t, bias, act, hs, r0, r1)


@njit(cache=True, nogil=True, error_model="numpy")
def _forward_rows(h0, w_hh_t, bias, act, hs, r0, r1):
    """The recurrence for batch rows r0:r1 (w_hh_t [H, H] = W_hh^T, packed)."""
    rec = np.empty((r1 - r0, hs.shape[2]), dtype=hs.dtype)
    for t in range(hs.shape[0]):
        h_prev = h0[r0:r1] if t == 0 else hs[t - 1, r0:r1]
        matmul_rows(h_prev, w_hh_t, rec, 0, r1 - r0, False)
        _fwd_step(hs[t, r0:r1], rec, bias, act)


@njit(cache=True, error_model="numpy")
def _fwd_step(h_t, rec, bias, act):
    """h_t [B, H]: input projections in, activations out; rec [B, H] = h W_hh^T; bias [H].
    Not inlined on purpose: it keeps LLVM vectorising the loop (see kernels/lstm.py)."""
    for b in range(h_t.shape[0]):
        hb, rb = h_t[b], rec[b]
        if act == 0:
            for j in range(hb.shape[0]):
                hb[j] = tanh(hb[j] + rb[j] + bias[j])
        else:
            for j in range(hb.shape[0]):
                a = hb[j] + rb[j] + bias[j]
                hb[j] = a if a > 0 else one(a) - one(a)  # NaN stays NaN


@njit(cache=True, nogil=True, error_model="numpy")
def backward_arrays(
    x, h0, w_ih, w_hh, hs, act, d_out, dh, d_h, d_pre, dx, dw_ih, dw_hh, db, workspace, threads
):
    """Exact BPTT. dh [B, H] enters as dL/dh_n and leaves as dL/dh0; db serves both biases."""
    T, B, I = x.shape
    H = h0.shape[1]
    w_hh_p = pack(w_hh)  # W_hh [G, H] as the per-step product dL/dh = d_pre @ W_hh reads it
    chunks = batch_chunks(B, threads)
    if chunks > 1:
        _backward_chunks(w_hh_p, hs, act, d_out, dh, d_h, d_pre, chunks)
    else:
        _backward_rows(w_hh_p, hs, act, d_out, dh, d_h, d_pre, 0, B)
    d_pre2 = d_pre.reshape(T * B, H)
    matmul(d_pre2, w_ih, dx.reshape(T * B, I), False, threads)
    cell_weight_gradients(d_pre2, d_pre2, x, h0, hs, dw_ih, dw_hh, workspace, threads)
    sum_rows(d_pre2, db)


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _backward_chunks(w_hh_p, hs, act, d_out, dh, d_h, d_pre, chunks):
    for i in prange(chunks):
        r0, r1 = chunk_bounds(dh.shape[0], chunks, i)
        _backward_rows(w_hh_p, hs, act, d_out, dh, d_h, d_pre, r0, r1)


@njit(cache=True, nogil=True, error_model="numpy")
def _backward_rows(w_hh_p, hs, act, d_out, dh, d_h, d_pre, r0, r1):
    """The recurrent sweep back for batch rows r0:r1 (w_hh_p = pack(W_hh [H, H]))."""
    rows = slice(r0, r1)
    for t in range(hs.shape[0] - 1, -1, -1):
        _bwd_step(hs[t, rows], d_out[t, rows], dh[rows], d_h[t, rows], d_pre[t, rows], act)
        matmul_rows(d_pre[t, rows], w_hh_p, dh[rows], 0, r1 - r0, False)


@njit(cache=True, error_model="numpy")
def _bwd_step(h_t, d_out_t, dh, d_h_t, p_t, act):
    """d_h_t = d_out_t + dh (dL/dh_t); p_t = dL/d pre-activation, from the output h_t."""
    for b in range(h_t.shape[0]):
        hb, do, dhb, dht_out, pb = h_t[b], d_out_t[b], dh[b], d_h_t[b], p_t[b]
        for j in range(hb.shape[0]):
            dht = do[j] + dhb[j]
            dht_out[j] = dht
            h = hb[j]
            if act == 0:
                pb[j] = dht * (one(h) - h * h)
            else:
                pb[j] = dht if h > 0 else one(h) - one(h)


@njit(cache=True, error_model="numpy")
def step_arrays(x_t, h, w_ih_t, w_hh_t, b_ih, b_hh, act, h_out):
    """One step in place: x_t [B, I], h [B, H] -> h_out [B, H]; act 0 = tanh, 1 = relu.

    The cheapest entry point (no checks), for callers that step many times: the weights come
    transposed and packed once (w_ih_t = pack(weight_ih.T [I, G*H]), w_hh_t =
    pack(weight_hh.T [H, G*H]): see step_weights). The same sums as forward's first step, bit
    for bit. All arrays C-contiguous and of one float dtype.
    """
    B = x_t.shape[0]
    matmul_rows(x_t, w_ih_t, h_out, 0, B, False)
    rec = np.empty_like(h_out)
    matmul_rows(h, w_hh_t, rec, 0, B, False)
    _fwd_step(h_out, rec, b_ih + b_hh, act)


def forward(x, h0, params, nonlinearity="tanh") -> RNNTrace:
    """Run the RNN over x [T, B, I] from h0 [B, H]; dtype follows x."""
    act = _act_code(nonlinearity)
    x, h0, (T, B, input_size, H) = check_sequence(x, h0)
    w_ih, w_hh, b_ih, b_hh = unpack_params(params, 1, input_size, H, x.dtype)
    if T == 0:
        raise ValueError("x must have at least one time step (T >= 1)")
    hs = np.empty((T, B, H), dtype=x.dtype)
    forward_arrays(x, h0, w_ih, w_hh, b_ih, b_hh, act, hs, numba.get_num_threads())
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
    d_pre = scratch("rnn.d_pre", T * B * H, dt).reshape((T, B, H))
    workspace = scratch("cells.workspace", T * B * (H + H), dt)
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
        workspace,
        numba.get_num_threads(),
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
    step_arrays(x_t, h, *step_weights(w_ih, w_hh), b_ih, b_hh, act, h_new)
    return h_new
