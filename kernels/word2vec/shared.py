"""Skip-gram with negatives shared by a whole context window, as one small dense product.

Intel's pWord2Vec (Ji et al. 2016) and AWS BlazingText's batch_skipgram: instead of one
(centre, context) pair at a time, each with its own k negatives, a window trains all its
pairs at once against the same k negatives. With X [m, D] the rows of W for the window's m
context words and Y [n, D] the rows of W' for the outputs (the centre word, label 1, then the
k negatives, label 0):

    scores   S = X Y^T                          [m, n]
    loss       = sum_a ( -log sigma(S[a, 0]) - sum_{b >= 1} log sigma(-S[a, b]) )
    G        = alpha (labels - sigma(S))        [m, n]   (= -alpha dL/dS)
    W[ctx]  += G Y                              [m, D]
    W'[out] += G^T X                            [n, D]

all from the rows as they were before the window (a plain SGD step on the window's loss). A
negative equal to the centre word is skipped (its column of G is zero), as in the pair
update. A word appearing twice among the contexts (or the negatives) gets both rows' updates
added. Each row of W and W' is read once and written once per window, instead of once per
pair, and the k draws are made once per window: that, and the product's register reuse, is
the speed. The vectors come out as good as the pair update's (scripts/bench_vs_gensim.py).

Like word2vec.c's skip-gram, the context rows of W predict the centre word (the pair update
has the centre's row predict each context word: the same pairs, the other way round).

CBOW (cbow_update) is already one example per window; in the same form it is the product
with m = 1, X = h the mean of the context rows: the output rows are read once and all updated
from their values before the step (the pair update, as word2vec.c, updates them one after
the other, so a negative drawn twice sees its first update). Only the layout is gained.
Sigmoids exact or from the table, saturated scores making no update (see core).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.word2vec.core import (
    FASTMATH,
    _sigmoid_and_loss,
    check_weights,
    compiled_sigmoid_tables,
)


@njit(cache=True, inline="always", fastmath=FASTMATH)
def window_update(
    W_in, W_out, inputs, n_in, outputs, n_out, alpha, exact, sig_table, nls_table, X, Y, DX, DY,
    G, zero,
):  # fmt: skip
    """One shared-negatives step (module docstring): inputs[:n_in] rows of W_in against
    outputs[:n_out] rows of W_out (outputs[0] the target). Work space in the arrays' dtype:
    X, DX [>= n_in, D], Y, DY [>= n_out, D], G [>= n_in, >= n_out]; zero: 0 of that dtype, so
    that the sums stay in it. Returns the loss."""
    D = W_in.shape[1]
    for a in range(n_in):
        w = inputs[a]
        for j in range(D):
            X[a, j] = W_in[w, j]
    loss = window_products(
        W_out, n_in, outputs, n_out, alpha, exact, sig_table, nls_table, X, Y, DX, DY, G, zero
    )
    for a in range(n_in):  # Hogwild: add the change, never write back a copy
        w = inputs[a]
        for j in range(D):
            W_in[w, j] += DX[a, j]
    return loss


@njit(cache=True, inline="always", fastmath=FASTMATH)
def cbow_update(
    W_in, W_out, inputs, n_in, outputs, n_out, alpha, cbow_exact, exact, sig_table, nls_table,
    X, Y, DX, DY, G, zero,
):  # fmt: skip
    """CBOW's step in the same form (m = 1): h = the mean of W_in[inputs[:n_in]] against
    outputs[:n_out] (outputs[0] the centre), every output row scored and updated from its
    value before the step; each context row then gets dL/dh's step (divided by n_in when
    cbow_exact). Work space as window_update (one row of X and DX). Returns the loss."""
    D = W_in.shape[1]
    for j in range(D):
        X[0, j] = zero
    for a in range(n_in):
        w = inputs[a]
        for j in range(D):
            X[0, j] += W_in[w, j]
    G[0, 0] = 1.0 / n_in  # G (overwritten below) makes 1 / n_in a scalar of X's dtype
    inv = G[0, 0]
    for j in range(D):
        X[0, j] *= inv
    loss = window_products(
        W_out, 1, outputs, n_out, alpha, exact, sig_table, nls_table, X, Y, DX, DY, G, zero
    )
    if cbow_exact:
        for j in range(D):
            DX[0, j] *= inv
    for a in range(n_in):
        w = inputs[a]
        for j in range(D):
            W_in[w, j] += DX[0, j]
    return loss


@njit(cache=True, inline="always", fastmath=FASTMATH)
def window_products(
    W_out, n_in, outputs, n_out, alpha, exact, sig_table, nls_table, X, Y, DX, DY, G, zero
):  # fmt: skip
    """Given X[:n_in] (the input rows), read Y = W_out[outputs[:n_out]], compute S = X Y^T,
    G, DX = G Y (left for the caller to apply) and W'[outputs] += G^T X. Returns the loss.

    Y stays contiguous and in L1 for the whole window, and the products run three rows at a
    time: one load of X[a, j] (or of a gradient row) serves three multiply-adds."""
    D = W_out.shape[1]
    target = outputs[0]
    for b in range(n_out):
        o = outputs[b]
        for j in range(D):
            Y[b, j] = W_out[o, j]
    loss = 0.0
    for a in range(n_in):
        b = 0
        while b < n_out:
            s0 = zero
            s1 = zero
            s2 = zero
            if b + 3 <= n_out:
                for j in range(D):
                    x = X[a, j]
                    s0 += x * Y[b, j]
                    s1 += x * Y[b + 1, j]
                    s2 += x * Y[b + 2, j]
                G[a, b] = s0
                G[a, b + 1] = s1
                G[a, b + 2] = s2
                b += 3
            else:
                for j in range(D):
                    s0 += X[a, j] * Y[b, j]
                G[a, b] = s0
                b += 1
        for b in range(n_out):
            if b > 0 and outputs[b] == target:
                G[a, b] = 0.0
                continue
            label = 1.0 if b == 0 else 0.0
            s, term = _sigmoid_and_loss(G[a, b], label, exact, sig_table, nls_table)
            loss += term
            G[a, b] = (label - s) * alpha
    for a in range(n_in):
        _combine_rows(DX, a, G, False, Y, n_out, zero)  # DX = G Y
    if n_in == 1:  # (CBOW) W'[out] += G^T X is one scaled row each: no need for DY
        for b in range(n_out):
            o = outputs[b]
            g = G[0, b]
            for j in range(D):
                W_out[o, j] += g * X[0, j]
        return loss
    for b in range(n_out):
        _combine_rows(DY, b, G, True, X, n_in, zero)  # DY = G^T X
    for b in range(n_out):
        o = outputs[b]
        for j in range(D):
            W_out[o, j] += DY[b, j]
    return loss


@njit(cache=True, inline="always", fastmath=FASTMATH)
def _combine_rows(out, r, G, transposed, rows, n, zero):
    """out[r] = sum_{i < n} G[r, i] rows[i] (G[i, r] if transposed), three rows per pass."""
    D = out.shape[1]
    for j in range(D):
        out[r, j] = zero
    i = 0
    while i < n:
        if i + 3 <= n:
            g0 = G[i, r] if transposed else G[r, i]
            g1 = G[i + 1, r] if transposed else G[r, i + 1]
            g2 = G[i + 2, r] if transposed else G[r, i + 2]
            for j in range(D):
                out[r, j] += g0 * rows[i, j] + g1 * rows[i + 1, j] + g2 * rows[i + 2, j]
            i += 3
        else:
            g0 = G[i, r] if transposed else G[r, i]
            for j in range(D):
                out[r, j] += g0 * rows[i, j]
            i += 1


@njit(cache=True)
def _update_window(W_in, W_out, inputs, outputs, alpha, exact, cbow, cbow_exact):
    sig_table, nls_table = compiled_sigmoid_tables(exact)
    D = W_in.shape[1]
    m, n = inputs.shape[0], outputs.shape[0]
    X = np.zeros((m, D), W_in.dtype)
    Y = np.zeros((n, D), W_in.dtype)
    G = np.zeros((m + 1, n), W_in.dtype)  # the extra row: a typed zero
    if cbow:
        return cbow_update(
            W_in, W_out, inputs, m, outputs, n, alpha, cbow_exact, exact, sig_table, nls_table,
            X, Y, np.zeros_like(X), np.zeros_like(Y), G, G[m, 0],
        )  # fmt: skip
    return window_update(
        W_in, W_out, inputs, m, outputs, n, alpha, exact, sig_table, nls_table, X, Y,
        np.zeros_like(X), np.zeros_like(Y), G, G[m, 0],
    )  # fmt: skip


def update_window(
    W_in: np.ndarray,
    W_out: np.ndarray,
    contexts,
    centre: int,
    negatives,
    alpha: float = 0.025,
    exact_sigmoid: bool = True,
    cbow: bool = False,
    cbow_exact: bool = False,
) -> float:
    """Apply one window step in place with the training kernel's own code; return its loss
    (skip-gram: summed over the window's pairs).

    W_in, W_out: [V, D] float32 or float64 (same dtype, C-contiguous); contexts: [m] word ids
    (m >= 1); centre: the word they predict; negatives: [k] word ids (k >= 0). cbow: the
    contexts' mean predicts the centre (cbow_update) instead of each context (window_update)."""
    check_weights(W_in, W_out)
    contexts = np.ascontiguousarray(contexts, dtype=np.int64).reshape(-1)
    if contexts.size == 0:
        raise ValueError("a window needs at least one context word")
    negatives = np.ascontiguousarray(negatives, dtype=np.int64).reshape(-1)
    outputs = np.concatenate([np.array([int(centre)], np.int64), negatives])
    V = W_in.shape[0]
    for name, ids in (("contexts", contexts), ("centre and negatives", outputs)):
        if ids.min() < 0 or ids.max() >= V:
            raise ValueError(f"{name} hold word ids outside 0..{V - 1}")
    return float(
        _update_window(W_in, W_out, contexts, outputs, float(alpha), bool(exact_sigmoid),
                       bool(cbow), bool(cbow_exact))
    )  # fmt: skip
