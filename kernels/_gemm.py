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
slower). `b` is packed first (pack): each TILE-wide column panel becomes one contiguous
block, which stays in L1 while every row tile passes over it; read from `b` itself, the
panel's rows lie N floats apart and, N a power of two, evict each other. Big products go
in blocks of rows and of terms (matmul_rows). Measured single-threaded on this machine
(Zen 5), float32, beside other jobs: [16, 128] x [128, 512] at 190-213 GFLOP/s packed,
115-152 unpacked, against OpenBLAS's 69 (Haswell kernels) / 93 (SkylakeX) measured quiet.

The tiles are separate functions per width (_tile4 / _narrow4 / _sliver4, _wide1 / _tile1 /
_narrow1 / _sliver1) because LLVM keeps accumulators in registers only for a width known when
it compiles.

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
NARROW = 32  # columns per tile for what is left of a width that is not a multiple of TILE
SLIVER = 16  # and for what is left of that (below it, a scalar tail)
WIDE = 4 * TILE  # columns per tile of a single row
KBLOCK = 128  # terms of a sum per pass: a panel's block (128 x 64 float32, 32 KB) fits L1
# Rows per pass of a tall product. b's panels are streamed again for every block of rows, out's
# block is kept in L2 across the blocks of terms: blocks of at most OUT_BLOCK_FLOATS of out
# (16-128 rows) unless b is big (over BIG_B_FLOATS), then BIG_B_ROWS rows. Single-threaded
# float32 GFLOP/s by rows per block (scratch timings beside other jobs): [3200, 256] x
# [256, 2048] 160 / 155 / 144 / 127 at 16 / 32 / 64 / 512 rows; [512, 3200] x [3200, 2048]
# 110 / 144 / 178 / 215; [128, 800] x [800, 512] 207 / 220 / 228 / 233.
OUT_BLOCK_FLOATS = 1 << 16
BIG_B_FLOATS = 1 << 20
BIG_B_ROWS = 512
ROWS = 4  # rows per tile
# A product parallelises over row chunks when it has at least this many multiply-adds per
# thread: below it, waking Numba's threads costs more than the second core gives.
PARALLEL_MIN_MACS = 1 << 20


@njit(cache=True, nogil=True, error_model="numpy")
def pack(bt):
    """bt [K, N] C -> (panels [N // TILE, K, TILE], rest [K, N % TILE]), both C arrays.

    A tile reads one TILE-wide column panel of bt for every k. In bt itself those pieces lie
    N floats apart, and with N a power of two (512, 2048) they all fall into the same few
    L1 sets: the panel is evicted before the next row tile reuses it (a [16, 128] x [128,
    512] product ran at 152 GFLOP/s single-threaded from bt, 235 from panels, float32, a
    scratch timing loop). Packed, a panel is one contiguous block that stays in L1.
    """
    K, N = bt.shape
    return pack_into(bt, np.empty(K * N, dtype=bt.dtype))


@njit(cache=True, nogil=True, error_model="numpy")
def pack_into(bt, buffer):
    """pack(bt) written into buffer [>= K * N] (a reusable workspace, so that a big packed
    copy does not fault in fresh pages on every call): the views (panels, rest) of it."""
    return _pack_padded_into(bt, buffer, bt.shape[1])


@njit(cache=True, nogil=True, error_model="numpy")
def pack_padded(bt, width):
    """pack of bt [K, N] with zero columns appended up to `width` (>= N), in one call: the
    zero columns add nothing to the real ones' sums (their bits stay), and a width that
    fills whole NARROW tiles keeps the product out of the slow tail (kernels/mann/api.py)."""
    return _pack_padded_into(bt, np.empty(bt.shape[0] * width, dtype=bt.dtype), width)


