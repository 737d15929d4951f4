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

from numba import njit

from kernels.ntm.flags import REASSOC

COS_EPS = 1e-8  # keeps the cosine finite when a memory row or the key is all zeros
SHARPEN_FLOOR = 1e-8  # log() floor for sharpening; below it the weighting's gradient is 0


@njit(cache=True, inline="always")
def _softmax_into(z, out):
    """out = softmax(z) (max-subtracted)."""
    mx = z[0]
    for i in range(1, z.shape[0]):
        if z[i] > mx:
            mx = z[i]
    total = 0.0
    for i in range(z.shape[0]):
        e = math.exp(z[i] - mx)
        out[i] = e
        total += e
    for i in range(z.shape[0]):
        out[i] = out[i] / total


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
    total = 0.0
    for i in range(N):
        e = math.exp(beta * K[i] - mx)
        wc[i] = e
        total += e
    for i in range(N):
        wc[i] = wc[i] / total


@njit(cache=True, fastmath=REASSOC)
def content_backward(key, beta, mem, K, wc, d_wc, d_key, d_mem):
    """Returns d_beta. Sets d_key [W]; adds into d_mem [N, W]."""
    N, W = mem.shape
    s = 0.0
    for i in range(N):
        s += wc[i] * d_wc[i]
    d_beta = 0.0
    nk = 0.0
    for j in range(W):
        nk += key[j] * key[j]
        d_key[j] = 0.0
    nk = math.sqrt(nk)
    for i in range(N):
        dz = wc[i] * (d_wc[i] - s)
        d_beta += dz * K[i]
        dK = beta * dz
        nm = 0.0
        for j in range(W):
            nm += mem[i, j] * mem[i, j]
        nm = math.sqrt(nm)
        denom = nk * nm + COS_EPS
        d_dot = dK / denom
        # K = dot / denom: d denom = -dK * K / denom; denom = |k| |m| + eps
        d_den = -dK * K[i] / denom
        ck = d_den * nm / nk if nk > 0.0 else 0.0  # d|k|/dk = k/|k| (0 at k = 0)
        cm = d_den * nk / nm if nm > 0.0 else 0.0
        for j in range(W):
            d_key[j] += d_dot * mem[i, j] + ck * key[j]
            d_mem[i, j] += d_dot * key[j] + cm * mem[i, j]
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


@njit(cache=True)
def shift_forward(wg, shift, ws):
    """Circular convolution of wg [N] with shift [S] (index k <-> shift k - s)."""
    N = wg.shape[0]
    S = shift.shape[0]
    s = S // 2
    for i in range(N):
        acc = 0.0
        for k in range(S):
            acc += wg[(i - (k - s)) % N] * shift[k]
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
            src = (i - (k - s)) % N
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
    total = 0.0
    for i in range(N):
        e = math.exp(w[i] - mx)
        w[i] = e
        total += e
    for i in range(N):
        w[i] = w[i] / total


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
