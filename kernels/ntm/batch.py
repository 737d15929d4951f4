"""A batch of NTM episodes: prange over the episodes, one gradient row per episode.

Each episode runs whole in one thread (episode.py). Gradients go to grads[b] (a flat row of
the parameter vector's size) and the caller sums the rows in a fixed order, so results do
not depend on how many threads ran or how the episodes were scheduled.

The arguments travel as tuples (api.py builds them) down to episode.py, which takes the
weights as they are and each trace array sliced to episode b:
    forward weights  (w_ih_t, w_hh_t, bias, h0, c0, heads_w_t, heads_b, out_w_t, out_b,
                      read0, w0, head_off, shifts, mem_init)
    backward weights (w_ih, w_hh, heads_w, out_w, read0, w0, head_off, shifts)
    trace            (ctrl_in, hs, cs, gates, act, addr, reads, mems, logits), each with a
                     leading [B] axis over episode.py's per-episode arrays.
Each loop comes twice, with prange and with range: one body compiled under two `parallel`
flags would share one Numba cache entry, so the twins are two functions over one
per-episode helper.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from kernels.ntm.episode import episode_backward, episode_forward


@njit(cache=True)
def _episode_trace(trace, b):
    """Episode b's slice of every [B, ...] trace array, in the same order."""
    ctrl_in, hs, cs, gates, act, addr, reads, mems, logits = trace
    return (ctrl_in[b], hs[b], cs[b], gates[b], act[b], addr[b], reads[b], mems[b], logits[b])


@njit(cache=True)
def _forward_episode(b, x, lengths, weights, trace):
    """Episode b of the batch: x [B, T, X], lengths [B]; fills trace[...][b]."""
    episode_forward(x[b], lengths[b], weights, _episode_trace(trace, b))


@njit(cache=True, parallel=True, nogil=True)
def forward_batch(x, lengths, weights, trace):
    """x [B, T, X], lengths [B]; fills the [B, ...] trace arrays, episodes in parallel."""
    for b in prange(x.shape[0]):
        _forward_episode(b, x, lengths, weights, trace)


@njit(cache=True, nogil=True)
def forward_serial(x, lengths, weights, trace):
    """forward_batch without threads (batch 1, or a busy machine)."""
    for b in range(x.shape[0]):
        _forward_episode(b, x, lengths, weights, trace)


@njit(cache=True)
def _take(row, offset, shape):
    """The parameter of `shape` at `offset` of a flat gradient row, as a view."""
    n = 1
    for d in shape:
        n *= d
    return row[offset : offset + n].reshape(shape)


@njit(cache=True)
def _backward_episode(b, x, lengths, targets, mask, scale, weights, trace, offsets, grads):
    """Episode b: sets grads[b] (a flat parameter row) and returns its loss in nats."""
    w_ih, w_hh, heads_w, out_w, read0, w0 = weights[:6]
    G, I = w_ih.shape
    S = w_hh.shape[1]  # H, or 0 for the feed-forward controller (no state of its own)
    P, H = heads_w.shape
    Y, Oi = out_w.shape
    R, W = read0.shape
    n_heads, N = w0.shape
    row = grads[b]
    row[:] = 0.0
    views = (
        _take(row, offsets[0], (G, I)),
        _take(row, offsets[1], (G, S)),
        _take(row, offsets[2], (G,)),
        _take(row, offsets[3], (S,)),
        _take(row, offsets[4], (S,)),
        _take(row, offsets[5], (P, H)),
        _take(row, offsets[6], (P,)),
        _take(row, offsets[7], (Y, Oi)),
        _take(row, offsets[8], (Y,)),
        _take(row, offsets[9], (R, W)),
        _take(row, offsets[10], (n_heads, N)),
    )
    trace_b = _episode_trace(trace, b)
    return episode_backward(x[b], lengths[b], targets[b], mask[b], scale, weights, trace_b, views)


@njit(cache=True, parallel=True, nogil=True)
def backward_batch(x, lengths, targets, mask, scale, weights, trace, offsets, grads, losses):
    """targets [B, T, Y], mask [B, T]; grads [B, size] (overwritten) and losses [B] (nats).
    offsets: start of each parameter in the flat vector, in layout.param_shapes() order."""
    for b in prange(x.shape[0]):
        losses[b] = _backward_episode(
            b, x, lengths, targets, mask, scale, weights, trace, offsets, grads
        )


@njit(cache=True, nogil=True)
def backward_serial(x, lengths, targets, mask, scale, weights, trace, offsets, grads, losses):
    """backward_batch without threads."""
    for b in range(x.shape[0]):
        losses[b] = _backward_episode(
            b, x, lengths, targets, mask, scale, weights, trace, offsets, grads
        )


def sum_rows(grads: np.ndarray) -> np.ndarray:
    """[B, size] -> [size], summed in batch order (deterministic)."""
    if grads.shape[0] == 1:
        return grads[0].copy()
    total = grads[0].copy()
    for b in range(1, grads.shape[0]):
        total += grads[b]
    return total