@njit(cache=True, nogil=True, error_model="numpy")
def _pack_padded_into(bt, buffer, width):
    """The packing of bt [K, N] as if it had `width` (>= N) columns, the ones past N zero,
    written into buffer [>= K * width]: the views (panels, rest) of it."""
    K, N = bt.shape
    P = width // TILE
    panels = buffer[: P * K * TILE].reshape((P, K, TILE))
    rest = buffer[P * K * TILE : K * width].reshape((K, width - P * TILE))
    # element loops, not slice assignments: a slice assignment costs ~50 ns of set-up, and
    # packing W_hh^T [64, 256] took 16 us that way (of a 60 us forward at B = 1)
    for p in range(P):
        real = max(0, min(TILE, N - p * TILE))
        panel = panels[p]
        for k in range(K):
            for c in range(real):
                panel[k, c] = bt[k, p * TILE + c]
            for c in range(real, TILE):
                panel[k, c] = 0
    real = max(0, N - P * TILE)
    for k in range(K):
        for c in range(real):
            rest[k, c] = bt[k, P * TILE + c]
        for c in range(real, rest.shape[1]):
            rest[k, c] = 0
    return panels, rest


@njit(cache=True, nogil=True, error_model="numpy")
def pack_transposed(w):
    """pack(w.T) for w [N, K] C, read in w's own order (numpy's copy of a transposed
    [256, 64] float32 took 9 us, this 2-3 us): the weights' W^T without a transposed copy."""
    N, K = w.shape
    return pack_transposed_into(w, np.empty(N * K, dtype=w.dtype))


@njit(cache=True, nogil=True, error_model="numpy")
def pack_transposed_into(w, buffer):
    """pack_transposed(w) written into buffer [>= N * K] (see pack_into): its views."""
    N, K = w.shape
    P = N // TILE
    panels = buffer[: P * K * TILE].reshape((P, K, TILE))
    rest = buffer[P * K * TILE : K * N].reshape((K, N - P * TILE))
    # 16 x 16 blocks with constant bounds, which LLVM unrolls (as _transpose_into's; calling
    # it per panel measured 65 us against 50 us for these loops, the MANN's [400, 405]
    # input weights; 68 us a panel column at a time)
    whole = K - K % 16
    for p in range(P):
        panel = panels[p]
        for k0 in range(0, whole, 16):
            for c0 in range(0, TILE, 16):
                for i in range(16):
                    for j in range(16):
                        panel[k0 + j, c0 + i] = w[p * TILE + c0 + i, k0 + j]
        for c in range(TILE):
            for k in range(whole, K):
                panel[k, c] = w[p * TILE + c, k]
    for c in range(N - P * TILE):
        row = w[P * TILE + c]
        for k in range(K):
            rest[k, c] = row[k]
    return panels, rest


@njit(cache=True, error_model="numpy", **NOALIAS)
def _tile4(a0, a1, a2, a3, w, q0, q1, q2, q3):
    """q_i[0:TILE] += sum_k a_i[k] * w[k] for rows a0..a3 [K] (any stride) and a
    panel w [K, TILE].

    q0..q3 must not overlap each other or the inputs (the noalias contract).
    """
    for k in range(w.shape[0]):
        x0 = a0[k]
        x1 = a1[k]
        x2 = a2[k]
        x3 = a3[k]
        wk = w[k]
        for c in range(TILE):
            q0[c] += x0 * wk[c]
            q1[c] += x1 * wk[c]
            q2[c] += x2 * wk[c]
            q3[c] += x3 * wk[c]


@njit(cache=True, error_model="numpy", **NOALIAS)
def _wide1(a0, w0, w1, w2, w3, q0, q1, q2, q3):
    """q_i[0:TILE] += sum_k a0[k] * w_i[k] for four panels w0..w3 [K, TILE]: one row (B = 1)
    against 4 * TILE columns at once (a 1 x TILE tile was 1.7x slower: too few chains of
    additions to hide their latency)."""
    for k in range(w0.shape[0]):
        x0 = a0[k]
        r0 = w0[k]
        r1 = w1[k]
        r2 = w2[k]
        r3 = w3[k]
        for c in range(TILE):
            q0[c] += x0 * r0[c]
            q1[c] += x0 * r1[c]
            q2[c] += x0 * r2[c]
            q3[c] += x0 * r3[c]


@njit(cache=True, error_model="numpy", **NOALIAS)
def _tile1(a0, w, q0):
    """q0[0:TILE] += sum_k a0[k] * w[k] for one panel w [K, TILE]."""
    for k in range(w.shape[0]):
        x0 = a0[k]
        wk = w[k]
        for c in range(TILE):
            q0[c] += x0 * wk[c]


