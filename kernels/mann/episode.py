"""One MANN episode, forward and exact backward (BPTT over the whole episode), in one thread.

Step t (Santoro et al. 2016; memory M [N, M], R heads, each reading and writing):

    u_t      = [x_t, r_{t-1}]                          x_t: sample and last step's label
    h_t, c_t = LSTM(u_t, h_{t-1}, c_{t-1})
    raw_t    = W_heads h_t + b_heads -> per head key_k, add_k, sigma_k (, beta_k)
    lu       = the R least-used slots of u_{t-1}        (lru.py; constant in backward)
    w_w^k    = sigma_k w_r_{t-1}^k + (1 - sigma_k) onehot(lu[k])
    M_t      = zero_row(M_{t-1}, lu[0]) + sum_k w_w^k add_k^T
    w_r^k    = softmax(beta_k cos(key_k, M_t[i]))       content only, no location shifts
    r_t^k    = w_r^k M_t
    u_t      = gamma u_{t-1} + sum_k (w_r^k + w_w^k)
    y_t      = W_out [h_t, r_t] + b_out                 logits over the classes (softmax CE)

Reads see this step's writes (the paper's order: compute the least-used slot from u_{t-1},
zero it, write, then read M_t). Everything starts at zero but the memory (MEMORY_INIT in
every cell, as the NTM's).

The input projection W_x x_t + b of all steps is one matrix product outside (api.py), and
so are the weight gradients: this kernel fills the per-step gradients of the pre-activations
(d_pre [T, G], d_raw [T, P], d_y [T, Y]) and api.py multiplies them with the step inputs.

Trace arrays of one episode (T steps, index 0 of a [T+1] array = before the first step):
hs, cs [T+1, H]; gates [T, G] (activated i, f, g, o); act [T, P] (activated head blocks);
least_used [T, R] (int64: the slots chosen from u_{t-1}); w_write [T, R, N]; sim [T, R, N]
(cosine similarities); w_read [T+1, R, N]; usage [T+1, N]; mems [T+1, N, M] (after step t's
write); reads [T+1, R, M]; logits [T, Y].
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels._common import one
from kernels.mann.heads import activate, activate_backward
from kernels.mann.lru import (
    add_write,
    add_write_backward,
    select_least_used,
    usage_forward,
    write_weights_backward,
    write_weights_forward,
)
from kernels.ntm.addressing import content_backward, content_forward
from kernels.ntm.controller import _gates_backward, _gates_forward
from kernels.ntm.linear import add_vec_mat, linear_backward_input, linear_forward
from kernels.ntm.memory import read_backward, read_forward


@njit(cache=True)
def episode_forward(xproj, weights, gamma, mem_init, key_strength, trace):
    """Run one episode from xproj [T, G] (= W_x x_t + b for every step); fill the trace.

    weights: (w_r_t [R*M, G], w_hh_t [H, G], heads_w_t [H, P], heads_b [P], out_w_t
    [H + R*M, Y], out_b [Y]), transposed for the forward loops; trace: see the module doc."""
    w_r_t, w_hh_t, heads_w_t, heads_b, out_w_t, out_b = weights
    hs, cs, gates, act, least_used, w_write, sim, w_read, usage, mems, reads, logits = trace
    T = xproj.shape[0]
    H = hs.shape[1]
    R, M = reads.shape[1], reads.shape[2]
    block = 2 * M + 1 + (1 if key_strength else 0)
    raw = np.empty(heads_b.shape[0], dtype=xproj.dtype)
    out_in = np.empty(out_w_t.shape[0], dtype=xproj.dtype)
    unit = one(xproj[0, 0])
    hs[0, :] = 0.0
    cs[0, :] = 0.0
    reads[0, :, :] = 0.0
    w_read[0, :, :] = 0.0
    usage[0, :] = 0.0
    mems[0, :, :] = mem_init
    for t in range(T):
        g = gates[t]
        g[:] = xproj[t]
        if R > 0:
            add_vec_mat(reads[t].reshape(R * M), w_r_t, g)
        add_vec_mat(hs[t], w_hh_t, g)
        _gates_forward(g, cs[t], cs[t + 1], hs[t + 1])
        if R > 0:
            a = act[t]
            linear_forward(heads_w_t, heads_b, hs[t + 1], raw)
            activate(raw, a, R, M, key_strength)
            lu = least_used[t]
            select_least_used(usage[t], lu)
            mem = mems[t + 1]
            mem[:, :] = mems[t]
            mem[lu[0], :] = 0.0
            for k in range(R):
                o = k * block
                write_weights_forward(a[o + 2 * M], w_read[t, k], lu[k], w_write[t, k])
                add_write(mem, w_write[t, k], a[o + M : o + 2 * M])
            for k in range(R):
                o = k * block
                beta = a[o + 2 * M + 1] if key_strength else unit
                content_forward(a[o : o + M], beta, mem, sim[t, k], w_read[t + 1, k])
                read_forward(w_read[t + 1, k], mem, reads[t + 1, k])
            usage_forward(gamma, usage[t], w_read[t + 1], w_write[t], usage[t + 1])
        out_in[:H] = hs[t + 1]
        if R > 0:
            out_in[H:] = reads[t + 1].reshape(R * M)
        linear_forward(out_w_t, out_b, out_in, logits[t])


@njit(cache=True)
def softmax_ce_backward(z, label, m, scale, d_y):
    """Sets d_y [Y] = scale * m * (softmax(z) - onehot(label)); returns m * CE in nats."""
    Y = z.shape[0]
    mx = z[0]
    for j in range(1, Y):
        mx = max(mx, z[j])
    total = 0.0
    for j in range(Y):
        total += math.exp(z[j] - mx)
    log_total = math.log(total)
    for j in range(Y):
        p = math.exp(z[j] - mx) / total
        d_y[j] = (p - (1.0 if j == label else 0.0)) * m * scale
    return m * (log_total + mx - z[label])


@njit(cache=True)
def episode_backward(labels, mask, scale, weights, key_strength, trace, d_pre, d_raw, d_y):
    """Gradients of scale * sum_t mask[t] * CE(logits[t], labels[t]) with respect to every
    step's pre-activations: fills d_pre [T, G], d_raw [T, P], d_y [T, Y]. Returns the
    unscaled loss in nats.

    weights: (w_r [G, R*M], w_hh [G, H], heads_w [P, H], out_w [Y, H + R*M]), stored
    layouts; trace: this episode's arrays as episode_forward filled them."""
    w_r, w_hh, heads_w, out_w = weights
    hs, cs, gates, act, least_used, w_write, sim, w_read, usage, mems, reads, logits = trace
    T = logits.shape[0]
    H = hs.shape[1]
    R, M = reads.shape[1], reads.shape[2]
    N = usage.shape[1]
    block = 2 * M + 1 + (1 if key_strength else 0)
    dt = logits.dtype
    unit = one(logits[0, 0])
    d_mem = np.zeros((N, M), dtype=dt)
    d_reads = np.zeros((R, M), dtype=dt)  # dL/dr_t from the controller input of step t + 1
    d_w_carry = np.zeros((R, N), dtype=dt)  # dL/dw_r_t from the write weights of step t + 1
    d_w_read = np.zeros((R, N), dtype=dt)
    d_w_write = np.zeros(N, dtype=dt)
    d_act = np.zeros(d_raw.shape[1], dtype=dt)
    d_out_in = np.zeros(out_w.shape[1], dtype=dt)
    d_h = np.zeros(H, dtype=dt)
    d_c = np.zeros(H, dtype=dt)
    d_h_prev = np.zeros(H, dtype=dt)
    loss = 0.0
    for t in range(T - 1, -1, -1):
        loss += softmax_ce_backward(logits[t], labels[t], mask[t], scale, d_y[t])
        d_out_in[:] = 0.0
        linear_backward_input(out_w, d_y[t], d_out_in)
        for j in range(H):
            d_h[j] += d_out_in[j]
        if R > 0:
            for k in range(R):
                for j in range(M):
                    d_reads[k, j] += d_out_in[H + k * M + j]
            a = act[t]
            mem = mems[t + 1]
            lu = least_used[t]
            d_w_read[:, :] = d_w_carry
            d_act[:] = 0.0
            for k in range(R):
                o = k * block
                read_backward(w_read[t + 1, k], mem, d_reads[k], d_w_read[k], d_mem)
                beta = a[o + 2 * M + 1] if key_strength else unit
                d_beta = content_backward(
                    a[o : o + M], beta, mem, sim[t, k], w_read[t + 1, k], d_w_read[k],
                    d_act[o : o + M], d_mem,
                )  # fmt: skip
                if key_strength:
                    d_act[o + 2 * M + 1] = d_beta
            for k in range(R):
                o = k * block
                add_write_backward(w_write[t, k], a[o + M : o + 2 * M], d_mem, d_w_write,
                                   d_act[o + M : o + 2 * M])  # fmt: skip
                d_act[o + 2 * M] = write_weights_backward(
                    a[o + 2 * M], w_read[t, k], lu[k], d_w_write, d_w_carry[k]
                )
            d_mem[lu[0], :] = 0.0  # the zeroed row: M_{t-1} there never reached M_t
            activate_backward(a, d_act, d_raw[t], R, M, key_strength)
            linear_backward_input(heads_w, d_raw[t], d_h)
        _gates_backward(cs[t], gates[t], cs[t + 1], d_h, d_c, d_pre[t])
        if R > 0:
            d_reads[:, :] = 0.0
            add_vec_mat(d_pre[t], w_r, d_reads.reshape(R * M))
        d_h_prev[:] = 0.0
        add_vec_mat(d_pre[t], w_hh, d_h_prev)
        d_h[:] = d_h_prev
    return loss
