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
2-D arrays rather than take row views: every view made in a loop costs Numba's atomic
reference count increment and decrement (two calls, and a vzeroupper each), which made the
backward's row loop 2.4 us where its arithmetic takes a few hundred ns.

Shapes (one episode, one step): act [P] (R head blocks, layout.py), least_used [R] (int64),
usage_prev, usage [N], mem_prev, mem, d_mem [M, N], w_read_prev, w_write, sim, w_read [R, N],
reads, d_reads [R, M].
"""

from __future__ import annotations

import math

from numba import njit

from kernels._common import fast_exp, one
from kernels._gemm import NOALIAS
from kernels.mann.flags import REASSOC
from kernels.mann.lru import (
    select_least_used,
    usage_forward,
    write_weights_backward,
    write_weights_forward,
)
from kernels.ntm.addressing import COS_EPS, _normalise


@njit(cache=True, inline="always")
def _heads(act, R, M, key_strength):
    """Views of act's head blocks: keys [R, M], adds [R, M], sigma [R], beta [R] (unused
    without key strengths)."""
    block = 2 * M + 1 + (1 if key_strength else 0)
    blocks = act[: R * block].reshape((R, block))
    beta = blocks[:, 2 * M + 1] if key_strength else blocks[:, 2 * M]
    return blocks[:, :M], blocks[:, M : 2 * M], blocks[:, 2 * M], beta


@njit(cache=True, error_model="numpy", **NOALIAS)
def _write_and_sums(mem_prev, lu0, w_write, adds, keys, mem, dots, sq_norms):
    """mem = zero_slot(mem_prev, lu0) + sum_k adds[k] w_write[k]^T, row by row, and with each
    new row the sums over features of the cosines: dots [R, N] = keys . slot, sq_norms [N] =
    |slot|^2 (set). The zeroed slot gets 0 + w a, the bits of zeroing then adding."""
    M, N = mem.shape
    R = w_write.shape[0]
    zero = mem.dtype.type(0.0)
    for i in range(N):
        sq_norms[i] = zero
    for k in range(R):
        for i in range(N):
            dots[k, i] = zero
    for j in range(M):
        a = adds[0, j]
        for i in range(N):
            mem[j, i] = mem_prev[j, i] + w_write[0, i] * a
        mem[j, lu0] = zero + w_write[0, lu0] * a
        for k in range(1, R):
            a = adds[k, j]
            for i in range(N):
                mem[j, i] += w_write[k, i] * a
        for i in range(N):
            sq_norms[i] += mem[j, i] * mem[j, i]
        for k in range(R):
            kj = keys[k, j]
            for i in range(N):
                dots[k, i] += kj * mem[j, i]


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


@njit(cache=True, fastmath=REASSOC, error_model="numpy")
def _norm(v):
    total = 0.0
    for j in range(v.shape[0]):
        total += v[j] * v[j]
    return math.sqrt(total)


@njit(cache=True, error_model="numpy")
def memory_forward(gamma, key_strength, act, usage_prev, mem_prev, w_read_prev, trace_step):
    """Fills this step's least_used, mem, w_write, sim, w_read, reads and usage
    (trace_step = (least_used, mem, w_write, sim, w_read, reads, usage)); sim holds the
    cosines, w_read the read weights (it is the scratch of the slots' squared norms first)."""
    lu, mem, w_write, sim, w_read, reads, usage = trace_step
    R, M = reads.shape
    N = mem.shape[1]
    keys, adds, sigma, beta = _heads(act, R, M, key_strength)
    unit = one(act[0])
    select_least_used(usage_prev, lu)
    for k in range(R):
        write_weights_forward(sigma[k], w_read_prev[k], lu[k], w_write[k])
    sq_norms = w_read[0]
    _write_and_sums(mem_prev, lu[0], w_write, adds, keys, mem, sim, sq_norms)
    for k in range(R):
        nk = _norm(keys[k])
        K = sim[k]
        for i in range(N):
            K[i] = K[i] / (nk * math.sqrt(sq_norms[i]) + COS_EPS)
    for k in range(R):
        b = beta[k] if key_strength else unit
        K, wc = sim[k], w_read[k]
        mx = b * K[0]
        for i in range(1, N):
            mx = max(mx, b * K[i])
        for i in range(N):
            wc[i] = fast_exp(b * K[i] - mx)
        _normalise(wc)
    _read(w_read, mem, reads)
    usage_forward(gamma, usage_prev, w_read, w_write, usage)


@njit(cache=True, fastmath=REASSOC, error_model="numpy", **NOALIAS)
def _read_grads_and_norms(mem, w_read, d_reads, d_mem, d_w_read, sq_norms):
    """The reads' gradients, row by row: d_w_read [R, N] += d_reads[k, j] * mem row j,
    d_mem [M, N] += w_read[k] d_reads[k, j]; sq_norms [N] = |slot|^2 (set)."""
    M, N = mem.shape
    R = w_read.shape[0]
    for i in range(N):
        sq_norms[i] = 0.0
    for j in range(M):
        for i in range(N):
            sq_norms[i] += mem[j, i] * mem[j, i]
        for k in range(R):
            dr = d_reads[k, j]
            for i in range(N):
                d_w_read[k, i] += dr * mem[j, i]
                d_mem[j, i] += w_read[k, i] * dr


@njit(cache=True, fastmath=REASSOC, error_model="numpy")
def _cosine_coefficients(key, beta, K, wc, d_wc, sq_norms, d_dot, c_mem):
    """The softmax and cosine of one head backward to per-slot coefficients: d_dot [N]
    (dL/d(key . slot_i)), c_mem [N] (the coefficient of slot_i in dL/dslot_i, from |slot_i|).
    Returns (d_beta, c_key: the coefficient of key in dL/dkey, from |key|)."""
    N = K.shape[0]
    s = 0.0
    for i in range(N):
        s += wc[i] * d_wc[i]
    nk = _norm(key)
    d_beta = 0.0
    c_key = 0.0
    for i in range(N):
        dz = wc[i] * (d_wc[i] - s)
        d_beta += dz * K[i]
        dK = beta * dz
        nm = math.sqrt(sq_norms[i])
        denom = nk * nm + COS_EPS
        d_dot[i] = dK / denom
        # K = dot / denom: d denom = -dK * K / denom; denom = |k| |m| + eps
        d_den = -dK * K[i] / denom
        if nk > 0.0:  # d|k|/dk = k/|k| (0 at k = 0)
            c_key += d_den * nm / nk
        c_mem[i] = d_den * nk / nm if nm > 0.0 else 0.0
    return d_beta, c_key


@njit(cache=True, fastmath=REASSOC, error_model="numpy", **NOALIAS)
def _content_and_write_grads(mem, keys, adds, w_write, d_dot, c_mem, d_mem, d_keys, d_adds,
                             d_w_write):  # fmt: skip
    """Row by row: d_mem [M, N] += d_dot[k] key_kj + c_mem[k] mem_j (the cosines), then, from
    the finished row, the write's d_w_write [R, N] (+= add_kj d_mem_j; zero it first) and
    d_adds [R, M], and the keys' sums d_keys [R, M] (+= sum_i d_dot_ki mem_ji)."""
    M, N = mem.shape
    R = keys.shape[0]
    for j in range(M):
        for k in range(R):
            kj = keys[k, j]
            for i in range(N):
                d_mem[j, i] += d_dot[k, i] * kj + c_mem[k, i] * mem[j, i]
            acc = mem.dtype.type(0.0)
            for i in range(N):
                acc += d_dot[k, i] * mem[j, i]
            d_keys[k, j] += acc
        for k in range(R):
            aj = adds[k, j]
            acc = mem.dtype.type(0.0)
            for i in range(N):
                d_w_write[k, i] += d_mem[j, i] * aj
                acc += w_write[k, i] * d_mem[j, i]
            d_adds[k, j] = acc


@njit(cache=True, error_model="numpy")
def memory_backward(key_strength, act, w_read_prev, trace_step, d_reads, d_mem, d_w_carry,
                    d_act, scratch):  # fmt: skip
    """d_reads [R, M]: dL/dr_t (in). d_mem [M, N]: in dL/dM_t, out dL/dM_{t-1} (in place).
    d_w_carry [R, N]: in dL/dw_r_t from step t + 1's write weights, out dL/dw_r_{t-1} (in
    place). Sets d_act [P] (dL/d the activated head blocks). trace_step as memory_forward
    filled it (usage unused). scratch [4R + 1, N], any values."""
    lu, mem, w_write, sim, w_read, _, _ = trace_step
    R, M = d_reads.shape
    keys, adds, sigma, beta = _heads(act, R, M, key_strength)
    d_keys, d_adds, d_sigma, d_beta = _heads(d_act, R, M, key_strength)
    unit = one(act[0])
    d_w_read = scratch[:R]  # dL/dw_r_t: from step t + 1, then from this step's read
    d_w_write = scratch[R : 2 * R]
    d_dot = scratch[2 * R : 3 * R]
    c_mem = scratch[3 * R : 4 * R]
    sq_norms = scratch[4 * R]
    d_w_read[:, :] = d_w_carry
    d_act[:] = 0.0
    _read_grads_and_norms(mem, w_read, d_reads, d_mem, d_w_read, sq_norms)
    c_keys = d_sigma  # scratch until the write weights' gradients: the keys' |key| terms
    for k in range(R):
        b = beta[k] if key_strength else unit
        db, ck = _cosine_coefficients(
            keys[k], b, sim[k], w_read[k], d_w_read[k], sq_norms, d_dot[k], c_mem[k]
        )
        c_keys[k] = ck
        if key_strength:
            d_beta[k] = db
    for k in range(R):
        for j in range(M):
            d_keys[k, j] = c_keys[k] * keys[k, j]
    d_w_write[:, :] = 0.0
    _content_and_write_grads(mem, keys, adds, w_write, d_dot, c_mem, d_mem, d_keys, d_adds,
                             d_w_write)  # fmt: skip
    for k in range(R):
        d_sigma[k] = write_weights_backward(
            sigma[k], w_read_prev[k], lu[k], d_w_write[k], d_w_carry[k]
        )
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