@njit(cache=True, error_model="numpy", **NOALIAS)
def _narrow4(a0, a1, a2, a3, bt, c0, q0, q1, q2, q3):
    """q_i[0:NARROW] += sum_k a_i[k] * bt[k, c0 : c0 + NARROW]: the columns of a product
    that do not fill a panel (H = 32, 48, ...), read from `rest` (narrow: its rows lie close)."""
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
    """_narrow4 for one row."""
    for k in range(bt.shape[0]):
        x0 = a0[k]
        w = bt[k, c0 : c0 + NARROW]
        for c in range(NARROW):
            q0[c] += x0 * w[c]


@njit(cache=True, error_model="numpy", **NOALIAS)
def _sliver4(a0, a1, a2, a3, bt, c0, q0, q1, q2, q3):
    """_narrow4 for the last SLIVER columns (H = 16, 48, ...)."""
    for k in range(bt.shape[0]):
        x0 = a0[k]
        x1 = a1[k]
        x2 = a2[k]
        x3 = a3[k]
        w = bt[k, c0 : c0 + SLIVER]
        for c in range(SLIVER):
            q0[c] += x0 * w[c]
            q1[c] += x1 * w[c]
            q2[c] += x2 * w[c]
            q3[c] += x3 * w[c]


@njit(cache=True, error_model="numpy", **NOALIAS)
def _sliver1(a0, bt, c0, q0):
    """_sliver4 for one row."""
    for k in range(bt.shape[0]):
        x0 = a0[k]
        w = bt[k, c0 : c0 + SLIVER]
        for c in range(SLIVER):
            q0[c] += x0 * w[c]


@njit(cache=True, error_model="numpy")
def _tail(a0, bt, c0, q0):
    """q0[:] += sum_k a0[k] * bt[k, c0 : c0 + len(q0)]: the last columns, fewer than SLIVER
    (a variable width, so the accumulators stay in memory: 16 columns ran at 5.5 GFLOP/s
    here against 80 in a sliver tile; the same order of sums)."""
    for k in range(bt.shape[0]):
        x0 = a0[k]
        for c in range(q0.shape[0]):
            q0[c] += x0 * bt[k, c0 + c]


