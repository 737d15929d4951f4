"""LSTM kernel: forward vs a per-step numpy reference, backward vs finite differences."""

import numpy as np
import pytest
from gradcheck import numeric_grad, rel_err

from kernels import lstm
from kernels._gemm import step_weights

T, B, I, H = 4, 3, 3, 4


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def reference_forward(x, h, c, p):
    """Straight from torch.nn.LSTM's documented equations, one step at a time."""
    outs, cells, gates = [], [], []
    for x_t in x:
        a = x_t @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"]
        i, f, g, o = np.split(a, 4, axis=1)
        i, f, g, o = sig(i), sig(f), np.tanh(g), sig(o)
        c = f * c + i * g
        h = o * np.tanh(c)
        outs.append(h)
        cells.append(c)
        gates.append(np.concatenate([i, f, g, o], axis=1))
    return np.array(outs), np.array(cells), np.array(gates)


def make(seed=0, dtype=np.float64, t=T):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(t, B, I))
    h0 = rng.normal(size=(B, H)) * 0.5
    c0 = rng.normal(size=(B, H)) * 0.5
    shapes = {
        "weight_ih": (4 * H, I),
        "weight_hh": (4 * H, H),
        "bias_ih": (4 * H,),
        "bias_hh": (4 * H,),
    }
    p = {k: rng.normal(size=s) * 0.6 for k, s in shapes.items()}
    cast = {k: v.astype(dtype) for k, v in p.items()}
    return x.astype(dtype), h0.astype(dtype), c0.astype(dtype), cast


