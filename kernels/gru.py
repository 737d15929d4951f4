"""GRU cell over a whole sequence (forward, exact BPTT backward) and one interactive step.

PyTorch's equations (torch.nn.GRU), gate order r, z, n in the stacked weights:

    r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   h' = (1 - z) * n + z * h

Shapes: x [T, B, I]; h0 [B, H]; weight_ih [3H, I]; weight_hh [3H, H]; bias_* [3H].
The trace keeps hn = W_hn h + b_hn [T, B, H] because the n gate's backward needs it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
from numba import njit, prange

from kernels._common import (
    add_into,
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


@njit(cache=True, nogil=True, error_model="numpy")
def forward_arrays(x, h0, w_ih, w_hh, b_ih, b_hh, hs, gates, hn, threads):
    """Fill hs, hn [T, B, H] and gates [T, B, 3H] (post-activation r, z, n) in place; batch
    rows in up to `threads` parallel chunks (see kernels/lstm.py)."""
    T, B, I = x.shape
    G = w_hh.shape[0]
    # gates holds the input projections first; each step overwrites its slice with activations.
    matmul_packed(
        x.reshape(T * B, I), pack_transposed(w_ih), gates.reshape(T * B, G), False, threads
    )
    w_hh_t = pack_transposed(w_hh)
    chunks = batch_chunks(B, threads)
    if chunks > 1:
        _forward_chunks(h0, w_hh_t, b_ih, b_hh, hs, gates, hn, chunks)
    else:
        _forward_rows(h0, w_hh_t, b_ih, b_hh, hs, gates, hn, 0, B)


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _forward_chunks(h0, w_hh_t, b_ih, b_hh, hs, gates, hn, chunks):
    for i in prange(chunks):
        r0, r1 = chunk_bounds(h0.shape[0], chunks, i)
        _forward_rows(h0, w_hh_t, b_ih, b_hh, hs, gates, hn, r0, r1)


@njit(cache=True, nogil=True, error_model="numpy")
def _forward_rows(h0, w_hh_t, b_ih, b_hh, hs, gates, hn, r0, r1):
    """The recurrence for batch rows r0:r1 (w_hh_t [H, 3H] = W_hh^T, packed)."""
    rec = np.empty((r1 - r0, gates.shape[2]), dtype=hs.dtype)
    for t in range(hs.shape[0]):
        h_prev = h0[r0:r1] if t == 0 else hs[t - 1, r0:r1]
        matmul_rows(h_prev, w_hh_t, rec, 0, r1 - r0, False)
        _fwd_step(gates[t, r0:r1], rec, b_ih, b_hh, h_prev, hn[t, r0:r1], hs[t, r0:r1])


@njit(cache=True, error_model="numpy")
def _fwd_step(g_t, rec, b_ih, b_hh, h_prev, hn_out, h_out):
    """Gate math of one step. g_t [B, 3H]: input projections in, activations (r, z, n) out;
    rec [B, 3H] = h W_hh^T; h_prev, hn_out, h_out [B, H].

    Not inlined and one slice per gate on purpose: both keep LLVM vectorising the loop (see
    kernels/lstm.py, _fwd_step).
    """
    H = h_out.shape[1]
    bir, biz, bin_ = b_ih[:H], b_ih[H : 2 * H], b_ih[2 * H :]
    bhr, bhz, bhn = b_hh[:H], b_hh[H : 2 * H], b_hh[2 * H :]
    for b in range(g_t.shape[0]):
        g, r_, hp, hno, ho = g_t[b], rec[b], h_prev[b], hn_out[b], h_out[b]
        gr, gz, gn = g[:H], g[H : 2 * H], g[2 * H :]
        rr, rz, rn = r_[:H], r_[H : 2 * H], r_[2 * H :]
        for j in range(H):
            r = sigmoid(gr[j] + bir[j] + rr[j] + bhr[j])
            z = sigmoid(gz[j] + biz[j] + rz[j] + bhz[j])
            hn = rn[j] + bhn[j]
            n = tanh(gn[j] + bin_[j] + r * hn)
            gr[j] = r
            gz[j] = z
            gn[j] = n
            hno[j] = hn
            ho[j] = (one(z) - z) * n + z * hp[j]


@njit(cache=True, nogil=True, error_model="numpy")
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
    workspace,
    threads,
):
    """Exact BPTT. dh [B, H] enters as dL/dh_n and leaves as dL/dh0.

    d_pre_i / d_pre_h [T, B, 3H] are dL/d(W_i* x + b_i*) and dL/d(W_h* h + b_h*); they differ
    only in the n block (the recurrent part of n is scaled by r).
    """
    T, B, I = x.shape
    G = w_hh.shape[0]
    w_hh_p = pack(w_hh)  # W_hh [G, H] as the per-step product dL/dh = d_pre @ W_hh reads it
    chunks = batch_chunks(B, threads)
    if chunks > 1:
        _backward_chunks(h0, w_hh_p, hs, gates, hn, d_out, dh, d_h, d_pre_i, d_pre_h, chunks)
    else:
        _backward_rows(h0, w_hh_p, hs, gates, hn, d_out, dh, d_h, d_pre_i, d_pre_h, 0, B)
    pi2 = d_pre_i.reshape(T * B, G)
    matmul(pi2, w_ih, dx.reshape(T * B, I), False, threads)
    d_pre_h2 = d_pre_h.reshape(T * B, G)
    cell_weight_gradients(pi2, d_pre_h2, x, h0, hs, dw_ih, dw_hh, workspace, threads)
    sum_rows(pi2, db_ih)
    sum_rows(d_pre_h2, db_hh)


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _backward_chunks(h0, w_hh_p, hs, gates, hn, d_out, dh, d_h, d_pre_i, d_pre_h, chunks):
    for i in prange(chunks):
        r0, r1 = chunk_bounds(h0.shape[0], chunks, i)
        _backward_rows(h0, w_hh_p, hs, gates, hn, d_out, dh, d_h, d_pre_i, d_pre_h, r0, r1)


@njit(cache=True, nogil=True, error_model="numpy")
def _backward_rows(h0, w_hh_p, hs, gates, hn, d_out, dh, d_h, d_pre_i, d_pre_h, r0, r1):
    """The recurrent sweep back for batch rows r0:r1 (w_hh_p = pack(W_hh [3H, H]))."""
    direct = np.empty((r1 - r0, h0.shape[1]), dtype=hs.dtype)
    rows = slice(r0, r1)
    for t in range(hs.shape[0] - 1, -1, -1):
        h_prev = h0[rows] if t == 0 else hs[t - 1, rows]
        _bwd_step(
            gates[t, rows],
            hn[t, rows],
            h_prev,
            d_out[t, rows],
            dh[rows],
            d_h[t, rows],
            d_pre_i[t, rows],
            d_pre_h[t, rows],
            direct,
        )
        matmul_rows(d_pre_h[t, rows], w_hh_p, dh[rows], 0, r1 - r0, False)
        add_into(dh[rows], direct)


@njit(cache=True, error_model="numpy")
def _bwd_step(g_t, hn_t, h_prev, d_out_t, dh, d_h_t, pi_t, ph_t, direct):
    """One step back. g_t [B, 3H] activations; hn_t, h_prev [B, H]; dh [B, H] the gradient
    from step t+1; fills d_h_t = dL/dh_t, pi_t / ph_t [B, 3H] and direct = dL/dh_t * z (the
    path to h_{t-1} that skips the weights)."""
    H = hn_t.shape[1]
    for b in range(g_t.shape[0]):
        g, hnb, hp, do, dhb, dht_out = g_t[b], hn_t[b], h_prev[b], d_out_t[b], dh[b], d_h_t[b]
        pi, ph, dr = pi_t[b], ph_t[b], direct[b]
        gr, gz, gn = g[:H], g[H : 2 * H], g[2 * H :]
        pir, piz, pin = pi[:H], pi[H : 2 * H], pi[2 * H :]
        phr, phz, phn = ph[:H], ph[H : 2 * H], ph[2 * H :]
        for j in range(H):
            one_ = one(hnb[j])
            dht = do[j] + dhb[j]
            dht_out[j] = dht
            r = gr[j]
            z = gz[j]
            n = gn[j]
            dan = dht * (one_ - z) * (one_ - n * n)
            dar = dan * hnb[j] * r * (one_ - r)
            daz = dht * (hp[j] - n) * z * (one_ - z)
            pir[j] = dar
            piz[j] = daz
            pin[j] = dan
            phr[j] = dar
            phz[j] = daz
            phn[j] = dan * r
            dr[j] = dht * z


@njit(cache=True, error_model="numpy")
def step_arrays(x_t, h, w_ih_t, w_hh_t, b_ih, b_hh, h_out, gates_out):
    """One step in place: x_t [B, I], h [B, H] -> h_out [B, H], gates_out [B, 3H] (r, z, n).

    The cheapest entry point (no checks), for callers that step many times: the weights come
    transposed and packed once (w_ih_t = pack(weight_ih.T [I, G*H]), w_hh_t =
    pack(weight_hh.T [H, G*H]): see step_weights). The same sums as forward's first step, bit
    for bit. All arrays C-contiguous and of one float dtype.
    """
    B = x_t.shape[0]
    matmul_rows(x_t, w_ih_t, gates_out, 0, B, False)
    rec = np.empty_like(gates_out)
    matmul_rows(h, w_hh_t, rec, 0, B, False)
    hn = np.empty_like(h)
    _fwd_step(gates_out, rec, b_ih, b_hh, h, hn, h_out)


def forward(x, h0, params) -> GRUTrace:
    """Run the GRU over x [T, B, I] from h0 [B, H]; dtype follows x."""
    x, h0, (T, B, input_size, H) = check_sequence(x, h0)
    w_ih, w_hh, b_ih, b_hh = unpack_params(params, GATES, input_size, H, x.dtype)
    if T == 0:
        raise ValueError("x must have at least one time step (T >= 1)")
    hs = np.empty((T, B, H), dtype=x.dtype)
    hn = np.empty((T, B, H), dtype=x.dtype)
    gates = np.empty((T, B, GATES * H), dtype=x.dtype)
    forward_arrays(x, h0, w_ih, w_hh, b_ih, b_hh, hs, gates, hn, numba.get_num_threads())
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
    d_pre_i = scratch("gru.d_pre_i", T * B * G, dt).reshape((T, B, G))
    d_pre_h = scratch("gru.d_pre_h", T * B * G, dt).reshape((T, B, G))
    workspace = scratch("cells.workspace", T * B * (G + H), dt)
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
        workspace,
        numba.get_num_threads(),
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
    step_arrays(x_t, h, *step_weights(w_ih, w_hh), b_ih, b_hh, h_new, gates)
    return h_new, gates
