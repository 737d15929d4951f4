"""NTM addressing, one head at a time: content -> interpolate -> shift -> sharpen.

Each stage is a pair of Numba device functions (forward fills output arrays, backward turns the
gradient of the stage's output into gradients of its inputs). Shapes for one head:
memory mem [N, W], key [W], weightings [N], shift weights [S] with S = 2 s + 1 (shift -s..s).

    content     K_i = key . M_i / (|key| |M_i| + eps)       wc = softmax(beta K)
    interpolate wg = g wc + (1 - g) w_prev
    shift       ws_i = sum_{k=-s..s} wg_{(i - k) mod N} shift_{k+s}    (+1 moves focus down)
    sharpen     w = softmax(gamma log max(ws, floor))    (= ws^gamma / sum, without underflow)

Backward functions *add* into gradients of shared inputs (memory, previous weighting) and *set*
gradients that belong to the stage alone; each says which.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels._common import fast_exp
from kernels.ntm.flags import REASSOC

COS_EPS = 1e-8  # keeps the cosine finite when a memory row or the key is all zeros
SHARPEN_FLOOR = 1e-8  # log() floor for sharpening; below it the weighting's gradient is 0


@njit(cache=True, fastmath=REASSOC, error_model="numpy")
def _normalise(w):
    """w /= sum(w) (a softmax's last step; its exps come from fast_exp, which vectorises)."""
    total = w.dtype.type(0.0)
    for i in range(w.shape[0]):
        total += w[i]
    for i in range(w.shape[0]):
        w[i] = w[i] / total


@njit(cache=True, fastmath=REASSOC)
def content_forward(key, beta, mem, K, wc):
    """K [N] cosine similarities, wc [N] = softmax(beta * K)."""
    N, W = mem.shape
    nk = 0.0
    for j in range(W):
        nk += key[j] * key[j]
    nk = math.sqrt(nk)
    for i in range(N):
        dot = 0.0
        nm = 0.0
        for j in range(W):
            dot += key[j] * mem[i, j]
            nm += mem[i, j] * mem[i, j]
        K[i] = dot / (nk * math.sqrt(nm) + COS_EPS)
    mx = beta * K[0]
    for i in range(1, N):
        if beta * K[i] > mx:
            mx = beta * K[i]
    for i in range(N):
        wc[i] = fast_exp(beta * K[i] - mx)
    _normalise(wc)


@njit(cache=True, fastmath=REASSOC, error_model="numpy")
def content_backward(key, beta, mem, K, wc, d_wc, d_key, d_mem):
    """Returns d_beta. Sets d_key [W]; adds into d_mem [N, W].

    Three passes, so that each inner loop touches few arrays (one loop updating d_key and
    d_mem together needed run-time alias checks on six arrays for every row: 2x slower):
    the per-row scalars, then d_mem row by row, then d_key = sum_i d_dot_i M_i + (sum ck) key.
    """
    N, W = mem.shape
    s = 0.0
    for i in range(N):
        s += wc[i] * d_wc[i]
    nk = 0.0
    for j in range(W):
        nk += key[j] * key[j]
    nk = math.sqrt(nk)
    d_dot = np.empty(N, dtype=mem.dtype)  # dL/d(key . M_i)
    c_mem = np.empty(N, dtype=mem.dtype)  # coefficient of M_i in dL/dM_i (from |M_i|)
    d_beta = 0.0
    c_key = 0.0  # coefficient of key in dL/dkey (from |key|)
    for i in range(N):
        dz = wc[i] * (d_wc[i] - s)
        d_beta += dz * K[i]
        dK = beta * dz
        nm = 0.0
        for j in range(W):
            nm += mem[i, j] * mem[i, j]
        nm = math.sqrt(nm)
        denom = nk * nm + COS_EPS
        d_dot[i] = dK / denom
        # K = dot / denom: d denom = -dK * K / denom; denom = |k| |m| + eps
        d_den = -dK * K[i] / denom
        if nk > 0.0:  # d|k|/dk = k/|k| (0 at k = 0)
            c_key += d_den * nm / nk
        c_mem[i] = d_den * nk / nm if nm > 0.0 else 0.0
    for i in range(N):
        dd, cm = d_dot[i], c_mem[i]
        row, d_row = mem[i], d_mem[i]
        for j in range(W):
            d_row[j] += dd * key[j] + cm * row[j]
    for j in range(W):
        d_key[j] = c_key * key[j]
    for i in range(N):
        dd = d_dot[i]
        row = mem[i]
        for j in range(W):
            d_key[j] += dd * row[j]
    return d_beta


@njit(cache=True)
def interpolate_forward(wc, w_prev, g, wg):
    for i in range(wc.shape[0]):
        wg[i] = g * wc[i] + (1.0 - g) * w_prev[i]


@njit(cache=True, fastmath=REASSOC)
def interpolate_backward(wc, w_prev, g, d_wg, d_wc, d_w_prev):
    """Returns d_g. Sets d_wc; adds into d_w_prev."""
    d_g = 0.0
    for i in range(wc.shape[0]):
        d_g += d_wg[i] * (wc[i] - w_prev[i])
        d_wc[i] = g * d_wg[i]
        d_w_prev[i] += (1.0 - g) * d_wg[i]
    return d_g


@njit(cache=True, inline="always")
def _wrap(i, N):
    """i mod N for -N <= i < 2N (shift ranges are below N): no integer division per tap."""
    if i < 0:
        return i + N
    if i >= N:
        return i - N
    return i


@njit(cache=True)
def shift_forward(wg, shift, ws):
    """Circular convolution of wg [N] with shift [S] (index k <-> shift k - s)."""
    N = wg.shape[0]
    S = shift.shape[0]
    s = S // 2
    for i in range(N):
        acc = 0.0
        for k in range(S):
            acc += wg[_wrap(i - (k - s), N)] * shift[k]
        ws[i] = acc


@njit(cache=True)
def shift_backward(wg, shift, d_ws, d_wg, d_shift):
    """Sets d_wg [N] and d_shift [S]."""
    N = wg.shape[0]
    S = shift.shape[0]
    s = S // 2
    for i in range(N):
        d_wg[i] = 0.0
    for k in range(S):
        d_shift[k] = 0.0
    for i in range(N):
        for k in range(S):
            src = _wrap(i - (k - s), N)
            d_wg[src] += d_ws[i] * shift[k]
            d_shift[k] += d_ws[i] * wg[src]


@njit(cache=True)
def sharpen_forward(ws, gamma, w):
    """w = softmax(gamma * log(max(ws, floor)))."""
    N = ws.shape[0]
    mx = -1e300
    for i in range(N):
        z = gamma * math.log(max(ws[i], SHARPEN_FLOOR))
        w[i] = z
        if z > mx:
            mx = z
    for i in range(N):
        w[i] = fast_exp(w[i] - mx)
    _normalise(w)


@njit(cache=True, fastmath=REASSOC)
def sharpen_backward(ws, gamma, w, d_w, d_ws):
    """Returns d_gamma. Sets d_ws (0 where ws is below the floor: log max() is flat there)."""
    N = ws.shape[0]
    s = 0.0
    for i in range(N):
        s += w[i] * d_w[i]
    d_gamma = 0.0
    for i in range(N):
        dz = w[i] * (d_w[i] - s)
        if ws[i] > SHARPEN_FLOOR:
            d_gamma += dz * math.log(ws[i])
            d_ws[i] = gamma * dz / ws[i]
        else:
            d_gamma += dz * math.log(SHARPEN_FLOOR)
            d_ws[i] = 0.0
    return d_gamma
