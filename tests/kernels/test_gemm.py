"""kernels/_gemm.py: our products equal the plain sums bit for bit, whatever the tiling."""

import numba
import numpy as np
import pytest

from kernels import gru, lstm, rnn
from kernels._gemm import (
    BIG_B_FLOATS,
    BIG_B_ROWS,
    KBLOCK,
    NARROW,
    ROWS,
    SLIVER,
    TILE,
    WIDE,
    _transpose_into,
    matmul,
    matmul_rows,
    pack,
    pack_padded,
    pack_transposed,
    pack_transposed_into,
    reference_matmul,
    transposed,
)

SHAPES = [
    (1, 5, 3),  # narrower than SLIVER: the scalar tail only
    (3, 7, WIDE + TILE + NARROW + SLIVER + 3),  # 1-row tiles: wide, panel, narrow, sliver, tail
    (ROWS * 2 + 1, 130, 2 * TILE),  # 4-row tiles and a 1-row remainder
    (17, 33, NARROW + SLIVER + 5),  # narrow, sliver and tail columns only (H = 53)
    (64, 128, 512),  # 8M multiply-adds: row chunks on several threads
    (9, 2 * KBLOCK + 37, 70),  # sums in three blocks of terms
    (300, 40, 2 * TILE + NARROW),  # rows in three blocks
]


@pytest.mark.parametrize("rows,k,n", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_equals_the_plain_sum_in_k_order(rows, k, n, dtype):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(rows, k)).astype(dtype)
    b = rng.normal(size=(k, n)).astype(dtype)
    expected = reference_matmul(a, b)
    for threads in (1, 2):
        out = np.full((rows, n), np.nan, dtype=dtype)
        matmul(a, b, out, False, threads)
        np.testing.assert_array_equal(out, expected)
    # a^T @ b through a transposed (F-order) view: the weight gradients' form
    out = np.full((rows, n), np.nan, dtype=dtype)
    matmul(np.ascontiguousarray(a.T).T, b, out, False, 2)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-4, atol=1e-4 * k)


def test_a_big_b_in_blocks_of_rows_gives_the_plain_sum():
    """b over BIG_B_FLOATS switches to blocks of BIG_B_ROWS rows: still every sum in k order."""
    rows, k = BIG_B_ROWS + 4, 2 * KBLOCK + 5
    n = BIG_B_FLOATS // k + TILE + 3
    rng = np.random.default_rng(4)
    a = rng.normal(size=(rows, k)).astype(np.float32)
    b = rng.normal(size=(k, n)).astype(np.float32)
    out = np.full((rows, n), np.nan, dtype=np.float32)
    matmul(a, b, out, False, 1)
    np.testing.assert_array_equal(out, reference_matmul(a, b))


def test_accumulate_adds_to_what_out_holds():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(6, 20)), rng.normal(size=(20, TILE + 5))
    start = rng.normal(size=(6, TILE + 5))
    out = start.copy()
    matmul(a, b, out, True, 1)
    np.testing.assert_allclose(out, start + a @ b, rtol=1e-13, atol=1e-13)