def test_forward_matches_reference():
    x, h0, c0, p = make()
    tr = lstm.forward(x, h0, c0, p)
    out, cells, gates = reference_forward(x, h0, c0, p)
    np.testing.assert_allclose(tr.out, out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.c, cells, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.gates, gates, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.h_n, out[-1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.c_n, cells[-1], rtol=1e-12, atol=1e-12)
    assert tr.out.shape == (T, B, H) and tr.gates.shape == (T, B, 4 * H)


@pytest.mark.parametrize("with_final", [False, True])
def test_backward_matches_finite_differences(with_final):
    x, h0, c0, p = make(1)
    rng = np.random.default_rng(7)
    w_out = rng.normal(size=(T, B, H))
    w_hn = rng.normal(size=(B, H)) if with_final else None
    w_cn = rng.normal(size=(B, H)) if with_final else None

    def loss():
        tr = lstm.forward(x, h0, c0, p)
        total = np.sum(tr.out * w_out)
        if with_final:
            total += np.sum(tr.h_n * w_hn) + np.sum(tr.c_n * w_cn)
        return total

    grads = lstm.backward(lstm.forward(x, h0, c0, p), w_out, w_hn, w_cn)
    checks = {"input": x, "h0": h0, "c0": c0, **p}
    for name, arr in checks.items():
        num = numeric_grad(loss, arr)
        assert grads[name].shape == arr.shape
        assert rel_err(grads[name], num) < 1e-6, name


def test_d_h_is_total_gradient_per_step():
    """d_h[t] equals dL/dh_t found by perturbing h_t and re-running the rest of the sequence."""
    x, h0, c0, p = make(2)
    w_out = np.random.default_rng(3).normal(size=(T, B, H))
    tr = lstm.forward(x, h0, c0, p)
    d_h = lstm.backward(tr, w_out)["d_h"]
    for t in range(T):
        h_t = tr.out[t].copy()
        c_t = tr.c[t]

        def loss_from(h_t=h_t, c_t=c_t, t=t):
            total = np.sum(h_t * w_out[t])
            if t + 1 < T:
                rest = lstm.forward(x[t + 1 :], h_t, c_t, p)
                total += np.sum(rest.out * w_out[t + 1 :])
            return total

        assert rel_err(d_h[t], numeric_grad(loss_from, h_t)) < 1e-6, t


def test_none_upstream_means_zeros():
    x, h0, c0, p = make(3)
    tr = lstm.forward(x, h0, c0, p)
    g = lstm.backward(tr, None, d_c_n=np.ones((B, H)))
    g2 = lstm.backward(tr, np.zeros((T, B, H)), np.zeros((B, H)), np.ones((B, H)))
    for k in g:
        np.testing.assert_array_equal(g[k], g2[k])
    assert np.any(g["weight_hh"] != 0)


def test_float32_close_to_float64():
    x, h0, c0, p = make(4)
    x32, h32, c32, p32 = make(4, np.float32)
    tr64, tr32 = lstm.forward(x, h0, c0, p), lstm.forward(x32, h32, c32, p32)
    assert tr32.out.dtype == np.float32 and tr32.gates.dtype == np.float32
    np.testing.assert_allclose(tr32.out, tr64.out, atol=1e-5)
    d_out = np.ones((T, B, H))
    g64, g32 = lstm.backward(tr64, d_out), lstm.backward(tr32, d_out.astype(np.float32))
    for k in g64:
        assert g32[k].dtype == np.float32
        np.testing.assert_allclose(g32[k], g64[k], atol=2e-4, rtol=1e-4)


def test_step_equals_one_forward_step():
    x, h0, c0, p = make(5)
    tr = lstm.forward(x[:1], h0, c0, p)
    h1, c1, gates = lstm.step(x[0], h0, c0, p)
    np.testing.assert_array_equal(h1, tr.out[0])
    np.testing.assert_array_equal(c1, tr.c[0])
    np.testing.assert_array_equal(gates, tr.gates[0])


def test_step_arrays_writes_in_place():
    x, h0, c0, p = make(6)
    h1, c1, g1 = np.empty((B, H)), np.empty((B, H)), np.empty((B, 4 * H))
    lstm.step_arrays(
        x[0],
        h0,
        c0,
        *step_weights(p["weight_ih"], p["weight_hh"]),
        p["bias_ih"],
        p["bias_hh"],
        h1,
        c1,
        g1,
    )
    h_ref, c_ref, g_ref = lstm.step(x[0], h0, c0, p)
    np.testing.assert_array_equal(h1, h_ref)
    np.testing.assert_array_equal(c1, c_ref)
    np.testing.assert_array_equal(g1, g_ref)


def test_bad_shapes_are_named():
    x, h0, c0, p = make(7)
    with pytest.raises(ValueError, match=r"params\['weight_hh'\] has shape \(16, 3\)"):
        lstm.forward(x, h0, c0, {**p, "weight_hh": np.zeros((16, 3))})
    with pytest.raises(ValueError, match="c0 must have the shape of h0"):
        lstm.forward(x, h0, c0[:, :2], p)


def test_large_batch_path_equals_per_sample_runs():
    """B=20, H=64: 4-row tiles and parallel chunks of batch rows; rows are independent, so
    the batched result must equal 20 single-row runs (weights: their sum)."""
    rng = np.random.default_rng(8)
    t, b, i, h = 3, 20, 8, 64
    x = rng.normal(size=(t, b, i))
    h0 = rng.normal(size=(b, h)) * 0.5
    c0 = rng.normal(size=(b, h)) * 0.5
    p = {
        "weight_ih": rng.normal(size=(4 * h, i)) * 0.3,
        "weight_hh": rng.normal(size=(4 * h, h)) * 0.2,
        "bias_ih": rng.normal(size=4 * h) * 0.3,
        "bias_hh": rng.normal(size=4 * h) * 0.3,
    }
    d_out = rng.normal(size=(t, b, h))
    tr = lstm.forward(x, h0, c0, p)
    out, cells, _ = reference_forward(x, h0, c0, p)
    np.testing.assert_allclose(tr.out, out, rtol=1e-11, atol=1e-12)
    g = lstm.backward(tr, d_out)
    w_sum = {k: np.zeros_like(v) for k, v in p.items()}
    for row in range(b):
        s = slice(row, row + 1)
        g1 = lstm.backward(lstm.forward(x[:, s], h0[s], c0[s], p), d_out[:, s])
        np.testing.assert_allclose(g["input"][:, s], g1["input"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g["h0"][s], g1["h0"], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g["c0"][s], g1["c0"], rtol=1e-10, atol=1e-12)
        for k in w_sum:
            w_sum[k] += g1[k]
    for k in w_sum:
        np.testing.assert_allclose(g[k], w_sum[k], rtol=1e-10, atol=1e-11)
