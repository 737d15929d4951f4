"""The recurrent cells' matrix products, owned: out = a @ b with the accumulators in registers.

Why not BLAS. The per-step products of a recurrent cell are small ([B, H] x [H, 4H] at
B = 1-64): BLAS libraries pick their kernels by CPU and build, and on the same machine
OpenBLAS took 2.8 us for [1, 128] x [128, 512], ~31 us for 2-4 rows and 27 us for 16 rows
with its Haswell kernels, half that with its SkylakeX ones, and threaded them or not
depending on an environment variable (issue 16). These loops run the same on every machine.

How. A tile is 4 rows of `a` by TILE columns of `b`: for each k, four scalars of `a` times
one TILE-wide row of `b`, added into 4 x TILE accumulators (16 AVX-512 or 32 AVX2
registers for float32). The accumulators are the output rows themselves, passed to the tile
function as separate arguments that Numba marks `noalias`: only then may LLVM keep them in
registers across the k loop (with aliasing possible it loads and stores them every k, 4x
slower). Measured single-threaded on this machine (Zen 5), float32: [16, 128] x [128, 512]
at 103-110 GFLOP/s against OpenBLAS's 69 (Haswell kernels) / 93 (SkylakeX); [32, 512] x
[512, 2048] at 106-130 against 87 / 125.

The tiles are separate functions per width (_tile4 / _narrow4, _wide1 / _tile1 / _narrow1)
because LLVM keeps accumulators in registers only for a width known when it compiles.

Rounding. Every output element is sum_k a[r, k] * b[k, c] added in k order, one multiply
then one add (no fused multiply-add, no reassociation), whichever tile, thread or CPU
computes it: the same inputs give the same bits with any thread count and on any machine.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

try:  # Numba has a "noalias" compiler flag (its parfor lowering sets it) but no jit option
    from numba.core import cpu, options

    if not hasattr(cpu.CPUTargetOptions, "noalias"):
        cpu.CPUTargetOptions.noalias = options._mapping("noalias")
    NOALIAS = {"noalias": True}
except (ImportError, AttributeError):  # pragma: no cover - a Numba without the flag
    NOALIAS = {}  # the same results, slower (the accumulators go through memory)

TILE = 64  # columns per tile; 4 x 64 float32 accumulators fill AVX-512's 32 registers half
NARROW = 16  # columns per tile for what is left of a width that is not a multiple of TILE
WIDE = 256  # columns per tile of a single row
KBLOCK = 512  # terms of a sum per pass (a sum over T * B rows goes in blocks)
ROWS = 4  # rows per tile
# A product parallelises over row chunks when it has at least this many multiply-adds per
# thread: below it, waking Numba's threads costs more than the second core gives.
PARALLEL_MIN_MACS = 1 << 20


@njit(cache=True, error_model="numpy", **NOALIAS)
def _tile4(a0, a1, a2, a3, bt, c0, q0, q1, q2, q3):
    """q_i[0:TILE] += sum_k a_i[k] * bt[k, c0 : c0 + TILE] for rows a0..a3 [K] (any stride).

    q0..q3 must not overlap each other or the inputs (the noalias contract).
    """
    for k in range(bt.shape[0]):
        x0 = a0[k]
        x1 = a1[k]
        x2 = a2[k]
        x3 = a3[k]
        w = bt[k, c0 : c0 + TILE]
        for c in range(TILE):
            q0[c] += x0 * w[c]
            q1[c] += x1 * w[c]
            q2[c] += x2 * w[c]
            q3[c] += x3 * w[c]


@njit(cache=True, error_model="numpy", **NOALIAS)
def _wide1(a0, bt, c0, q0):
    """q0[0:WIDE] += sum_k a0[k] * bt[k, c0 : c0 + WIDE]: one row (B = 1) reads whole rows
    of bt in order with WIDE accumulators (a 1 x TILE tile was 1.7x slower: too few chains of
    additions to hide their latency, and bt read in strided pieces)."""
    for k in range(bt.shape[0]):
        x0 = a0[k]
        w = bt[k, c0 : c0 + WIDE]
        for c in range(WIDE):
            q0[c] += x0 * w[c]


@njit(cache=True, error_model="numpy", **NOALIAS)
def _tile1(a0, bt, c0, q0):
    """q0[0:TILE] += sum_k a0[k] * bt[k, c0 : c0 + TILE]."""
    for k in range(bt.shape[0]):
        x0 = a0[k]
        w = bt[k, c0 : c0 + TILE]
        for c in range(TILE):
            q0[c] += x0 * w[c]


@njit(cache=True, error_model="numpy", **NOALIAS)
def _narrow4(a0, a1, a2, a3, bt, c0, q0, q1, q2, q3):
    """_tile4 for NARROW columns: the last columns of a product whose width is not a multiple
    of TILE (H = 32, 48, ...)."""
    for k in range(bt.shape[0]):
        x0 = a0[k]
        x1 = a1[k]
        x2 = a2[k]
        x3 = a3[k]
        w = bt[k, c0 : c0 + NARROW]
        for c in range(NARROW):
            q0[c] += x0 * w[c]
            q1[c] += x1 * w[c]
            q2[c] += x2 * w[c]
            q3[c] += x3 * w[c]


@njit(cache=True, error_model="numpy", **NOALIAS)
def _narrow1(a0, bt, c0, q0):
    """_tile1 for NARROW columns."""
    for k in range(bt.shape[0]):
        x0 = a0[k]
        w = bt[k, c0 : c0 + NARROW]
        for c in range(NARROW):
            q0[c] += x0 * w[c]


@njit(cache=True, error_model="numpy")
def _tail(a0, bt, c0, q0):
    """q0[:] += sum_k a0[k] * bt[k, c0 : c0 + len(q0)]: the last columns, fewer than TILE
    (fewer than NARROW: a variable width, so the accumulators stay in memory; the same order
    of sums)."""
    for k in range(bt.shape[0]):
        x0 = a0[k]
        for c in range(q0.shape[0]):
            q0[c] += x0 * bt[k, c0 + c]


@njit(cache=True, nogil=True, error_model="numpy")
def matmul_rows(a, bt, out, r0, r1, accumulate):
    """out[r0:r1] (+)= a[r0:r1] @ bt, single-threaded.

    a [R, K] (rows of any stride: a.T of a C array gives the a^T @ b product), bt [K, N]
    C-contiguous, out [R, N] C-contiguous and not overlapping a or bt. Long sums go in
    blocks of KBLOCK terms (what a row block reads of `a` then stays in cache across the
    column panels); a block continues the sums the previous one left in out, so the
    order of the additions, and the bits, do not change.
    """
    if not accumulate:
        for r in range(r0, r1):
            out[r, :] = 0
    K = bt.shape[0]
    for k0 in range(0, K, KBLOCK):
        k1 = min(K, k0 + KBLOCK)
        _add_product(a[:, k0:k1], bt[k0:k1], out, r0, r1)


@njit(cache=True, nogil=True, error_model="numpy")
def _add_product(a, bt, out, r0, r1):
    """out[r0:r1] += a[r0:r1] @ bt: the tiles over every column."""
    N = bt.shape[1]
    full = N - N % TILE
    narrow = N - N % NARROW
    blocks_end = r0 + (r1 - r0) // ROWS * ROWS
    for c0 in range(0, full, TILE):  # column panels outside: bt[:, panel] stays in cache
        for r in range(r0, blocks_end, ROWS):
            _tile4(
                a[r],
                a[r + 1],
                a[r + 2],
                a[r + 3],
                bt,
                c0,
                out[r, c0 : c0 + TILE],
                out[r + 1, c0 : c0 + TILE],
                out[r + 2, c0 : c0 + TILE],
                out[r + 3, c0 : c0 + TILE],
            )
    for c0 in range(full, narrow, NARROW):
        for r in range(r0, blocks_end, ROWS):
            _narrow4(
                a[r],
                a[r + 1],
                a[r + 2],
                a[r + 3],
                bt,
                c0,
                out[r, c0 : c0 + NARROW],
                out[r + 1, c0 : c0 + NARROW],
                out[r + 2, c0 : c0 + NARROW],
                out[r + 3, c0 : c0 + NARROW],
            )
    if narrow < N:
        for r in range(r0, blocks_end):
            _tail(a[r], bt, narrow, out[r, narrow:])
    for r in range(blocks_end, r1):
        _row(a[r], bt, out[r])


@njit(cache=True, error_model="numpy")
def _row(a0, bt, q):
    """q [N] += a0 [K] @ bt [K, N] for one row: widest tiles first."""
    N = bt.shape[1]
    c0 = 0
    while c0 + WIDE <= N:
        _wide1(a0, bt, c0, q[c0 : c0 + WIDE])
        c0 += WIDE
    while c0 + TILE <= N:
        _tile1(a0, bt, c0, q[c0 : c0 + TILE])
        c0 += TILE
    while c0 + NARROW <= N:
        _narrow1(a0, bt, c0, q[c0 : c0 + NARROW])
        c0 += NARROW
    if c0 < N:
        _tail(a0, bt, c0, q[c0:])


@njit(cache=True, inline="always")
def batch_chunks(rows, threads):
    """How many parallel chunks a recurrence over `rows` batch rows runs in: one per thread,
    each of at least ROWS rows (a whole tile)."""
    return max(1, min(threads, rows // ROWS))


@njit(cache=True, inline="always")
def chunk_bounds(rows, chunks, i):
    """Rows [r0, r1) of chunk i of `chunks`: whole tiles (ROWS) per chunk but the last."""
    per = (rows + chunks - 1) // chunks
    per += (-per) % ROWS
    r0 = min(rows, i * per)
    return r0, min(rows, r0 + per)


@njit(cache=True, nogil=True, parallel=True, error_model="numpy")
def _matmul_chunks(a, bt, out, accumulate, chunks):
    for i in prange(chunks):
        r0, r1 = chunk_bounds(a.shape[0], chunks, i)
        matmul_rows(a, bt, out, r0, r1, accumulate)


@njit(cache=True, nogil=True, error_model="numpy")
def matmul(a, bt, out, accumulate, threads):
    """out (+)= a @ bt over all rows; a [R, K], bt [K, N] C, out [R, N] C.

    Uses up to `threads` Numba threads (row chunks) when the product is big enough to pay
    for them; the result is the same bits either way.
    """
    R, K = a.shape
    macs = R * K * bt.shape[1]
    chunks = min(batch_chunks(R, threads), macs // PARALLEL_MIN_MACS)
    if chunks > 1:
        _matmul_chunks(a, bt, out, accumulate, chunks)
    else:
        matmul_rows(a, bt, out, 0, R, accumulate)


def step_weights(weight_ih: np.ndarray, weight_hh: np.ndarray) -> tuple:
    """(weight_ih.T, weight_hh.T) as C arrays: the layout the cells' step_arrays take."""
    return np.ascontiguousarray(weight_ih.T), np.ascontiguousarray(weight_hh.T)


def reference_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The same sums as matmul, in plain numpy (k in order, multiply then add): for tests."""
    out = np.zeros((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    for k in range(a.shape[1]):
        out += a[:, k : k + 1] * b[k]
    return out
