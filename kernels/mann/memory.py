"""One step of one MANN episode's memory: least-used writes, content reads; forward and backward.

Step t of an episode, after the controller (Santoro et al. 2016; memory M [N, M], R heads,
each reading and writing; the head activations `act` come from the batched controller step
in batch.py):

    lu       = the R least-used slots of u_{t-1}        (lru.py; constant in backward)
    w_w^k    = sigma_k w_r_{t-1}^k + (1 - sigma_k) onehot(lu[k])
    M_t      = zero_row(M_{t-1}, lu[0]) + sum_k w_w^k add_k^T
    w_r^k    = softmax(beta_k cos(key_k, M_t[i]))       content only, no location shifts
    r_t^k    = w_r^k M_t
    u_t      = gamma u_{t-1} + sum_k (w_r^k + w_w^k)

Reads see this step's writes (the paper's order: compute the least-used slot from u_{t-1},
zero it, write, then read M_t).

Shapes (one episode, one step): act [P] (R head blocks, layout.py), least_used [R] (int64),
usage_prev, usage [N], mem_prev, mem [N, M], w_read_prev, w_write, sim, w_read [R, N],
reads [R, M].
"""

from __future__ import annotations

import math

from numba import njit

from kernels._common import one
from kernels.mann.lru import (
    add_write,
    add_write_backward,
    select_least_used,
    usage_forward,
    write_weights_backward,
    write_weights_forward,
)
from kernels.ntm.addressing import content_backward, content_forward
from kernels.ntm.memory import read_backward, read_forward

# Separate passes (write, cosines, read), each a small function over a few arrays: fused
# into two passes over the rows, the same arithmetic ran 2x slower (3.3 against 1.8 us
# forward, 6.6 against 3.0 backward, one step at the scenario's 64 x 40 memory, float32),
# the fused loops' alias checks and short rows (M = 40) costing more than the passes saved.


@njit(cache=True)
def memory_forward(gamma, key_strength, act, usage_prev, mem_prev, w_read_prev, trace_step):
    """Fills this step's least_used, mem, w_write, sim, w_read, reads and usage
    (trace_step = (least_used, mem, w_write, sim, w_read, reads, usage))."""
    lu, mem, w_write, sim, w_read, reads, usage = trace_step
    R, M = reads.shape
    block = 2 * M + 1 + (1 if key_strength else 0)
    unit = one(act[0])
    select_least_used(usage_prev, lu)
    mem[:, :] = mem_prev
    mem[lu[0], :] = 0.0
    for k in range(R):
        o = k * block
        write_weights_forward(act[o + 2 * M], w_read_prev[k], lu[k], w_write[k])
        add_write(mem, w_write[k], act[o + M : o + 2 * M])
    for k in range(R):
        o = k * block
        beta = act[o + 2 * M + 1] if key_strength else unit
        content_forward(act[o : o + M], beta, mem, sim[k], w_read[k])
        read_forward(w_read[k], mem, reads[k])
    usage_forward(gamma, usage_prev, w_read, w_write, usage)


@njit(cache=True)
def memory_backward(key_strength, act, w_read_prev, trace_step, d_reads, d_mem, d_w_carry,
                    d_act, scratch):  # fmt: skip
    """d_reads [R, M]: dL/dr_t (in). d_mem [N, M]: in dL/dM_t, out dL/dM_{t-1} (in place).
    d_w_carry [R, N]: in dL/dw_r_t from step t + 1's write weights, out dL/dw_r_{t-1} (in
    place). Sets d_act [P] (dL/d the activated head blocks). trace_step as memory_forward
    filled it (usage unused). scratch: (d_w_read [R, N], d_w_write [N]), any values."""
    lu, mem, w_write, sim, w_read, _, _ = trace_step
    d_w_read, d_w_write = scratch
    R, M = d_reads.shape
    block = 2 * M + 1 + (1 if key_strength else 0)
    unit = one(act[0])
    d_w_read[:, :] = d_w_carry  # dL/dw_r_t: from step t + 1, then from this step's read
    d_act[:] = 0.0
    for k in range(R):
        o = k * block
        read_backward(w_read[k], mem, d_reads[k], d_w_read[k], d_mem)
        beta = act[o + 2 * M + 1] if key_strength else unit
        d_beta = content_backward(
            act[o : o + M], beta, mem, sim[k], w_read[k], d_w_read[k], d_act[o : o + M], d_mem
        )
        if key_strength:
            d_act[o + 2 * M + 1] = d_beta
    for k in range(R):
        o = k * block
        add_write_backward(w_write[k], act[o + M : o + 2 * M], d_mem, d_w_write,
                           d_act[o + M : o + 2 * M])  # fmt: skip
        d_act[o + 2 * M] = write_weights_backward(
            act[o + 2 * M], w_read_prev[k], lu[k], d_w_write, d_w_carry[k]
        )
    d_mem[lu[0], :] = 0.0  # the zeroed row: M_{t-1} there never reached M_t


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
