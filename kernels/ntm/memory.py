"""Reading and writing the NTM memory with a weighting over its slots.

    read   r = w^T M                                  w [N], M [N, W] -> r [W]
    write  M' = M * (1 - w e^T) + w a^T               erase e [W] in (0, 1), add a [W]

Several write heads apply one after the other (head 0 first); with one write head this is
exactly the paper's erase-then-add. Backward functions add into shared gradients (d_w,
d_mem) and set the ones that are theirs alone (d_e, d_a); write_backward turns d_mem from
the gradient of M' into the gradient of M in place.
"""

from __future__ import annotations

from numba import njit

from kernels.ntm.flags import REASSOC


@njit(cache=True, fastmath=REASSOC)
def read_forward(w, mem, r):
    N, W = mem.shape
    for j in range(W):
        r[j] = 0.0
    for i in range(N):
        wi = w[i]
        for j in range(W):
            r[j] += wi * mem[i, j]


@njit(cache=True, fastmath=REASSOC)
def read_backward(w, mem, d_r, d_w, d_mem):
    """Adds into d_w [N] and d_mem [N, W]."""
    N, W = mem.shape
    for i in range(N):
        acc = 0.0
        wi = w[i]
        for j in range(W):
            acc += d_r[j] * mem[i, j]
            d_mem[i, j] += wi * d_r[j]
        d_w[i] += acc


@njit(cache=True)
def write_forward(mem, w, e, a, mem_out):
    """mem_out = mem * (1 - w e^T) + w a^T (mem_out may not alias mem)."""
    N, W = mem.shape
    for i in range(N):
        wi = w[i]
        for j in range(W):
            mem_out[i, j] = mem[i, j] * (1.0 - wi * e[j]) + wi * a[j]


@njit(cache=True, fastmath=REASSOC, error_model="numpy")
def write_backward(mem, w, e, a, d_mem, d_w, d_e, d_a):
    """mem: the memory before the write. d_mem: in dL/dM', out dL/dM (in place).
    Adds into d_w [N]; sets d_e, d_a [W]. Row sums, then column sums, then the in-place
    update: one pass doing all three needed alias checks on six arrays per row (2x slower)."""
    N, W = mem.shape
    for i in range(N):
        acc = 0.0
        g, row = d_mem[i], mem[i]
        for j in range(W):
            acc += g[j] * (a[j] - row[j] * e[j])
        d_w[i] += acc
    for j in range(W):
        d_e[j] = 0.0
        d_a[j] = 0.0
    for i in range(N):
        wi = w[i]
        g, row = d_mem[i], mem[i]
        for j in range(W):
            d_a[j] += wi * g[j]
            d_e[j] -= wi * g[j] * row[j]
    for i in range(N):
        wi = w[i]
        g = d_mem[i]
        for j in range(W):
            g[j] = g[j] * (1.0 - wi * e[j])
