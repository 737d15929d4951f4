"""LSTM cell over a whole sequence (forward, exact BPTT backward) and one interactive step.

PyTorch's equations (torch.nn.LSTM), gate order i, f, g, o in the stacked weights:

    i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      f = sigmoid(W_if x + b_if + W_hf h + b_hf)
    g = tanh(W_ig x + b_ig + W_hg h + b_hg)         o = sigmoid(W_io x + b_io + W_ho h + b_ho)
    c' = f * c + i * g                              h' = o * tanh(c')

Shapes: x [T, B, I]; h0, c0 [B, H]; weight_ih [4H, I]; weight_hh [4H, H]; bias_* [4H].

Speed plan (the same in rnn.py and gru.py): one product for every input projection of the
sequence (x[T*B, I] @ W_ih^T), one per step for h @ W_hh^T, the gate math in one vectorised
loop after it (kernels/_common.py has the SIMD-friendly sigmoid/tanh). Backward stores the
pre-activation gradients of all steps and finishes dW_ih, dW_hh and dx with one product
each. Every product is ours (kernels/_gemm.py), not BLAS's: the same speed and the same bits
on every machine. Batch rows run their recurrences in parallel chunks (numba's threads).
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
    sigmoid,
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
def forward_arrays(x, h0, c0, w_ih, w_hh, b_ih, b_hh, hs, cs, gates, threads):
    """Fill hs, cs [T, B, H] and gates [T, B, 4H] (post-activation i, f, g, o) in place.

    Batch rows are independent, so up to `threads` chunks of rows run their whole
    recurrence in parallel (one parallel region per sequence, none per step).
    """
    T, B, I = x.shape
    G = w_hh.shape[0]
    # gates holds the input projections first; each step overwrites its slice with activations.
    matmul_packed(
        x.reshape(T * B, I), pack_transposed(w_ih), gates.reshape(T * B, G), False, threads
    )
    bias = b_ih + b_hh
    w_hh_t = pack_transposed(w_hh)
    chunks = batch_chunks(B, threads)
    if chunks > 1:
        _forward_chunks(h0, c0, w_hh_t, bias, hs, cs, gates, chunks)
    else:
        _forward_rows(h0, c0, w_hh_t, bias, hs, cs, gates, 0, B)


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _forward_chunks(h0, c0, w_hh_t, bias, hs, cs, gates, chunks):
    for i in prange(chunks):
        r0, r1 = chunk_bounds(h0.shape[0], chunks, i)
        _forward_rows(h0, c0, w_hh_t, bias, hs, cs, gates, r0, r1)


@njit(cache=True, nogil=True, error_model="numpy")
def _forward_rows(h0, c0, w_hh_t, bias, hs, cs, gates, r0, r1):
    """The recurrence for batch rows r0:r1 (w_hh_t [H, 4H] = W_hh^T, packed)."""
    rec = np.empty((r1 - r0, gates.shape[2]), dtype=hs.dtype)
    for t in range(hs.shape[0]):
        h_prev = h0[r0:r1] if t == 0 else hs[t - 1, r0:r1]
        c_prev = c0[r0:r1] if t == 0 else cs[t - 1, r0:r1]
        matmul_rows(h_prev, w_hh_t, rec, 0, r1 - r0, False)
        _fwd_step(gates[t, r0:r1], rec, bias, c_prev, cs[t, r0:r1], hs[t, r0:r1])


@njit(cache=True, error_model="numpy")
def _fwd_step(g_t, rec, bias, c_prev, c_out, h_out):
    """Gate math of one step. g_t [B, 4H]: input projections in, activations (i, f, g, o) out;
    rec [B, 4H] = h W_hh^T; bias [4H] = b_ih + b_hh; c_prev, c_out, h_out [B, H].

    A separate (not inlined) function on purpose: inlined into the time loop, LLVM stopped
    vectorising it (measured 5x slower). Each gate is addressed through its own slice for the
    same reason: with offsets into one array LLVM cannot prove loads and stores apart.
    """
    H = c_out.shape[1]
    bi, bf, bg, bo = bias[:H], bias[H : 2 * H], bias[2 * H : 3 * H], bias[3 * H :]
    for b in range(g_t.shape[0]):
        g, r, cp, co, ho = g_t[b], rec[b], c_prev[b], c_out[b], h_out[b]
        gi, gf, gg, go = g[:H], g[H : 2 * H], g[2 * H : 3 * H], g[3 * H :]
        ri, rf, rg, ro = r[:H], r[H : 2 * H], r[2 * H : 3 * H], r[3 * H :]
        for j in range(H):
            i = sigmoid(gi[j] + ri[j] + bi[j])
            f = sigmoid(gf[j] + rf[j] + bf[j])
            cand = tanh(gg[j] + rg[j] + bg[j])
            o = sigmoid(go[j] + ro[j] + bo[j])
            c = f * cp[j] + i * cand
            gi[j] = i
            gf[j] = f
            gg[j] = cand
            go[j] = o
            co[j] = c
            ho[j] = o * tanh(c)


@njit(cache=True, nogil=True, error_model="numpy")
def backward_arrays(
    x,
    h0,
    c0,
    w_ih,
    w_hh,
    hs,
    cs,
    gates,
    d_out,
    dh,
    dc,
    d_h,
    d_pre,
    dx,
    dw_ih,
    dw_hh,
    db,
    workspace,
    threads,
):
    """Exact BPTT. dh, dc [B, H] enter as dL/dh_n, dL/dc_n and leave as dL/dh0, dL/dc0.

    Fills d_h [T, B, H] (total dL/dh_t), d_pre [T, B, 4H] (dL/d pre-activations), dx [T, B, I],
    dw_ih [4H, I], dw_hh [4H, H] and db [4H] (equal for bias_ih and bias_hh). The recurrent
    sweep runs per chunk of batch rows, like the forward; the weight and input gradients are
    one product each over all steps afterwards.
    """
    T, B, I = x.shape
    G = w_hh.shape[0]
    w_hh_p = pack(w_hh)  # W_hh [G, H] as the per-step product dL/dh = d_pre @ W_hh reads it
    chunks = batch_chunks(B, threads)
    if chunks > 1:
        _backward_chunks(c0, w_hh_p, cs, gates, d_out, dh, dc, d_h, d_pre, chunks)
    else:
        _backward_rows(c0, w_hh_p, cs, gates, d_out, dh, dc, d_h, d_pre, 0, B)
    d_pre2 = d_pre.reshape(T * B, G)
    matmul(d_pre2, w_ih, dx.reshape(T * B, I), False, threads)
    cell_weight_gradients(d_pre2, d_pre2, x, h0, hs, dw_ih, dw_hh, workspace, threads)
    sum_rows(d_pre2, db)


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _backward_chunks(c0, w_hh_p, cs, gates, d_out, dh, dc, d_h, d_pre, chunks):
    for i in prange(chunks):
        r0, r1 = chunk_bounds(c0.shape[0], chunks, i)
        _backward_rows(c0, w_hh_p, cs, gates, d_out, dh, dc, d_h, d_pre, r0, r1)


@njit(cache=True, nogil=True, error_model="numpy")
def _backward_rows(c0, w_hh_p, cs, gates, d_out, dh, dc, d_h, d_pre, r0, r1):
    """The recurrent sweep back for batch rows r0:r1 (w_hh_p = pack(W_hh [4H, H]))."""
    rows = slice(r0, r1)
    for t in range(cs.shape[0] - 1, -1, -1):
        c_prev = c0[rows] if t == 0 else cs[t - 1, rows]
        _bwd_step(
            gates[t, rows],
            cs[t, rows],
            c_prev,
            d_out[t, rows],
            dh[rows],
            dc[rows],
            d_h[t, rows],
            d_pre[t, rows],
        )
        matmul_rows(d_pre[t, rows], w_hh_p, dh[rows], 0, r1 - r0, False)


@njit(cache=True, error_model="numpy")
def _bwd_step(g_t, c_t, c_prev, d_out_t, dh, dc, d_h_t, p_t):
    """One step back. g_t [B, 4H] activations; c_t, c_prev [B, H]; dh, dc [B, H] hold the
    gradient from step t+1 (dc leaves as dL/dc_{t-1}); d_h_t [B, H] receives dL/dh_t and
    p_t [B, 4H] dL/d pre-activations (i, f, g, o). Not inlined, per-gate slices: see _fwd_step.
    """
    H = c_t.shape[1]
    for b in range(g_t.shape[0]):
        g, p, c, cp = g_t[b], p_t[b], c_t[b], c_prev[b]
        do, dhb, dcb, dht_out = d_out_t[b], dh[b], dc[b], d_h_t[b]
        gi, gf, gg, go = g[:H], g[H : 2 * H], g[2 * H : 3 * H], g[3 * H :]
        pi, pf, pg, po = p[:H], p[H : 2 * H], p[2 * H : 3 * H], p[3 * H :]
        for j in range(H):
            one_ = one(c[j])
            dht = do[j] + dhb[j]
            dht_out[j] = dht
            i = gi[j]
            f = gf[j]
            cand = gg[j]
            o = go[j]
            tc = tanh(c[j])
            dct = dcb[j] + dht * o * (one_ - tc * tc)
            pi[j] = dct * cand * i * (one_ - i)
            pf[j] = dct * cp[j] * f * (one_ - f)
            pg[j] = dct * i * (one_ - cand * cand)
            po[j] = dht * tc * o * (one_ - o)
            dcb[j] = dct * f


@njit(cache=True, error_model="numpy")
def step_arrays(x_t, h, c, w_ih_t, w_hh_t, b_ih, b_hh, h_out, c_out, gates_out):
    """One step in place: x_t [B, I], h, c [B, H] -> h_out, c_out [B, H], gates_out [B, 4H].

    The cheapest entry point (no checks), for callers that step many times: the weights come
    transposed and packed once (w_ih_t = pack(weight_ih.T [I, G*H]), w_hh_t =
    pack(weight_hh.T [H, G*H]): see step_weights). The same sums as forward's first step, bit
    for bit. All arrays C-contiguous and of one float dtype.
    """
    B = x_t.shape[0]
    matmul_rows(x_t, w_ih_t, gates_out, 0, B, False)
    rec = np.empty_like(gates_out)
    matmul_rows(h, w_hh_t, rec, 0, B, False)
    _fwd_step(gates_out, rec, b_ih + b_hh, c, c_out, h_out)


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
    forward_arrays(x, h0, c0, w_ih, w_hh, b_ih, b_hh, hs, cs, gates, numba.get_num_threads())
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
    d_pre = scratch("lstm.d_pre", T * B * GATES * H, dt).reshape((T, B, GATES * H))
    workspace = scratch("cells.workspace", T * B * (GATES * H + H), dt)
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
        workspace,
        numba.get_num_threads(),
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
    step_arrays(x_t, h, c, *step_weights(w_ih, w_hh), b_ih, b_hh, h_new, c_new, gates)
    return h_new, c_new, gates