@njit(cache=True, nogil=True, error_model="numpy")
def matmul_rows(a, packed, out, r0, r1, accumulate):
    """out[r0:r1] (+)= a[r0:r1] @ bt, single-threaded, with packed = pack(bt).

    a [R, K] (rows of any stride: a.T of a C array gives the a^T @ b product), out [R, N]
    C-contiguous and not overlapping a or bt. Rows go in blocks (their slice of
    out stays in L2 while every panel passes) and long sums in blocks of KBLOCK terms (a
    panel's block stays in L1 across the row tiles); a block continues the sums the previous
    one left in out, so the order of the additions, and the bits, do not change.
    """
    if not accumulate:
        for r in range(r0, r1):
            out[r, :] = 0
    panels, rest = packed
    K = rest.shape[0]
    N = out.shape[1]
    if K * N > BIG_B_FLOATS:
        row_block = BIG_B_ROWS
    else:
        row_block = max(4 * ROWS, min(32 * ROWS, OUT_BLOCK_FLOATS // max(N, 1) // ROWS * ROWS))
    for rb in range(r0, r1, row_block):
        rb_end = min(r1, rb + row_block)
        for k0 in range(0, K, KBLOCK):
            _add_product(a, panels, rest, out, rb, rb_end, k0, min(K, k0 + KBLOCK))


@njit(cache=True, nogil=True, error_model="numpy")
def _add_product(a, panels, rest, out, r0, r1, k0, k1):
    """out[r0:r1] += a[r0:r1, k0:k1] @ bt[k0:k1]: the tiles over every column."""
    full = panels.shape[0] * TILE
    width = rest.shape[1]
    narrow = width - width % NARROW
    blocks_end = r0 + (r1 - r0) // ROWS * ROWS
    for p in range(panels.shape[0]):  # panels outside: the panel's block stays in L1
        w = panels[p, k0:k1]
        c0 = p * TILE
        for r in range(r0, blocks_end, ROWS):
            _tile4(
                a[r, k0:k1],
                a[r + 1, k0:k1],
                a[r + 2, k0:k1],
                a[r + 3, k0:k1],
                w,
                out[r, c0 : c0 + TILE],
                out[r + 1, c0 : c0 + TILE],
                out[r + 2, c0 : c0 + TILE],
                out[r + 3, c0 : c0 + TILE],
            )
    for c in range(0, narrow, NARROW):
        c0 = full + c
        for r in range(r0, blocks_end, ROWS):
            _narrow4(
                a[r, k0:k1],
                a[r + 1, k0:k1],
                a[r + 2, k0:k1],
                a[r + 3, k0:k1],
                rest[k0:k1],
                c,
                out[r, c0 : c0 + NARROW],
                out[r + 1, c0 : c0 + NARROW],
                out[r + 2, c0 : c0 + NARROW],
                out[r + 3, c0 : c0 + NARROW],
            )
    if narrow + SLIVER <= width:
        c0 = full + narrow
        for r in range(r0, blocks_end, ROWS):
            _sliver4(
                a[r, k0:k1],
                a[r + 1, k0:k1],
                a[r + 2, k0:k1],
                a[r + 3, k0:k1],
                rest[k0:k1],
                narrow,
                out[r, c0 : c0 + SLIVER],
                out[r + 1, c0 : c0 + SLIVER],
                out[r + 2, c0 : c0 + SLIVER],
                out[r + 3, c0 : c0 + SLIVER],
            )
        narrow += SLIVER
    if narrow < width:
        for r in range(r0, blocks_end):
            _tail(a[r, k0:k1], rest[k0:k1], narrow, out[r, full + narrow :])
    for r in range(blocks_end, r1):
        _row(a[r, k0:k1], panels, rest[k0:k1], k0, k1, out[r])


@njit(cache=True, error_model="numpy")
def _row(a0, panels, rest, k0, k1, q):
    """q [N] += a0 @ bt[k0:k1] for one row (a0 [k1 - k0], rest = the rest's rows k0:k1):
    four panels at a time first."""
    P = panels.shape[0]
    p = 0
    while p + 4 <= P:
        c0 = p * TILE
        _wide1(
            a0,
            panels[p, k0:k1],
            panels[p + 1, k0:k1],
            panels[p + 2, k0:k1],
            panels[p + 3, k0:k1],
            q[c0 : c0 + TILE],
            q[c0 + TILE : c0 + 2 * TILE],
            q[c0 + 2 * TILE : c0 + 3 * TILE],
            q[c0 + 3 * TILE : c0 + 4 * TILE],
        )
        p += 4
    while p < P:
        _tile1(a0, panels[p, k0:k1], q[p * TILE : (p + 1) * TILE])
        p += 1
    full = P * TILE
    width = rest.shape[1]
    narrow = width - width % NARROW
    for c in range(0, narrow, NARROW):
        _narrow1(a0, rest, c, q[full + c : full + c + NARROW])
    if narrow + SLIVER <= width:
        _sliver1(a0, rest, narrow, q[full + narrow : full + narrow + SLIVER])
        narrow += SLIVER
    if narrow < width:
        _tail(a0, rest, narrow, q[full + narrow :])


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
def _matmul_chunks(a, packed, out, accumulate, chunks):
    for i in prange(chunks):
        r0, r1 = chunk_bounds(a.shape[0], chunks, i)
        matmul_rows(a, packed, out, r0, r1, accumulate)


@njit(cache=True, nogil=True, error_model="numpy")
def matmul(a, bt, out, accumulate, threads):
    """out (+)= a @ bt over all rows; a [R, K] (any row stride), bt [K, N] C, out [R, N] C.

    Packs bt once (a copy of K x N, small beside R x K x N multiply-adds), then
    matmul_packed.
    """
    matmul_packed(a, pack(bt), out, accumulate, threads)


@njit(cache=True, nogil=True, error_model="numpy")
def matmul_packed(a, packed, out, accumulate, threads):
    """out (+)= a @ bt with packed = pack(bt), on up to `threads` Numba threads (row chunks)
    when the product is big enough to pay for them; the same bits either way."""
    R, K = a.shape
    macs = R * K * out.shape[1]
    chunks = min(batch_chunks(R, threads), macs // PARALLEL_MIN_MACS)
    if chunks > 1:
        _matmul_chunks(a, packed, out, accumulate, chunks)
    else:
        matmul_rows(a, packed, out, 0, R, accumulate)


@njit(cache=True, nogil=True, error_model="numpy")
def weight_gradient(d_pre_packed, inputs, out, threads):
    """out [G, F] = d_pre^T @ inputs for d_pre_packed = pack(d_pre [T*B, G]), inputs [T*B, F].

    Computed as (inputs^T @ d_pre)^T: the wide operand d_pre is the packed one (its G columns
    fill whole panels, where F = I or H can be 32 wide and leave only narrow tiles), and one
    packing serves dW_ih and dW_hh. Each element is the same sum over the T*B rows in order
    as d_pre^T @ inputs (x * y = y * x exactly): the same bits.
    """
    out_t = np.empty((inputs.shape[1], out.shape[0]), dtype=out.dtype)
    # inputs^T as a C array: read through the transposed view, the rows' terms lie F floats
    # apart and (F a power of two) fight over the same L1 sets
    matmul_packed(transposed(inputs), d_pre_packed, out_t, False, threads)
    _transpose_into(out_t, out)


@njit(cache=True, nogil=True, error_model="numpy")
def cell_weight_gradients(d_pre_ih, d_pre_hh, x, h0, hs, dw_ih, dw_hh, workspace, threads):
    """dW_ih = d_pre_ih^T x and dW_hh = d_pre_hh^T h_prev over every step, for a recurrent cell.

    d_pre_ih, d_pre_hh [T*B, G] (the same array for RNN and LSTM, packed once then; GRU's
    differ in the n block); x [T, B, I]; h0 [B, H]; hs [T, B, H] (h_prev_t = h_{t-1});
    dw_ih [G, I], dw_hh [G, H]; workspace [>= T*B*(G + H)] holds the packed d_pre and h_prev.
    """
    T, B, I = x.shape
    H = h0.shape[1]
    TB, G = d_pre_ih.shape
    packed = pack_into(d_pre_ih, workspace[: TB * G])
    weight_gradient(packed, x.reshape(TB, I), dw_ih, threads)
    h_prev = workspace[TB * G : TB * (G + H)].reshape((T, B, H))
    h_prev[0] = h0
    h_prev[1:] = hs[: T - 1]
    if d_pre_hh.ctypes.data != d_pre_ih.ctypes.data:
        packed = pack_into(d_pre_hh, workspace[: TB * G])
    weight_gradient(packed, h_prev.reshape(TB, H), dw_hh, threads)


@njit(cache=True, nogil=True, error_model="numpy")
def transposed(a):
    """a.T [N, M] as a new C array, for a [M, N] C (element loops: numpy and Numba copy a
    transposed view several times slower at these sizes)."""
    out = np.empty((a.shape[1], a.shape[0]), dtype=a.dtype)
    _transpose_into(a, out)
    return out


@njit(cache=True, nogil=True, error_model="numpy")
def _transpose_into(a, out):
    """out [N, M] = a.T for a [M, N], in blocks of 16 x 16 (both sides stay in cache).

    The whole blocks go with constant bounds, which LLVM unrolls: [445, 400] float32 took
    50 us so, 100 us with every block's bounds clipped (min) as the edges' are."""
    M, N = a.shape
    M16 = M - M % 16
    N16 = N - N % 16
    for i0 in range(0, M16, 16):
        for j0 in range(0, N16, 16):
            for i in range(16):
                for j in range(16):
                    out[j0 + j, i0 + i] = a[i0 + i, j0 + j]
    for i in range(M16):  # the last columns of a, then its last rows
        for j in range(N16, N):
            out[j, i] = a[i, j]
    for i in range(M16, M):
        for j in range(N):
            out[j, i] = a[i, j]


def step_weights(weight_ih: np.ndarray, weight_hh: np.ndarray) -> tuple:
    """(pack(weight_ih.T), pack(weight_hh.T)): the weights as the cells' step_arrays take them
    (packed once, so that a step copies nothing)."""
    return pack_transposed(weight_ih), pack_transposed(weight_hh)


def reference_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The same sums as matmul, in plain numpy (k in order, multiply then add): for tests."""
    out = np.zeros((a.shape[0], b.shape[1]), dtype=np.result_type(a, b))
    for k in range(a.shape[1]):
        out += a[:, k : k + 1] * b[k]
    return out
