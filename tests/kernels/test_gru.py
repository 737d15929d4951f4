"""GRU kernel: forward vs a per-step numpy reference, backward vs finite differences."""

import numpy as np
import pytest
from gradcheck import numeric_grad, rel_err

from kernels import gru
from kernels._gemm import step_weights

T, B, I, H = 4, 3, 3, 4


def sig(a):
    return 1.0 / (1.0 + np.exp(-a))


def reference_forward(x, h, p):
    """Straight from torch.nn.GRU's documented equations, one step at a time."""
    w_ir, w_iz, w_in = np.split(p["weight_ih"], 3)
    w_hr, w_hz, w_hn = np.split(p["weight_hh"], 3)
    b_ir, b_iz, b_in = np.split(p["bias_ih"], 3)
    b_hr, b_hz, b_hn = np.split(p["bias_hh"], 3)
    outs, gates = [], []
    for x_t in x:
        r = sig(x_t @ w_ir.T + b_ir + h @ w_hr.T + b_hr)
        z = sig(x_t @ w_iz.T + b_iz + h @ w_hz.T + b_hz)
        n = np.tanh(x_t @ w_in.T + b_in + r * (h @ w_hn.T + b_hn))
        h = (1 - z) * n + z * h
        outs.append(h)
        gates.append(np.concatenate([r, z, n], axis=1))
    return np.array(outs), np.array(gates)


def make(seed=0, dtype=np.float64, t=T):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(t, B, I))
    h0 = rng.normal(size=(B, H)) * 0.5
    shapes = {
        "weight_ih": (3 * H, I),
        "weight_hh": (3 * H, H),
        "bias_ih": (3 * H,),
        "bias_hh": (3 * H,),
    }
    p = {k: (rng.normal(size=s) * 0.6).astype(dtype) for k, s in shapes.items()}
    return x.astype(dtype), h0.astype(dtype), p


def test_forward_matches_reference():
    x, h0, p = make()
    tr = gru.forward(x, h0, p)
    out, gates = reference_forward(x, h0, p)
    np.testing.assert_allclose(tr.out, out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.gates, gates, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.h_n, out[-1], rtol=1e-12, atol=1e-12)
    h_prev = np.concatenate([h0[None], out[:-1]])
    w_hn = p["weight_hh"][2 * H :]
    np.testing.assert_allclose(tr.hn, h_prev @ w_hn.T + p["bias_hh"][2 * H :], rtol=1e-12)


@pytest.mark.parametrize("with_final", [False, True])
def test_backward_matches_finite_differences(with_final):
    x, h0, p = make(1)
    rng = np.random.default_rng(7)
    w_out = rng.normal(size=(T, B, H))
    w_hn = rng.normal(size=(B, H)) if with_final else None

    def loss():
        tr = gru.forward(x, h0, p)
        total = np.sum(tr.out * w_out)
        if with_final:
            total += np.sum(tr.h_n * w_hn)
        return total

    grads = gru.backward(gru.forward(x, h0, p), w_out, w_hn)
    for name, arr in {"input": x, "h0": h0, **p}.items():
        num = numeric_grad(loss, arr)
        assert grads[name].shape == arr.shape
        assert rel_err(grads[name], num) < 1e-6, name


def test_d_h_is_total_gradient_per_step():
    """d_h[t] equals dL/dh_t found by perturbing h_t and re-running the rest of the sequence."""
    x, h0, p = make(2)
    w_out = np.random.default_rng(3).normal(size=(T, B, H))
    tr = gru.forward(x, h0, p)
    d_h = gru.backward(tr, w_out)["d_h"]
    for t in range(T):
        h_t = tr.out[t].copy()

        def loss_from(h_t=h_t, t=t):
            total = np.sum(h_t * w_out[t])
            if t + 1 < T:
                total += np.sum(gru.forward(x[t + 1 :], h_t, p).out * w_out[t + 1 :])
            return total

        assert rel_err(d_h[t], numeric_grad(loss_from, h_t)) < 1e-6, t


def test_none_upstream_means_zeros():
    x, h0, p = make(3)
    tr = gru.forward(x, h0, p)
    g = gru.backward(tr, None, np.ones((B, H)))
    g2 = gru.backward(tr, np.zeros((T, B, H)), np.ones((B, H)))
    for k in g:
        np.testing.assert_array_equal(g[k], g2[k])
    assert np.any(g["weight_hh"] != 0)


def test_float32_close_to_float64():
    x, h0, p = make(4)
    x32, h32, p32 = make(4, np.float32)
    tr64, tr32 = gru.forward(x, h0, p), gru.forward(x32, h32, p32)
    assert tr32.out.dtype == np.float32
    np.testing.assert_allclose(tr32.out, tr64.out, atol=1e-5)
    d_out = np.ones((T, B, H))
    g64, g32 = gru.backward(tr64, d_out), gru.backward(tr32, d_out.astype(np.float32))
    for k in g64:
        assert g32[k].dtype == np.float32
        np.testing.assert_allclose(g32[k], g64[k], atol=2e-4, rtol=1e-4)


def test_step_equals_one_forward_step():
    x, h0, p = make(5)
    tr = gru.forward(x[:1], h0, p)
    h1, gates = gru.step(x[0], h0, p)
    np.testing.assert_array_equal(h1, tr.out[0])
    np.testing.assert_array_equal(gates, tr.gates[0])
    h_out, g_out = np.empty((B, H)), np.empty((B, 3 * H))
    gru.step_arrays(
        x[0],
        h0,
        *step_weights(p["weight_ih"], p["weight_hh"]),
        p["bias_ih"],
        p["bias_hh"],
        h_out,
        g_out,
    )
    np.testing.assert_array_equal(h_out, h1)
    np.testing.assert_array_equal(g_out, gates)


def test_missing_param_is_named():
    x, h0, p = make(6)
    del p["bias_hh"]
    with pytest.raises(KeyError, match="params is missing bias_hh"):
        gru.forward(x, h0, p)