def test_a_row_range_leaves_the_other_rows_alone():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(9, 12)), rng.normal(size=(12, 70))
    out = np.full((9, 70), 7.0)
    matmul_rows(a, pack(b), out, 2, 7, False)
    np.testing.assert_array_equal(out[2:7], reference_matmul(a[2:7], b))
    assert (out[:2] == 7.0).all() and (out[7:] == 7.0).all()


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_cells_give_the_same_bits_on_one_thread_and_on_two(cell):
    """Batch rows run in parallel chunks; each row's arithmetic does not depend on its chunk,
    and the big products split rows, not sums: the thread count cannot change a bit."""
    rng = np.random.default_rng(3)
    t, b, i, h = 5, 16, 12, 48
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    p = {
        "weight_ih": rng.normal(size=(gates * h, i)).astype(np.float32) * 0.3,
        "weight_hh": rng.normal(size=(gates * h, h)).astype(np.float32) * 0.2,
        "bias_ih": rng.normal(size=gates * h).astype(np.float32) * 0.3,
        "bias_hh": rng.normal(size=gates * h).astype(np.float32) * 0.3,
    }
    x = rng.normal(size=(t, b, i)).astype(np.float32)
    h0 = rng.normal(size=(b, h)).astype(np.float32)
    d_out = rng.normal(size=(t, b, h)).astype(np.float32)

    def run():
        if cell == "lstm":
            tr = lstm.forward(x, h0, h0 * 0.5, p)
            return tr.out, lstm.backward(tr, d_out)
        mod = rnn if cell == "rnn" else gru
        tr = mod.forward(x, h0, p)
        return tr.out, mod.backward(tr, d_out)

    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        out_1, grads_1 = run()
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        out_2, grads_2 = run()
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(out_1, out_2)
    for name in grads_1:
        np.testing.assert_array_equal(grads_1[name], grads_2[name], err_msg=name)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_a_second_backward_leaves_the_first_ones_gradients_alone(cell):
    """backward keeps its big temporaries in reused scratch buffers (kernels._common.scratch):
    nothing it returns may live in them."""
    rng = np.random.default_rng(5)
    gates = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    mod = {"rnn": rnn, "lstm": lstm, "gru": gru}[cell]

    def case(t, b, i, h):
        p = {
            "weight_ih": rng.normal(size=(gates * h, i)) * 0.3,
            "weight_hh": rng.normal(size=(gates * h, h)) * 0.2,
            "bias_ih": rng.normal(size=gates * h) * 0.1,
            "bias_hh": rng.normal(size=gates * h) * 0.1,
        }
        x, h0 = rng.normal(size=(t, b, i)), rng.normal(size=(b, h))
        tr = mod.forward(x, h0, h0 * 0.5, p) if cell == "lstm" else mod.forward(x, h0, p)
        return tr, rng.normal(size=(t, b, h))

    first, d_first = case(4, 3, 5, 70)
    grads = mod.backward(first, d_first)
    kept = {name: g.copy() for name, g in grads.items()}
    second, d_second = case(6, 5, 5, 70)  # a bigger problem reuses (and grows) the buffers
    mod.backward(second, d_second)
    for name in kept:
        np.testing.assert_array_equal(grads[name], kept[name], err_msg=name)


@pytest.mark.parametrize("rows", [3, TILE, 2 * TILE + NARROW + 5])
def test_pack_transposed_into_a_buffer_equals_pack_of_the_transpose(rows):
    """pack_transposed(_into) reads w [N, K] in its own order (any strides: a column slice of
    the weights) and must lay out exactly pack(w.T); into a longer reused buffer too."""
    rng = np.random.default_rng(5)
    weights = rng.normal(size=(rows, 40)).astype(np.float32)
    w = weights[:, 3:31]  # not contiguous
    expected = pack(np.ascontiguousarray(w.T))
    buffer = np.full(w.size + 17, np.nan, np.float32)
    for got in (pack_transposed(w), pack_transposed_into(w, buffer)):
        for part, want in zip(got, expected, strict=True):
            np.testing.assert_array_equal(part, want)


@pytest.mark.parametrize("rows,cols", [(3, 5), (16, 16), (33, 50), (445, 400)])
def test_transposed_equals_numpy_transpose(rows, cols):
    """transposed / _transpose_into copy whole 16 x 16 blocks with fixed bounds, then the
    edge columns and rows: every element must land, at sizes below, at and off a block."""
    a = np.random.default_rng(6).normal(size=(rows, cols)).astype(np.float32)
    np.testing.assert_array_equal(transposed(a), a.T)
    out = np.full((cols, rows), np.nan, np.float32)
    _transpose_into(a, out)
    np.testing.assert_array_equal(out, a.T)



@pytest.mark.parametrize("cols,width", [(5, 32), (40, 64), (82, 96), (100, 128), (64, 64)])
def test_pack_padded_equals_pack_of_the_zero_padded_matrix(cols, width):
    """pack_padded lays out bt and its appended zero columns exactly as pack would lay out
    the padded copy, from a column slice (not contiguous) too."""
    rng = np.random.default_rng(8)
    bt = rng.normal(size=(7, cols + 3)).astype(np.float32)[:, 2 : 2 + cols]
    padded = np.zeros((7, width), np.float32)
    padded[:, :cols] = bt
    for got, want in zip(pack_padded(bt, width), pack(padded), strict=True):
        np.testing.assert_array_equal(got, want)
