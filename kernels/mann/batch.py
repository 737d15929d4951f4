"""A batch of MANN episodes, forward and exact backward (BPTT over whole episodes).

Step t of every episode b (the memory's part is memory.py's, one episode at a time):

    u_t      = [x_t, r_{t-1}]                          x_t: sample and last step's label
    h_t, c_t = LSTM(u_t, h_{t-1}, c_{t-1})
    raw_t    = W_heads h_t + b_heads -> per head key_k, add_k, sigma_k (, beta_k)   (heads.py)
    memory   least-used write, content read -> r_t      (memory.py)
    y_t      = W_out [h_t, r_t] + b_out                 logits over the classes (softmax CE)

Everything starts at zero but the memory (MEMORY_INIT in every cell, as the NTM's).

The controller's products of a step run for all the episodes of a chunk at once, as
[rows, K] x [K, N] register-tiled products (kernels/_gemm.py's matmul_rows with packed
weights): one pass over a weight matrix serves every episode, where a loop per episode
re-read it (the weights, 200 KB at the scenario's size, do not stay in L1). Every output
element of those products is its k-ordered sum whichever tile or row block computes it, so
an episode's numbers do not depend on the batch it runs in, on the chunking or on threads.

Chunks: up to `threads` chunks of whole row tiles (kernels/_gemm.py's batch_chunks), each
running its episodes' whole recurrence: one parallel region per call, none per step. No
chunk writes where another reads.

The input projections W_x x_t + b of all steps and the weight gradients are whole-batch
products outside (api.py); backward fills the per-step gradients of the pre-activations
(d_pre [T, B, G], d_raw [T, B, P], d_y [T, B, Y]) that api.py multiplies with the inputs.

Trace arrays, time-major (T steps; index 0 of a [T+1] array = before the first step):
hs, cs [T+1, B, H]; gates [T, B, G] (activated i, f, g, o); act [T, B, P] (activated head
blocks); least_used [T, B, R] (int64: the slots chosen from u_{t-1}); w_write, sim
[T, B, R, N]; w_read [T+1, B, R, N]; usage [T+1, B, N]; mems [T+1, B, M, N] (after step
t's write; transposed: a row per feature, see memory.py); reads [T+1, B, R, M]; logits
[T, B, Y].
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from kernels._gemm import chunk_bounds, matmul_rows
from kernels.mann.heads import activate, activate_backward
from kernels.mann.memory import memory_backward, memory_forward, softmax_ce_backward
from kernels.ntm.controller import _gates_backward, _gates_forward


@njit(cache=True)
def _width(packed):
    """Columns of a product packed by kernels/_gemm.pack: (panels [P, K, TILE], rest)."""
    panels, rest = packed
    return panels.shape[0] * panels.shape[2] + rest.shape[1]


@njit(cache=True)
def _step_trace(trace, t, b):
    """One episode's memory arrays of step t, as memory.py takes them."""
    _, _, _, _, least_used, w_write, sim, w_read, usage, mems, reads, _ = trace
    return (
        least_used[t, b], mems[t + 1, b], w_write[t, b], sim[t, b], w_read[t + 1, b],
        reads[t + 1, b], usage[t + 1, b],
    )  # fmt: skip


@njit(cache=True, nogil=True, error_model="numpy")
def forward_rows(weights, gamma, mem_init, key_strength, trace, r0, r1):
    """Episodes r0:r1: fills their rows of the trace, whose gates [T, B, G] hold the input
    projections W_x x_t + b of every step when called (each step then adds its recurrent
    terms and activates in place).

    weights: (w_r_t, w_hh_t, heads_w_t, heads_b, out_h_t, out_r_t, out_b): the products'
    right-hand sides packed by api.py's _packed: W_r^T [R*M, G], W_hh^T [H, G], W_heads^T
    [H, P'], and W_out^T [H + R*M, Y'] split at H, and the biases [P'], [Y'], where P' and Y'
    are P and Y padded with zero columns (see _packed)."""
    w_r_t, w_hh_t, heads_w_t, heads_b, out_h_t, out_r_t, out_b = weights
    hs, cs, gates, act, _, _, _, w_read, usage, mems, reads, logits = trace
    T = gates.shape[0]
    R, M = reads.shape[2], reads.shape[3]
    P, Y = act.shape[2], logits.shape[2]
    n = r1 - r0
    raw = np.empty((n, heads_b.shape[0]), dtype=gates.dtype)  # the padded products' outputs
    y = np.empty((n, out_b.shape[0]), dtype=gates.dtype)
    hs[0, r0:r1] = 0.0
    cs[0, r0:r1] = 0.0
    reads[0, r0:r1] = 0.0
    w_read[0, r0:r1] = 0.0
    usage[0, r0:r1] = 0.0
    mems[0, r0:r1] = mem_init
    for t in range(T):
        g = gates[t, r0:r1]
        if R > 0:
            matmul_rows(reads[t, r0:r1].reshape(n, R * M), w_r_t, g, 0, n, True)
        matmul_rows(hs[t, r0:r1], w_hh_t, g, 0, n, True)
        for b in range(r0, r1):
            _gates_forward(gates[t, b], cs[t, b], cs[t + 1, b], hs[t + 1, b])
        h = hs[t + 1, r0:r1]
        y[:, :] = out_b
        matmul_rows(h, out_h_t, y, 0, n, True)  # then the reads' terms: the order of [h, r]
        if R > 0:
            raw[:, :] = heads_b
            matmul_rows(h, heads_w_t, raw, 0, n, True)
            for i in range(n):
                b = r0 + i
                activate(raw[i, :P], act[t, b], R, M, key_strength)
                memory_forward(
                    gamma, key_strength, act[t, b], usage[t, b], mems[t, b], w_read[t, b],
                    _step_trace(trace, t, b),
                )  # fmt: skip
            matmul_rows(reads[t + 1, r0:r1].reshape(n, R * M), out_r_t, y, 0, n, True)
        logits[t, r0:r1] = y[:, :Y]


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def forward_chunks(weights, gamma, mem_init, key_strength, trace, chunks):
    """forward_rows over all B episodes in `chunks` parallel chunks."""
    w_r_t, w_hh_t, heads_w_t, heads_b, out_h_t, out_r_t, out_b = weights
    for i in prange(chunks):
        r0, r1 = chunk_bounds(trace[0].shape[1], chunks, i)
        # the tuple rebuilt inside: a parallel loop's body cannot take nested tuples from
        # outside (Numba's gufunc wrapper accepts only arrays and scalars)
        forward_rows(
            (w_r_t, w_hh_t, heads_w_t, heads_b, out_h_t, out_r_t, out_b),
            gamma, mem_init, key_strength, trace, r0, r1,
        )  # fmt: skip


