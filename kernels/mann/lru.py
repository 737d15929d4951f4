"""Least-recently-used access (Santoro et al. 2016, section 3.2), one step of one episode.

    usage        u_t = gamma u_{t-1} + sum_k w_r_t^k + sum_k w_w_t^k
    least used   lu_{t-1} = the R slots of smallest u_{t-1} (ties: the lower slot first)
    write        w_w_t^k = sigma_k w_r_{t-1}^k + (1 - sigma_k) onehot(lu_{t-1}[k])
    memory       M_t = zero_row(M_{t-1}, lu_{t-1}[0]) + sum_k w_w_t^k add_k^T

Head k writes to its own least-used slot, the k-th least used (the paper's w_lu has ones on
all R least-used slots; giving each head one of them keeps two heads from writing over each
other). The least-used slot of all, lu[0], is zeroed before the write.

Gradients: the selection of lu is an argmin (a step function of u) and u feeds nothing else,
so backward treats lu as a constant and u gets no gradient at all; the zeroing is then a
fixed mask (its row passes no gradient back to M_{t-1}).

Shapes: usage [N], least_used [R] (int64), w_read, w_write [R, N]. The write weights and
the write, and their gradients, are memory.py's (fused with the reads').
"""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def select_least_used(usage, least_used):
    """least_used[k] = the slot of the (k+1)-th smallest usage (R passes of an argmin; R is a
    few heads, N a few hundred slots: cheaper than a sort)."""
    N = usage.shape[0]
    for k in range(least_used.shape[0]):
        best = -1
        for i in range(N):
            taken = False
            for q in range(k):
                if least_used[q] == i:
                    taken = True
            if taken:
                continue
            if best < 0 or usage[i] < usage[best]:
                best = i
        least_used[k] = best


@njit(cache=True)
def usage_forward(gamma, usage_prev, w_read, w_write, usage):
    """usage [N] = gamma usage_prev + sum over heads of w_read [R, N] and w_write [R, N]."""
    N = usage.shape[0]
    for i in range(N):
        usage[i] = gamma * usage_prev[i]
    for k in range(w_read.shape[0]):
        for i in range(N):
            usage[i] += w_read[k, i] + w_write[k, i]
