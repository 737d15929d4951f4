"""The update for one training example, shared by the Hogwild kernels and the stepping UI.

Notation (the notes'): W [V, D] holds the input vectors (the embeddings people keep), W' [V, D]
the output vectors. One example is a list of input words and one target word:

- skip-gram: inputs = [centre], target = one context word;  h = W[centre]
- CBOW:      inputs = the context words, target = the centre; h = (1/C) sum_i W[input_i]

Objectives (u_o = W'[o] . h the score of output word o, sigma the logistic function):

- full softmax:      loss = -log softmax(u)[target];  dL/du_o = p_o - [o == target]
- negative sampling: loss = -log sigma(u_target) - sum_k log sigma(-u_k) over k sampled words;
                     dL/du_o = sigma(u_o) - label_o (label 1 for the target, 0 for negatives)

SGD with rate alpha: W'[o] -= alpha dL/du_o h (for every scored o), and the input rows get
neu1e = -alpha dL/dh = -alpha sum_o dL/du_o W'[o] (with the *old* W' rows, as word2vec.c). For
CBOW the exact gradient gives each context row neu1e / C; word2vec.c and gensim add the whole
neu1e to every context row (cbow_exact=False), an effective C-times larger step for the input
vectors. A negative equal to the target is skipped (as gensim and word2vec.c).

Sigmoids are exact, or read from word2vec.c's table (exact_sigmoid=False: faster, sigma off
by up to ~3e-3; a score beyond |u| >= 6 makes no update, as gensim: a saturated pair, often a
frequent word drawn as a negative that really is a neighbour, is left alone). Scores are
accumulated in the arrays' dtype.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels.word2vec.tables import MAX_EXP, TABLE_SIZE

FASTMATH = {"reassoc", "contract"}  # lets the D-long dot products vectorise; no nnan/ninf


@njit(cache=True, inline="always")
def exact_sigmoid(a):
    if a >= 0.0:
        return 1.0 / (1.0 + math.exp(-a))
    e = math.exp(a)
    return e / (1.0 + e)


@njit(cache=True, inline="always")
def neg_log_sigmoid(a):
    """-log sigma(a) = log(1 + exp(-a)), stable for any a."""
    if a >= 0.0:
        return math.log1p(math.exp(-a))
    return -a + math.log1p(math.exp(a))


@njit(cache=True, inline="always")
def _sigmoid_and_loss(f, label, exact, sig_table, nls_table):
    """(sigma(f), -log sigma(f) if label else -log sigma(-f))."""
    if exact:
        s = exact_sigmoid(f)
        loss = neg_log_sigmoid(f) if label > 0.5 else neg_log_sigmoid(-f)
        return s, loss
    if f > -MAX_EXP and f < MAX_EXP:
        index = int((f + MAX_EXP) * (TABLE_SIZE / MAX_EXP / 2.0))
        s = sig_table[index]
        loss = nls_table[index] if label > 0.5 else nls_table[TABLE_SIZE - 1 - index]
        return s, loss
    # Saturated (or NaN): no update, as gensim (s = label makes g = 0); the loss is the
    # asymptote -log sigma(x) ~ max(0, -x), NaN stays NaN so divergence is seen.
    x = f if label > 0.5 else -f
    return label, (-x if x < 0.0 else 0.0) if x == x else x


# The loops index the 2-D arrays directly (W[o, j]) instead of taking row views: a view
# costs an atomic reference-count update on the array, and Hogwild threads sharing W would
# bounce that counter's cache line between cores on every pair.


@njit(cache=True, inline="always", fastmath=FASTMATH)
def negative_sampling_update(
    W_out, H, hr, neu1e, target, negatives, n_neg, alpha, exact, sig_table, nls_table, gbuf
):
    """Score target + negatives[:n_neg] against h = H[hr], update their W' rows in place and
    add -alpha dL/dh to neu1e [D]. Returns the loss."""
    D = neu1e.shape[0]
    loss = 0.0
    for k in range(n_neg + 1):
        if k == 0:
            o = target
            label = 1.0
        else:
            o = negatives[k - 1]
            if o == target:
                continue
            label = 0.0
        f = gbuf[1]  # a zero of the arrays' dtype, so the dot product stays in that dtype
        for j in range(D):
            f += H[hr, j] * W_out[o, j]
        s, term = _sigmoid_and_loss(f, label, exact, sig_table, nls_table)
        loss += term
        gbuf[0] = (label - s) * alpha
        g = gbuf[0]
        for j in range(D):
            neu1e[j] += g * W_out[o, j]
            W_out[o, j] += g * H[hr, j]
    return loss


@njit(cache=True, inline="always", fastmath=FASTMATH)
def full_softmax_update(W_out, H, hr, neu1e, target, alpha, scores, gbuf):
    """Score every word against h = H[hr] (scores: [V] float64 work space), update all of W'
    and neu1e. Returns -log softmax(u)[target]."""
    V, D = W_out.shape
    top = -np.inf
    for o in range(V):
        f = gbuf[1]
        for j in range(D):
            f += H[hr, j] * W_out[o, j]
        scores[o] = f
        if f > top:
            top = f
    total = 0.0
    for o in range(V):
        scores[o] = math.exp(scores[o] - top)
        total += scores[o]
    loss = -math.log(scores[target] / total)
    for o in range(V):
        p = scores[o] / total
        label = 1.0 if o == target else 0.0
        gbuf[0] = (label - p) * alpha
        g = gbuf[0]
        for j in range(D):
            neu1e[j] += g * W_out[o, j]
            W_out[o, j] += g * H[hr, j]
    return loss


@njit(cache=True, inline="always", fastmath=FASTMATH)
def apply_example(
    W_in,
    W_out,
    inputs,
    n_inputs,
    target,
    negatives,
    n_neg,
    alpha,
    softmax,
    cbow_exact,
    exact,
    sig_table,
    nls_table,
    h,
    neu1e,
    scores,
    gbuf,
):
    """One SGD update for inputs[:n_inputs] -> target (see the module docstring).

    n_inputs == 1 is skip-gram (h is the centre's row); more is CBOW (h the mean of the rows).
    h: [1, D] and neu1e: [D] work space (h unused for skip-gram); scores: [V] float64 work
    space (full softmax only). Returns the example's loss."""
    D = W_in.shape[1]
    for j in range(D):
        neu1e[j] = 0.0
    if n_inputs == 1:
        H = W_in  # skip-gram reads the centre's row in place (it is updated last)
        hr = inputs[0]
    else:
        H = h
        hr = 0
        for j in range(D):
            h[0, j] = 0.0
        for i in range(n_inputs):
            w = inputs[i]
            for j in range(D):
                h[0, j] += W_in[w, j]
        gbuf[0] = 1.0 / n_inputs
        inv = gbuf[0]
        for j in range(D):
            h[0, j] *= inv
    if softmax:
        loss = full_softmax_update(W_out, H, hr, neu1e, target, alpha, scores, gbuf)
    else:
        loss = negative_sampling_update(
            W_out, H, hr, neu1e, target, negatives, n_neg, alpha, exact, sig_table, nls_table,
            gbuf,
        )  # fmt: skip
    if n_inputs > 1 and cbow_exact:
        gbuf[0] = 1.0 / n_inputs
        inv = gbuf[0]
        for j in range(D):
            neu1e[j] *= inv
    for i in range(n_inputs):
        w = inputs[i]
        for j in range(D):
            W_in[w, j] += neu1e[j]
    return loss


@njit(cache=True)
def compiled_sigmoid_tables(exact):
    """tables.sigmoid_tables() built in compiled code (zeros when exact: then unused), for
    the one-update entry points."""
    sig_table = np.zeros(TABLE_SIZE)
    nls_table = np.zeros(TABLE_SIZE)
    if not exact:
        for i in range(TABLE_SIZE):
            x = (i / TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
            sig_table[i] = exact_sigmoid(x)
            nls_table[i] = neg_log_sigmoid(x)
    return sig_table, nls_table


@njit(cache=True)
def _update_pair(W_in, W_out, inputs, target, negatives, alpha, softmax, cbow_exact, exact):
    sig_table, nls_table = compiled_sigmoid_tables(exact)
    D = W_in.shape[1]
    h = np.zeros((1, D), W_in.dtype)
    neu1e = np.zeros(D, W_in.dtype)
    gbuf = np.zeros(2, W_in.dtype)
    scores = np.zeros(W_out.shape[0] if softmax else 1)
    return apply_example(
        W_in, W_out, inputs, inputs.shape[0], target, negatives, negatives.shape[0], alpha,
        softmax, cbow_exact, exact, sig_table, nls_table, h, neu1e, scores, gbuf,
    )  # fmt: skip


def check_weights(W_in: np.ndarray, W_out: np.ndarray) -> None:
    """ValueError unless W_in and W_out can be updated in place by the compiled code."""
    if W_in.dtype != W_out.dtype or W_in.shape != W_out.shape:
        raise ValueError("W_in and W_out must have the same shape and dtype")
    if not (W_in.flags.c_contiguous and W_out.flags.c_contiguous):
        raise ValueError("W_in and W_out must be C-contiguous (they are updated in place)")


def update_pair(
    W_in: np.ndarray,
    W_out: np.ndarray,
    inputs,
    target: int,
    negatives=None,
    alpha: float = 0.025,
    cbow_exact: bool = False,
    exact_sigmoid: bool = True,
) -> float:
    """Apply one update in place with the training kernels' own code; return its loss.

    W_in, W_out: [V, D] float32 or float64 (same dtype, C-contiguous); inputs: [C] word ids
    (one id: skip-gram); negatives: [k] word ids, or None for the full softmax."""
    check_weights(W_in, W_out)
    inputs = np.ascontiguousarray(inputs, dtype=np.int64).reshape(-1)
    if inputs.size == 0:
        raise ValueError("an example needs at least one input word")
    softmax = negatives is None
    negs = np.zeros(0, np.int64) if softmax else np.ascontiguousarray(negatives, dtype=np.int64)
    V = W_in.shape[0]
    for name, ids in (("inputs", inputs), ("negatives", negs), ("target", np.array([target]))):
        if ids.size and (ids.min() < 0 or ids.max() >= V):
            raise ValueError(f"{name} holds word ids outside 0..{V - 1}")
    return float(
        _update_pair(W_in, W_out, inputs, int(target), negs, float(alpha), softmax,
                     bool(cbow_exact), bool(exact_sigmoid))
    )  # fmt: skip
