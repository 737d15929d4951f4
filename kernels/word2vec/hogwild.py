"""Hogwild training: chunks of sentences on several threads, no locks, as word2vec.c/gensim.

Threads read and write shared rows of W and W' without synchronisation. Collisions are rare
for a real vocabulary and SGD tolerates them, but they make results with more than one thread
nondeterministic. With one thread (Trainer workers=1) the chunks run in order and every
random draw comes from the chunk's own RNG, seeded from (seed, epoch, chunk): the run is then
exactly reproducible, however the chunks are grouped into calls.

The threads are Python threads running train_range without the GIL, each taking the next of
a block's ranges of chunks as it finishes one (Trainer.train_block): on a machine shared with
other work, a thread that gets less CPU takes fewer ranges instead of holding the others at
the block's end, as a static split (numba's prange) did.

Per chunk, per sentence, per token (word2vec.c's loop):
- drop tokens by subsampling (keep when a 32-bit draw < keep_threshold[word]);
- draw the reduced window b in [0, window) per kept centre token: the window is window - b;
- learning rate: linear from alpha_start to alpha_end over the run, by the sentence's position
  (progress_base + sent_starts[s]) / progress_total;
- skip-gram: one example per (centre, context) pair, or with shared=True one per centre word:
  the window's contexts against the centre and k negatives drawn once (kernels.word2vec.shared);
  CBOW: one per centre word (with shared=True in the product layout of the same module);
- negative sampling: k draws by searching a uniform integer in the cumulative table, starting
  from a guide table's bucket (expected O(1); both tables vocabulary-sized, so they stay in
  cache).

The RNG is word2vec.c's 48-bit linear congruential generator.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from kernels.word2vec.core import FASTMATH, apply_example
from kernels.word2vec.shared import cbow_update, window_update

_LCG_MUL = np.uint64(25214903917)
_LCG_ADD = np.uint64(11)
_MASK48 = np.uint64((1 << 48) - 1)
_SHIFT16 = np.uint64(16)
_MASK32 = np.uint64(0xFFFFFFFF)
_SHIFT32 = np.uint64(32)


@njit(cache=True, inline="always")
def _next(state):
    """Advance state (a 1-element uint64 array); return 32 random bits as uint64."""
    state[0] = (state[0] * _LCG_MUL + _LCG_ADD) & _MASK48
    return (state[0] >> _SHIFT16) & _MASK32


@njit(cache=True, inline="always")
def _below(state, n):
    """A uniform integer in [0, n) for n < 2^31 (multiply-shift: no division)."""
    return np.int64((_next(state) * np.uint64(n)) >> _SHIFT32)


@njit(cache=True, inline="always")
def _draw_word(cum_table, guide, total, state):
    """A word with probability proportional to count^0.75: the first i with cum_table[i] > a
    uniform integer u in [0, total). guide[b] is that index for the smallest u of bucket
    b = u * len(guide) // total, so the search starts there and rarely moves (a guide table,
    Chen & Asau 1974: the cumulative-table search in expected O(1))."""
    value = _below(state, total)
    i = guide[(value * guide.shape[0]) // total]
    while cum_table[i] <= value:
        i += 1
    return i


@njit(cache=True, nogil=True, fastmath=FASTMATH)
def train_range(
    W_in, W_out, ids, sent_starts, chunk_sents, c_lo, c_hi, first_chunk, seeds, alpha_start,
    alpha_end, progress_base, progress_total, keep_threshold, cum_table, guide, window,
    negative, sg, shared, softmax, cbow_exact, exact, sig_table, nls_table, max_sentence,
    loss_out, pairs_out, words_out,
):  # fmt: skip
    """Train chunks first_chunk + c_lo .. first_chunk + c_hi - 1 in order. Several threads
    call this at once on disjoint ranges of one block (Trainer.train_block; nogil).

    W_in, W_out: [V, D] updated in place; ids: [N] int32 word ids of the whole corpus;
    sent_starts: [S + 1] sentence offsets into ids; chunk_sents: [K + 1] sentence offsets of
    the chunks; cum_table, guide: [V] negative-sampling tables; seeds: [n] uint64 RNG state
    per chunk of the block (indexed from first_chunk); loss_out, pairs_out, words_out: [n]
    per-chunk loss sum, examples (skip-gram pairs, or windows with shared negatives, or CBOW
    centres) and kept tokens, written here."""
    D = W_in.shape[1]
    V = W_in.shape[0]
    total = np.int64(cum_table[V - 1])
    for c in range(c_lo, c_hi):
        chunk = first_chunk + c
        state = np.empty(1, np.uint64)
        state[0] = seeds[c]
        kept = np.empty(max_sentence, np.int64)
        context = np.empty(2 * window, np.int64)
        negatives = np.empty(max(negative, 1), np.int64)
        outputs = np.empty(negative + 1, np.int64)
        X = np.empty((2 * window, D), W_in.dtype)
        Y = np.empty((negative + 1, D), W_in.dtype)
        DX = np.empty((2 * window, D), W_in.dtype)
        DY = np.empty((negative + 1, D), W_in.dtype)
        G = np.empty((2 * window, negative + 1), W_in.dtype)
        h = np.zeros((1, D), W_in.dtype)
        neu1e = np.zeros(D, W_in.dtype)
        gbuf = np.zeros(2, W_in.dtype)
        scores = np.zeros(V if softmax else 1)
        loss = 0.0
        pairs = 0
        words = 0
        for s in range(chunk_sents[chunk], chunk_sents[chunk + 1]):
            start = sent_starts[s]
            stop = sent_starts[s + 1]
            alpha = alpha_start - (alpha_start - alpha_end) * (
                (progress_base + start) / progress_total
            )
            if alpha < alpha_end:
                alpha = alpha_end
            length = 0
            for p in range(start, stop):
                word = ids[p]
                if _next(state) < keep_threshold[word]:
                    kept[length] = word
                    length += 1
            words += length
            for i in range(length):
                reduced = window - _below(state, window)
                lo = max(0, i - reduced)
                hi = min(length, i + reduced + 1)
                if sg and (softmax or not shared):
                    for j in range(lo, hi):
                        if j == i:
                            continue
                        context[0] = kept[i]
                        if not softmax:
                            for k in range(negative):
                                negatives[k] = _draw_word(cum_table, guide, total, state)
                        loss += apply_example(
                            W_in, W_out, context, 1, kept[j], negatives, negative, alpha,
                            softmax, cbow_exact, exact, sig_table, nls_table, h, neu1e,
                            scores, gbuf,
                        )  # fmt: skip
                        pairs += 1
                    continue
                count = 0
                for j in range(lo, hi):
                    if j != i:
                        context[count] = kept[j]
                        count += 1
                if count == 0:
                    continue
                if not softmax:
                    for k in range(negative):
                        negatives[k] = _draw_word(cum_table, guide, total, state)
                if shared and not softmax:  # the window as one product (shared.py)
                    outputs[0] = kept[i]
                    for k in range(negative):
                        outputs[k + 1] = negatives[k]
                    if sg:  # the window's contexts predict the centre at once
                        loss += window_update(
                            W_in, W_out, context, count, outputs, negative + 1, alpha, exact,
                            sig_table, nls_table, X, Y, DX, DY, G, gbuf[1],
                        )  # fmt: skip
                        pairs += count
                    else:
                        loss += cbow_update(
                            W_in, W_out, context, count, outputs, negative + 1, alpha,
                            cbow_exact, exact, sig_table, nls_table, X, Y, DX, DY, G, gbuf[1],
                        )  # fmt: skip
                        pairs += 1
                else:
                    loss += apply_example(
                        W_in, W_out, context, count, kept[i], negatives, negative, alpha,
                        softmax, cbow_exact, exact, sig_table, nls_table, h, neu1e, scores,
                        gbuf,
                    )  # fmt: skip
                    pairs += 1
        loss_out[c] = loss
        pairs_out[c] = pairs
        words_out[c] = words
