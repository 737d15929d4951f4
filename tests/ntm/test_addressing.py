"""Each addressing stage, head activation and memory operation on its own: forward vs numpy
from the equations, backward vs central finite differences in float64."""

import numpy as np
import pytest
from gradcheck import numeric_grad

from kernels.ntm import addressing as A
from kernels.ntm import heads, memory
from ntm.reference import address, sigmoid, softmax, softplus

rng = np.random.default_rng(7)
N, W, S = 7, 4, 3


def assert_close(analytic, numeric):
    analytic, numeric = np.asarray(analytic, float), np.asarray(numeric, float)
    err = np.abs(analytic - numeric) / np.maximum(1e-4, np.abs(analytic) + np.abs(numeric))
    assert err.max() < 1e-6, f"relative error {err.max():.2e}"


def simplex(n):
    return softmax(rng.normal(size=n))


def test_stages_forward_match_equations():
    key, mem, w_prev, shift = rng.normal(size=W), rng.normal(size=(N, W)), simplex(N), simplex(S)
    beta, g, gamma = 2.5, 0.3, 1.7
    K, wc, wg, ws, w = (np.zeros(N) for _ in range(5))
    A.content_forward(key, beta, mem, K, wc)
    A.interpolate_forward(wc, w_prev, g, wg)
    A.shift_forward(wg, shift, ws)
    A.sharpen_forward(ws, gamma, w)
    for got, want in zip(
        (K, wc, wg, ws, w), address(key, beta, g, gamma, shift, mem, w_prev), strict=True
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_shift_plus_one_moves_focus_down():
    wg = np.eye(N)[2]
    ws = np.zeros(N)
    A.shift_forward(wg, np.array([0.0, 0.0, 1.0]), ws)  # all weight on shift +1
    assert ws.argmax() == 3
    A.shift_forward(np.eye(N)[0], np.array([1.0, 0.0, 0.0]), ws)  # -1 wraps around
    assert ws.argmax() == N - 1


def test_content_backward():
    key, mem, beta = rng.normal(size=W), rng.normal(size=(N, W)), np.array([1.3])
    up = rng.normal(size=N)
    K, wc = np.zeros(N), np.zeros(N)

    def loss():
        A.content_forward(key, beta[0], mem, K, wc)
        return up @ wc

    loss()
    d_key, d_mem = np.zeros(W), np.zeros((N, W))
    d_beta = A.content_backward(key, beta[0], mem, K, wc, up, d_key, d_mem)
    assert_close(d_key, numeric_grad(loss, key))
    assert_close(d_mem, numeric_grad(loss, mem))
    assert_close(d_beta, numeric_grad(loss, beta))


def test_content_with_zero_memory_rows_is_finite():
    key, mem = rng.normal(size=W), np.zeros((N, W))
    K, wc = np.zeros(N), np.zeros(N)
    A.content_forward(key, 3.0, mem, K, wc)
    np.testing.assert_allclose(wc, np.full(N, 1.0 / N))
    d_key, d_mem = np.zeros(W), np.zeros((N, W))
    A.content_backward(key, 3.0, mem, K, wc, rng.normal(size=N), d_key, d_mem)
    assert np.isfinite(d_key).all() and np.isfinite(d_mem).all()


def test_interpolate_and_shift_backward():
    wc, w_prev, g, shift = simplex(N), simplex(N), np.array([0.4]), simplex(S)
    up = rng.normal(size=N)
    wg, ws = np.zeros(N), np.zeros(N)

    def loss():
        A.interpolate_forward(wc, w_prev, g[0], wg)
        A.shift_forward(wg, shift, ws)
        return up @ ws

    loss()
    d_wg, d_shift, d_wc, d_prev = np.zeros(N), np.zeros(S), np.zeros(N), np.zeros(N)
    A.shift_backward(wg, shift, up, d_wg, d_shift)
    d_g = A.interpolate_backward(wc, w_prev, g[0], d_wg, d_wc, d_prev)
    assert_close(d_shift, numeric_grad(loss, shift))
    assert_close(d_wc, numeric_grad(loss, wc))
    assert_close(d_prev, numeric_grad(loss, w_prev))
    assert_close(d_g, numeric_grad(loss, g))


def test_sharpen_backward():
    ws, gamma, up = simplex(N), np.array([2.2]), rng.normal(size=N)
    w = np.zeros(N)

    def loss():
        A.sharpen_forward(ws, gamma[0], w)
        return up @ w

    loss()
    d_ws = np.zeros(N)
    d_gamma = A.sharpen_backward(ws, gamma[0], w, up, d_ws)
    assert_close(d_ws, numeric_grad(loss, ws))
    assert_close(d_gamma, numeric_grad(loss, gamma))


def test_sharpen_is_stable_where_power_underflows():
    ws = np.array([1e-300, 1e-200, 0.0, 0.5, 0.5])
    w = np.zeros(5)
    A.sharpen_forward(ws, 50.0, w)
    np.testing.assert_allclose(w, [0, 0, 0, 0.5, 0.5], atol=1e-300)
    d_ws = np.zeros(5)
    A.sharpen_backward(ws, 50.0, w, np.arange(5.0), d_ws)
    assert np.isfinite(d_ws).all() and (d_ws[:3] == 0.0).all()
    w32 = np.zeros(5, np.float32)
    A.sharpen_forward(np.array([1e-30, 1e-20, 0.0, 0.5, 0.5], np.float32), np.float32(30.0), w32)
    np.testing.assert_allclose(w32, [0, 0, 0, 0.5, 0.5], atol=1e-7)


@pytest.mark.parametrize("is_write", [False, True])
def test_head_activations(is_write):
    size = W + 3 + S + (2 * W if is_write else 0)
    raw, up = rng.normal(size=size) * 2, rng.normal(size=size)
    act = np.zeros(size)

    def loss():
        heads.activate(raw, act, W, S, is_write)
        return up @ act

    loss()
    want = [
        np.tanh(raw[:W]),
        [softplus(raw[W])],
        [sigmoid(raw[W + 1])],
        [1 + softplus(raw[W + 2])],
        softmax(raw[W + 3 : W + 3 + S]),
    ]
    if is_write:
        want += [sigmoid(raw[W + 3 + S : 2 * W + 3 + S]), np.tanh(raw[2 * W + 3 + S :])]
    np.testing.assert_allclose(act, np.concatenate(want), rtol=1e-12)
    d_raw = np.zeros(size)
    heads.activate_backward(act, up, d_raw, W, S, is_write)
    assert_close(d_raw, numeric_grad(loss, raw))


def test_read_and_write():
    mem, w, r = rng.normal(size=(N, W)), simplex(N), np.zeros(W)
    e, a = sigmoid(rng.normal(size=W)), np.tanh(rng.normal(size=W))
    memory.read_forward(w, mem, r)
    np.testing.assert_allclose(r, w @ mem, rtol=1e-12)
    out = np.zeros((N, W))
    memory.write_forward(mem, w, e, a, out)
    np.testing.assert_allclose(out, mem * (1 - np.outer(w, e)) + np.outer(w, a), rtol=1e-12)


def test_read_write_backward():
    mem, w = rng.normal(size=(N, W)), simplex(N)
    e, a = sigmoid(rng.normal(size=W)), np.tanh(rng.normal(size=W))
    up_m, up_r = rng.normal(size=(N, W)), rng.normal(size=W)
    out, r = np.zeros((N, W)), np.zeros(W)

    def loss():  # read the old memory, then write: the order inside one NTM step
        memory.read_forward(w, mem, r)
        memory.write_forward(mem, w, e, a, out)
        return (up_m * out).sum() + up_r @ r

    d_mem, d_w, d_e, d_a = up_m.copy(), np.zeros(N), np.zeros(W), np.zeros(W)
    memory.write_backward(mem, w, e, a, d_mem, d_w, d_e, d_a)
    memory.read_backward(w, mem, up_r, d_w, d_mem)
    assert_close(d_mem, numeric_grad(loss, mem))
    assert_close(d_w, numeric_grad(loss, w))
    assert_close(d_e, numeric_grad(loss, e))
    assert_close(d_a, numeric_grad(loss, a))
