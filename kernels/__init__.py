"""Numerics only: Numba kernels and thin numpy-level wrappers.

This package imports numpy, numba and scipy, never tui_lab, Textual or Rich.

Recurrent cells (PyTorch's equations, weights and gate order; x [T, B, I], h0/c0 [B, H]):

    rnn.forward(x, h0, params, nonlinearity="tanh") -> RNNTrace(.out, .h_n, ...)
    lstm.forward(x, h0, c0, params) -> LSTMTrace(.out, .c, .gates (i, f, g, o), .h_n, .c_n)
    gru.forward(x, h0, params) -> GRUTrace(.out, .gates (r, z, n), .hn = W_hn h + b_hn, .h_n)
    <cell>.backward(trace, d_out, d_h_n=None[, d_c_n=None]) -> dict of gradients: "input",
        "h0" (lstm: "c0"), "weight_ih", "weight_hh", "bias_ih", "bias_hh", and "d_h" [T, B, H]
        (the total dL/dh_t at every step, for per-step gradient panels)
    <cell>.step(...)         one checked step for interactive use, returns the gates too
    <cell>.step_arrays(...)  the same step on preallocated arrays and weights transposed and
        packed once (_gemm.step_weights), no checks (lowest latency)

Every matrix product of the cells is ours (_gemm.matmul): no BLAS, the same bits with any
thread count and on any CPU; batch rows run in parallel chunks on numba's threads.

optim: sgd_update, adam_update, rmsprop_graves_update, clip_global_norm, clip_elementwise and
the SGD / Adam / RMSPropGraves classes. losses: softmax_cross_entropy, sigmoid_bce_with_logits,
mse, mae, each returning (mean loss, gradient). _common: shared checks and the vectorisable
exp/sigmoid/tanh the cell loops use.

Numba's on-disk cache (cache=True) does not notice edits to a helper in another module;
_cache_guard drops every cache file under kernels/ when any kernel source changed.
"""

import os

from kernels._cache_guard import drop_stale_caches

# Numba's OpenMP threading layer (libgomp, read when Numba first starts its threads) by
# default lets a thread that finished its share of a parallel region spin on the CPU for a
# while before it sleeps. On this 2-core machine shared with other jobs that spinning took
# the core the next piece of work needed: a MANN update of 16 episodes on 2 threads took
# 58-62 ms of wall time against 12 ms on one thread, and 11-14 ms with the threads waiting
# passively. No kernel here opens a parallel region per step, so the wake-up (~10 us) is
# paid a few times per call at most. A value the user set is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

drop_stale_caches()