@njit(cache=True, nogil=True, error_model="numpy")
def backward_rows(labels, mask, scale, weights, key_strength, trace, grads, losses, r0, r1):
    """Gradients of scale * sum_t mask[t, b] * CE(logits[t, b], labels[t, b]) for episodes
    r0:r1 with respect to every step's pre-activations: fills their rows of grads = (d_pre
    [T, B, G], d_raw [T, B, P'], d_y [T, B, Y']; the columns past P and Y are left as they
    are: zero) and losses [B] (unscaled, nats).

    labels [T, B] int64, mask [T, B]; weights: (w_r, w_hh, heads_w, out_w) packed by api.py's
    _packed in their stored layouts W_r [G, R*M], W_hh [G, H], W_heads [P, H], W_out
    [Y, H + R*M], columns padded with zeros (see _packed); trace as forward_rows filled it."""
    w_r, w_hh, heads_w, out_w = weights
    d_pre, d_raw, d_y = grads
    hs, cs, gates, act, _, _, _, w_read, _, _, reads, logits = trace
    T = logits.shape[0]
    H = hs.shape[2]
    R, M = reads.shape[2], reads.shape[3]
    N = w_read.shape[3]
    n = r1 - r0
    dt = logits.dtype
    d_c = np.zeros((n, H), dtype=dt)
    # the padded products' outputs (the columns past H, R * M, H + R * M stay zero)
    d_h = np.zeros((n, _width(w_hh)), dtype=dt)
    d_reads = np.zeros((n, _width(w_r)), dtype=dt)  # dL/dr_t from step t + 1's input
    d_out_in = np.empty((n, _width(out_w)), dtype=dt)
    d_mem = np.zeros((n, M, N), dtype=dt)  # transposed, as the memory (memory.py)
    d_w_carry = np.zeros((n, R, N), dtype=dt)  # dL/dw_r_t from the write weights of step t + 1
    d_act = np.empty(act.shape[2], dtype=dt)
    scratch = (  # memory_backward's, made once: no per-step allocation or view
        np.empty((R, N), dtype=dt), np.empty((R, N), dtype=dt), np.empty((R, N), dtype=dt),
        np.empty((R, N), dtype=dt), np.empty(N, dtype=dt),
    )  # fmt: skip
    for t in range(T - 1, -1, -1):
        for i in range(n):
            b = r0 + i
            losses[b] += softmax_ce_backward(logits[t, b], labels[t, b], mask[t, b], scale,
                                             d_y[t, b])  # fmt: skip
        matmul_rows(d_y[t, r0:r1], out_w, d_out_in, 0, n, False)
        d_h[:, :H] += d_out_in[:, :H]
        if R > 0:
            d_reads[:, : R * M] += d_out_in[:, H : H + R * M]
            for i in range(n):
                b = r0 + i
                memory_backward(
                    key_strength, act[t, b], w_read[t, b], _step_trace(trace, t, b),
                    d_reads[i, : R * M].reshape(R, M), d_mem[i], d_w_carry[i], d_act, scratch,
                )  # fmt: skip
                activate_backward(act[t, b], d_act, d_raw[t, b], R, M, key_strength)
            matmul_rows(d_raw[t, r0:r1], heads_w, d_h, 0, n, True)
        for i in range(n):
            b = r0 + i
            _gates_backward(cs[t, b], gates[t, b], cs[t + 1, b], d_h[i, :H], d_c[i], d_pre[t, b])
        if R > 0:
            matmul_rows(d_pre[t, r0:r1], w_r, d_reads, 0, n, False)
        matmul_rows(d_pre[t, r0:r1], w_hh, d_h, 0, n, False)


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def backward_chunks(labels, mask, scale, weights, key_strength, trace, grads, losses, chunks):
    """backward_rows over all B episodes in `chunks` parallel chunks."""
    w_r, w_hh, heads_w, out_w = weights
    for i in prange(chunks):
        r0, r1 = chunk_bounds(labels.shape[1], chunks, i)
        backward_rows(  # the tuple rebuilt inside: see forward_chunks
            labels, mask, scale, (w_r, w_hh, heads_w, out_w), key_strength, trace, grads,
            losses, r0, r1,
        )  # fmt: skip
