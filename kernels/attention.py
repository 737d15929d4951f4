"""Additive (Bahdanau) attention: forward and exact backward.

For a decoder state s [B, Hq] and encoder outputs h_j (the values) [S, B, Hv]:

    k_j  = W_k h_j                       keys, projected once per sequence: kp [S, B, A]
    e_j  = v . tanh(W_q s + k_j)         scores [B, S]
    a    = softmax_j(e)                  attention weights [B, S]
    ctx  = sum_j a_j h_j                 context [B, Hv]

Parameters: w_q [A, Hq], v [A] here; W_k [A, Hv] is applied by the caller (one GEMM over
all steps, `project_keys`), whose backward is `d_enc += d_kp @ W_k`, `dW_k = d_kp^T enc`.
float32 and float64 both work; everything follows the dtype of `values`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels._common import tanh


# error_model="numpy" and the arithmetic tanh of kernels._common let LLVM vectorise the
# inner loop over A (libm's scalar tanh blocks it; it was most of the decoder's time).
@njit(cache=True, error_model="numpy")
def _forward(query, kp, values, w_q, v, alpha, ctx, th):
    S, B, A = kp.shape
    Hv = values.shape[2]
    q = np.dot(query, w_q.T)  # [B, A]
    for b in range(B):
        top = -np.inf
        for j in range(S):
            row = th[j, b]
            k_row = kp[j, b]
            q_row = q[b]
            for a in range(A):
                row[a] = tanh(q_row[a] + k_row[a])
            e = 0.0
            for a in range(A):
                e += v[a] * row[a]
            alpha[b, j] = e
            if e > top:
                top = e
        total = 0.0
        for j in range(S):
            alpha[b, j] = math.exp(alpha[b, j] - top)
            total += alpha[b, j]
        for j in range(S):
            alpha[b, j] /= total
        for h in range(Hv):
            acc = 0.0
            for j in range(S):
                acc += alpha[b, j] * values[j, b, h]
            ctx[b, h] = acc


@njit(cache=True, error_model="numpy")
def _backward(query, values, w_q, v, alpha, th, d_ctx, d_alpha, d_query, d_kp, d_values, d_wq, d_v):
    S, B, A = th.shape
    Hv = values.shape[2]
    d_q = np.zeros((B, A), dtype=values.dtype)
    d_v[:] = 0.0
    for b in range(B):
        # d_alpha from the context, then through the softmax to the scores
        for j in range(S):
            acc = d_alpha[b, j]
            for h in range(Hv):
                acc += d_ctx[b, h] * values[j, b, h]
                d_values[j, b, h] = alpha[b, j] * d_ctx[b, h]
            d_alpha[b, j] = acc
        mean = 0.0
        for j in range(S):
            mean += alpha[b, j] * d_alpha[b, j]
        for j in range(S):
            d_e = alpha[b, j] * (d_alpha[b, j] - mean)
            for a in range(A):
                t = th[j, b, a]
                d_v[a] += d_e * t
                d_pre = d_e * v[a] * (1.0 - t * t)
                d_kp[j, b, a] = d_pre
                d_q[b, a] += d_pre
    np.dot(d_q.T, query, d_wq)
    np.dot(d_q, w_q, d_query)


class AttentionTrace:
    """What forward computed: alpha [B, S], ctx [B, Hv], th [S, B, A] = tanh(W_q s + k_j)."""

    def __init__(self, query, kp, values, w_q, v, alpha, ctx, th):
        self.query, self.kp, self.values = query, kp, values
        self.w_q, self.v = w_q, v
        self.alpha, self.ctx, self.th = alpha, ctx, th


def _c(a, dtype):
    return np.ascontiguousarray(a, dtype=dtype)


def project_keys(enc: np.ndarray, w_k: np.ndarray) -> np.ndarray:
    """enc [S, B, Hv], w_k [A, Hv] -> kp [S, B, A] (one GEMM for every step)."""
    S, B, Hv = enc.shape
    return (enc.reshape(S * B, Hv) @ w_k.T).reshape(S, B, -1)


def forward(query, kp, values, w_q, v) -> AttentionTrace:
    """query [B, Hq], kp [S, B, A], values [S, B, Hv], w_q [A, Hq], v [A] -> trace."""
    values = np.asarray(values)
    dt = values.dtype if values.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    values = _c(values, dt)
    query, kp, w_q, v = _c(query, dt), _c(kp, dt), _c(w_q, dt), _c(v, dt)
    S, B, Hv = values.shape
    A = w_q.shape[0]
    if kp.shape != (S, B, A) or query.shape != (B, w_q.shape[1]) or v.shape != (A,):
        raise ValueError(
            f"attention shapes: query {query.shape}, kp {kp.shape}, values {values.shape}, "
            f"w_q {w_q.shape}, v {v.shape}; need query [B, Hq], kp [S, B, A], values "
            "[S, B, Hv], w_q [A, Hq], v [A]"
        )
    alpha = np.empty((B, S), dt)
    ctx = np.empty((B, Hv), dt)
    th = np.empty((S, B, A), dt)
    _forward(query, kp, values, w_q, v, alpha, ctx, th)
    return AttentionTrace(query, kp, values, w_q, v, alpha, ctx, th)


def backward(trace: AttentionTrace, d_ctx, d_alpha=None) -> dict:
    """d_ctx [B, Hv] (and optionally d_alpha [B, S]) -> dict "query" [B, Hq], "kp"
    [S, B, A], "values" [S, B, Hv], "w_q" [A, Hq], "v" [A]."""
    dt = trace.values.dtype
    S, B, A = trace.th.shape
    d_ctx = _c(d_ctx, dt)
    d_alpha = np.zeros((B, S), dt) if d_alpha is None else _c(d_alpha, dt).copy()
    d_query = np.empty_like(trace.query)
    d_kp = np.empty_like(trace.kp)
    d_values = np.empty_like(trace.values)
    d_wq = np.empty_like(trace.w_q)
    d_v = np.empty_like(trace.v)
    _backward(
        trace.query,
        trace.values,
        trace.w_q,
        trace.v,
        trace.alpha,
        trace.th,
        d_ctx,
        d_alpha,
        d_query,
        d_kp,
        d_values,
        d_wq,
        d_v,
    )
    return {"query": d_query, "kp": d_kp, "values": d_values, "w_q": d_wq, "v": d_v}
