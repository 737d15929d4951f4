"""One step of one MANN episode's memory: least-used writes, content reads; forward and backward.

Step t of an episode, after the controller (Santoro et al. 2016; memory of N slots of width M,
R heads, each reading and writing; the head activations `act` come from the batched
controller step in batch.py):

    lu       = the R least-used slots of u_{t-1}        (lru.py; constant in backward)
    w_w^k    = sigma_k w_r_{t-1}^k + (1 - sigma_k) onehot(lu[k])
    M_t      = zero_slot(M_{t-1}, lu[0]) + sum_k add_k w_w^k^T
    w_r^k    = softmax(beta_k cos(key_k, slot i of M_t))   content only, no location shifts
    r_t^k    = M_t w_r^k
    u_t      = gamma u_{t-1} + sum_k (w_r^k + w_w^k)

Reads see this step's writes (the paper's order: compute the least-used slot from u_{t-1},
zero it, write, then read M_t).

The memory is stored transposed, mem [M, N] (a row per feature, a column per slot), so that
every inner loop runs over the N slots, contiguous: at the scenario's 64 x 40 memory the
loops over a slot's M = 40 features (2.5 AVX-512 vectors, too short for LLVM's unrolled
vector loop) ran mostly in their scalar remainders; over N = 64 slots they are 4 whole
vectors. The write and the cosines' sums share one pass over the rows (forward), and the
content and write gradients another (backward); the arrays they write never overlap the
arrays they read (the noalias flag: no run-time alias checks per row). The loops index the
2-D arrays and the head blocks by offset rather than take views, and the step's scratch
arrays come made (batch.py): every view costs Numba's atomic reference count increment and
decrement, and slice assignments ~50-100 ns each: the backward's row loop took 2.4 us with
row views and float64 sums, 1.3 us with float32 sums, 0.8 us without the views (0.5 us
with the keys' sums in the d_mem loop), and its set-up (views, two slice assignments) took
435 ns before its first pass.

Shapes (one episode, one step): act [P] (R head blocks, layout.py), least_used [R] (int64),
usage_prev, usage [N], mem_prev, mem, d_mem [M, N], w_read_prev, w_write, sim, w_read [R, N],
reads, d_reads [R, M].
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from kernels._common import fast_exp, one
from kernels._gemm import NOALIAS
from kernels.mann.flags import REASSOC
from kernels.mann.lru import select_least_used, usage_forward
from kernels.ntm.addressing import COS_EPS


@njit(cache=True, error_model="numpy", **NOALIAS)
def _write_and_sums(mem_prev, lu0, w_write, act, block, mem, dots, sq_norms):
    """mem = zero_slot(mem_prev, lu0) + sum_k add_k w_write[k]^T, row by row, and with each
    new row the sums over features of the cosines: dots [R, N] = key_k . slot, sq_norms [N] =
    |slot|^2 (set). Head k's key is act[k * block :][:M], its add the next M. The zeroed
    slot gets 0 + w a, the bits of zeroing then adding."""
    M, N = mem.shape
    R = w_write.shape[0]
    zero = mem.dtype.type(0.0)
    for i in range(N):
        sq_norms[i] = zero
    for k in range(R):
        for i in range(N):
            dots[k, i] = zero
    for j in range(M):
        a = act[M + j]
        kj = act[j]  # head 0's key, in the pass of the norms
        if R == 1:  # one pass: the new row goes from registers into the sums
            for i in range(N):
                prev = mem_prev[j, i]
                if i == lu0:
                    prev = zero
                value = prev + w_write[0, i] * a
                mem[j, i] = value
                sq_norms[i] += value * value
                dots[0, i] += kj * value
            continue
        for i in range(N):
            # the zeroed slot as a select in the loop: a scalar store into the row after it
            # makes the next pass's vector loads wait for it (a failed store forward; with
            # one head at 40 x 64 the call took 0.65 us so, 0.39 us in the one pass above)
            prev = mem_prev[j, i]
            if i == lu0:
                prev = zero
            mem[j, i] = prev + w_write[0, i] * a
        for k in range(1, R):
            a = act[k * block + M + j]
            for i in range(N):
                mem[j, i] += w_write[k, i] * a
        for i in range(N):
            sq_norms[i] += mem[j, i] * mem[j, i]
            dots[0, i] += kj * mem[j, i]
        for k in range(1, R):
            kj = act[k * block + j]
            for i in range(N):
                dots[k, i] += kj * mem[j, i]


@njit(cache=True, fastmath=REASSOC, error_model="numpy")
def _key_norm(act, o, M):
    """|key| of the head block at act[o:], float64 sums (as kernels/ntm/addressing's)."""
    total = 0.0
    for j in range(M):
        total += act[o + j] * act[o + j]
    return math.sqrt(total)


@njit(cache=True, fastmath=REASSOC, error_model="numpy", **NOALIAS)
def _read_weights(act, block, key_strength, sim, w_read):
    """sim [R, N]: in the dots key_k . slot_i, out the cosines; w_read [R, N]: in row 0 the
    slots' squared norms, out softmax(beta_k cos) per head (every cosine is made before row
    0 is overwritten)."""
    R, N = sim.shape
    M = (block - 1 - (1 if key_strength else 0)) // 2
    for k in range(R):
        nk = _key_norm(act, k * block, M)
        for i in range(N):
            sim[k, i] = sim[k, i] / (nk * math.sqrt(w_read[0, i]) + COS_EPS)
    for k in range(R):
        beta = act[k * block + 2 * M + 1] if key_strength else one(act[0])
        mx = beta * sim[k, 0]
        for i in range(1, N):
            mx = max(mx, beta * sim[k, i])
        total = w_read.dtype.type(0.0)
        for i in range(N):
            e = fast_exp(beta * sim[k, i] - mx)
            w_read[k, i] = e
            total += e
        for i in range(N):
            w_read[k, i] = w_read[k, i] / total


@njit(cache=True, fastmath=REASSOC, error_model="numpy")
def _read(w_read, mem, reads):
    """reads [R, M] = mem w_read[k] for each head (sums over the N slots)."""
    R, M = reads.shape
    N = mem.shape[1]
    for k in range(R):
        for j in range(M):
            acc = mem.dtype.type(0.0)
            for i in range(N):
                acc += w_read[k, i] * mem[j, i]
            reads[k, j] = acc


@njit(cache=True, error_model="numpy")
def memory_forward(gamma, key_strength, act, usage_prev, mem_prev, w_read_prev, trace_step):
    """Fills this step's least_used, mem, w_write, sim, w_read, reads and usage
    (trace_step = (least_used, mem, w_write, sim, w_read, reads, usage)); sim holds the
    cosines, w_read the read weights."""
    lu, mem, w_write, sim, w_read, reads, usage = trace_step
    R, M = reads.shape
    N = mem.shape[1]
    block = 2 * M + 1 + (1 if key_strength else 0)
    select_least_used(usage_prev, lu)
    for k in range(R):  # w_w = sigma w_r_prev + (1 - sigma) onehot(lu[k])
        sigma = act[k * block + 2 * M]
        for i in range(N):
            w_write[k, i] = sigma * w_read_prev[k, i]
        w_write[k, lu[k]] += 1.0 - sigma
    _write_and_sums(mem_prev, lu[0], w_write, act, block, mem, sim, w_read[0])
    _read_weights(act, block, key_strength, sim, w_read)
    _read(w_read, mem, reads)
    usage_forward(gamma, usage_prev, w_read, w_write, usage)


@njit(cache=True, fastmath=REASSOC, error_model="numpy", **NOALIAS)
def _read_weight_grads_and_norms(mem, d_reads, d_w_read, sq_norms):
    """The read weights' gradients, row by row: d_w_read [R, N] += d_reads[k, j] * mem row
    j; sq_norms [N] = |slot|^2 (set). (The reads' term of d_mem waits for the second pass,
    _content_and_write_grads, which updates every row of d_mem anyway: one read-modify-write
    of d_mem per step instead of two.)"""
    M, N = mem.shape
    R = d_reads.shape[0]
    for i in range(N):
        sq_norms[i] = 0.0
    for j in range(M):  # head 0 in the pass of the norms (one loop over the row, not two)
        dr = d_reads[0, j]
        for i in range(N):
            sq_norms[i] += mem[j, i] * mem[j, i]
            d_w_read[0, i] += dr * mem[j, i]
        for k in range(1, R):
            dr = d_reads[k, j]
            for i in range(N):
                d_w_read[k, i] += dr * mem[j, i]


@njit(cache=True, fastmath=REASSOC, error_model="numpy", **NOALIAS)
def _cosine_coefficients(act, block, key_strength, sim, w_read, d_w_read, sq_norms, d_dot,
                         c_mem, d_act):  # fmt: skip
    """The softmax and cosine of every head backward to per-slot coefficients: d_dot [R, N]
    (dL/d(key_k . slot_i)), c_mem [R, N] (the coefficient of slot_i in dL/dslot_i, from
    |slot_i|). Sets d_act's key blocks to c_key key_k (the |key| term; the dots' terms are
    added later) and its betas."""
    R, N = sim.shape
    M = (block - 1 - (1 if key_strength else 0)) // 2
    # in the arrays' dtype, two divisions a slot: in float64 with four (math.sqrt of a
    # float32 is a float64 in Numba) the loop took 0.43 us at 64 slots, float32
    zero = sim.dtype.type(0.0)
    unit = sim.dtype.type(1.0)
    eps = sim.dtype.type(COS_EPS)
    for k in range(R):
        o = k * block
        beta = act[o + 2 * M + 1] if key_strength else one(act[0])
        s = zero
        for i in range(N):
            s += w_read[k, i] * d_w_read[k, i]
        nk = sim.dtype.type(_key_norm(act, o, M))
        d_beta = zero
        c_key = zero  # sum_i d_den_i |m_i|; times 1/|k| after the loop
        for i in range(N):
            K = sim[k, i]
            dz = w_read[k, i] * (d_w_read[k, i] - s)
            d_beta += dz * K
            dK = beta * dz
            nm = np.sqrt(sq_norms[i])
            inv_denom = unit / (nk * nm + eps)
            d_dot[k, i] = dK * inv_denom
            # K = dot / denom: d denom = -dK * K / denom; denom = |k| |m| + eps
            d_den = -dK * K * inv_denom
            c_key += d_den * nm
            c_mem[k, i] = d_den * nk / nm if nm > zero else zero
        # d|k|/dk = k/|k| (0 at k = 0)
        c_key = c_key / nk if nk > zero else zero
        if key_strength:
            d_act[o + 2 * M + 1] = d_beta
        for j in range(M):
            d_act[o + j] = c_key * act[o + j]


@njit(cache=True, fastmath=REASSOC, error_model="numpy", **NOALIAS)
def _content_and_write_grads(mem, act, block, w_read, d_reads, w_write, d_dot, c_mem, d_mem,
                             d_act, d_w_write):  # fmt: skip
    """Row by row: d_mem [M, N] += w_read[k] d_reads[k, j] (the reads) + d_dot[k] key_kj +
    c_mem[k] mem_j (the cosines), then, from the finished row, the write's d_w_write [R, N]
    (set) and the adds' gradients, and the keys' dot terms (added to d_act's key blocks:
    sum_i d_dot_ki mem_ji)."""
    M, N = mem.shape
    R = w_write.shape[0]
    for k in range(R):
        for i in range(N):
            d_w_write[k, i] = 0.0
    for j in range(M):
        if R == 1:  # one pass: the row's gradient is final as it is made
            dr = d_reads[0, j]
            kj = act[j]
            aj = act[M + j]
            acc_key = mem.dtype.type(0.0)
            acc_add = mem.dtype.type(0.0)
            for i in range(N):
                m = mem[j, i]
                g = d_mem[j, i] + w_read[0, i] * dr + (d_dot[0, i] * kj + c_mem[0, i] * m)
                d_mem[j, i] = g
                acc_key += d_dot[0, i] * m
                d_w_write[0, i] += g * aj
                acc_add += w_write[0, i] * g
            d_act[j] += acc_key
            d_act[M + j] = acc_add
            continue
        for k in range(R):
            dr = d_reads[k, j]
            for i in range(N):
                d_mem[j, i] += w_read[k, i] * dr
        for k in range(R):
            kj = act[k * block + j]
            acc = mem.dtype.type(0.0)
            for i in range(N):
                d_mem[j, i] += d_dot[k, i] * kj + c_mem[k, i] * mem[j, i]
                acc += d_dot[k, i] * mem[j, i]
            d_act[k * block + j] += acc
        for k in range(R):
            aj = act[k * block + M + j]
            acc = mem.dtype.type(0.0)
            for i in range(N):
                d_w_write[k, i] += d_mem[j, i] * aj
                acc += w_write[k, i] * d_mem[j, i]
            d_act[k * block + M + j] = acc


@njit(cache=True, fastmath=REASSOC, error_model="numpy", **NOALIAS)
def _write_weights_backward(act, block, w_read_prev, lu, d_w_write, d_w_carry, d_act):
    """The write weights w_w = sigma w_r_prev + (1 - sigma) onehot(lu[k]) backward: d_act's
    sigmas (set) and d_w_carry [R, N] = sigma_k d_w_write[k] (set: dL/dw_r_{t-1})."""
    R, N = d_w_write.shape
    M = (block - 1) // 2
    for k in range(R):
        o = k * block + 2 * M
        sigma = act[o]
        d_sigma = -d_w_write[k, lu[k]]
        for i in range(N):
            d_sigma += d_w_write[k, i] * w_read_prev[k, i]
            d_w_carry[k, i] = sigma * d_w_write[k, i]
        d_act[o] = d_sigma


@njit(cache=True, error_model="numpy")
def memory_backward(key_strength, act, w_read_prev, trace_step, d_reads, d_mem, d_w_carry,
                    d_act, scratch):  # fmt: skip
    """d_reads [R, M]: dL/dr_t (in). d_mem [M, N]: in dL/dM_t, out dL/dM_{t-1} (in place).
    d_w_carry [R, N]: in dL/dw_r_t from step t + 1's write weights, out dL/dw_r_{t-1} (in
    place). Sets d_act [P] (dL/d the activated head blocks). trace_step as memory_forward
    filled it (usage unused). scratch = (d_w_read, d_w_write, d_dot, c_mem [R, N], sq_norms
    [N]), any values (made once per batch: no per-step allocation or view)."""
    lu, mem, w_write, sim, w_read, _, _ = trace_step
    d_w_read, d_w_write, d_dot, c_mem, sq_norms = scratch
    R, M = d_reads.shape
    N = mem.shape[1]
    block = 2 * M + 1 + (1 if key_strength else 0)
    for k in range(R):  # dL/dw_r_t: from step t + 1, then from this step's read
        for i in range(N):
            d_w_read[k, i] = d_w_carry[k, i]
    for p in range(d_act.shape[0]):
        d_act[p] = 0.0
    _read_weight_grads_and_norms(mem, d_reads, d_w_read, sq_norms)
    _cosine_coefficients(act, block, key_strength, sim, w_read, d_w_read, sq_norms, d_dot,
                         c_mem, d_act)  # fmt: skip
    _content_and_write_grads(mem, act, block, w_read, d_reads, w_write, d_dot, c_mem, d_mem,
                             d_act, d_w_write)  # fmt: skip
    _write_weights_backward(act, block, w_read_prev, lu, d_w_write, d_w_carry, d_act)
    for j in range(M):  # the zeroed slot: M_{t-1} there never reached M_t
        d_mem[j, lu[0]] = 0.0


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
