"""A batch of MANN episodes: prange over the episodes, each whole in one thread (episode.py).

No thread writes where another reads: episode b fills only the [b] slices of the trace and of
the per-step gradients, and the weight gradients are matrix products over the whole batch
afterwards (api.py), so results do not depend on how many threads ran. Each loop comes twice,
with prange and with range (one body under two `parallel` flags would share one Numba cache
entry), over one per-episode helper.

    trace (hs, cs, gates, act, least_used, w_write, sim, w_read, usage, mems, reads, logits),
    each with a leading [B] axis over episode.py's per-episode arrays.
"""

from __future__ import annotations

from numba import njit, prange

from kernels.mann.episode import episode_backward, episode_forward


@njit(cache=True)
def _episode_trace(trace, b):
    hs, cs, gates, act, least_used, w_write, sim, w_read, usage, mems, reads, logits = trace
    return (
        hs[b], cs[b], gates[b], act[b], least_used[b], w_write[b], sim[b], w_read[b],
        usage[b], mems[b], reads[b], logits[b],
    )  # fmt: skip


@njit(cache=True)
def _forward_episode(b, xproj, weights, gamma, mem_init, key_strength, trace):
    episode_forward(xproj[b], weights, gamma, mem_init, key_strength, _episode_trace(trace, b))


@njit(cache=True, parallel=True, nogil=True)
def forward_batch(xproj, weights, gamma, mem_init, key_strength, trace):
    """xproj [B, T, G]; fills the [B, ...] trace arrays, episodes in parallel."""
    for b in prange(xproj.shape[0]):
        _forward_episode(b, xproj, weights, gamma, mem_init, key_strength, trace)


@njit(cache=True, nogil=True)
def forward_serial(xproj, weights, gamma, mem_init, key_strength, trace):
    """forward_batch without threads (batch 1, or a busy machine)."""
    for b in range(xproj.shape[0]):
        _forward_episode(b, xproj, weights, gamma, mem_init, key_strength, trace)


@njit(cache=True)
def _backward_episode(b, labels, mask, scale, weights, key_strength, trace, d_pre, d_raw, d_y):
    return episode_backward(
        labels[b], mask[b], scale, weights, key_strength, _episode_trace(trace, b),
        d_pre[b], d_raw[b], d_y[b],
    )  # fmt: skip


@njit(cache=True, parallel=True, nogil=True)
def backward_batch(labels, mask, scale, weights, key_strength, trace, d_pre, d_raw, d_y, losses):
    """labels [B, T] (int64), mask [B, T]; fills d_pre [B, T, G], d_raw [B, T, P],
    d_y [B, T, Y] and losses [B] (nats)."""
    for b in prange(labels.shape[0]):
        losses[b] = _backward_episode(
            b, labels, mask, scale, weights, key_strength, trace, d_pre, d_raw, d_y
        )


@njit(cache=True, nogil=True)
def backward_serial(labels, mask, scale, weights, key_strength, trace, d_pre, d_raw, d_y, losses):
    """backward_batch without threads."""
    for b in range(labels.shape[0]):
        losses[b] = _backward_episode(
            b, labels, mask, scale, weights, key_strength, trace, d_pre, d_raw, d_y
        )
