"""Elman RNN kernel: forward vs a per-step numpy reference, backward vs finite differences."""

import numpy as np
import pytest
from gradcheck import numeric_grad, rel_err

from kernels import rnn
from kernels._gemm import step_weights

T, B, I, H = 5, 3, 3, 4


def reference_forward(x, h, p, nonlinearity):
    """Straight from torch.nn.RNN's documented equation, one step at a time."""
    act = np.tanh if nonlinearity == "tanh" else (lambda a: np.maximum(a, 0.0))
    outs = []
    for x_t in x:
        h = act(x_t @ p["weight_ih"].T + p["bias_ih"] + h @ p["weight_hh"].T + p["bias_hh"])
        outs.append(h)
    return np.array(outs)


def make(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(T, B, I))
    h0 = rng.normal(size=(B, H)) * 0.5
    shapes = {"weight_ih": (H, I), "weight_hh": (H, H), "bias_ih": (H,), "bias_hh": (H,)}
    p = {k: (rng.normal(size=s) * 0.6).astype(dtype) for k, s in shapes.items()}
    return x.astype(dtype), h0.astype(dtype), p


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_forward_matches_reference(nonlinearity):
    x, h0, p = make()
    tr = rnn.forward(x, h0, p, nonlinearity)
    out = reference_forward(x, h0, p, nonlinearity)
    np.testing.assert_allclose(tr.out, out, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(tr.h_n, out[-1], rtol=1e-12, atol=1e-12)
    if nonlinearity == "relu":
        assert np.any(tr.out == 0.0) and np.any(tr.out > 0.0)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("with_final", [False, True])
def test_backward_matches_finite_differences(nonlinearity, with_final):
    x, h0, p = make(1)
    rng = np.random.default_rng(7)
    w_out = rng.normal(size=(T, B, H))
    w_hn = rng.normal(size=(B, H)) if with_final else None

    def loss():
        tr = rnn.forward(x, h0, p, nonlinearity)
        total = np.sum(tr.out * w_out)
        if with_final:
            total += np.sum(tr.h_n * w_hn)
        return total

    grads = rnn.backward(rnn.forward(x, h0, p, nonlinearity), w_out, w_hn)
    for name, arr in {"input": x, "h0": h0, **p}.items():
        num = numeric_grad(loss, arr)
        assert grads[name].shape == arr.shape
        assert rel_err(grads[name], num) < 1e-6, name


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_d_h_is_total_gradient_per_step(nonlinearity):
    x, h0, p = make(2)
    w_out = np.random.default_rng(3).normal(size=(T, B, H))
    tr = rnn.forward(x, h0, p, nonlinearity)
    d_h = rnn.backward(tr, w_out)["d_h"]
    for t in range(T):
        h_t = tr.out[t].copy()

        def loss_from(h_t=h_t, t=t):
            total = np.sum(h_t * w_out[t])
            if t + 1 < T:
                total += np.sum(rnn.forward(x[t + 1 :], h_t, p, nonlinearity).out * w_out[t + 1 :])
            return total

        assert rel_err(d_h[t], numeric_grad(loss_from, h_t)) < 1e-6, t
    np.testing.assert_array_equal(d_h[-1], w_out[-1])


def test_float32_close_to_float64():
    x, h0, p = make(4)
    x32, h32, p32 = make(4, np.float32)
    tr64, tr32 = rnn.forward(x, h0, p), rnn.forward(x32, h32, p32)
    assert tr32.out.dtype == np.float32
    np.testing.assert_allclose(tr32.out, tr64.out, atol=1e-5)
    d_out = np.ones((T, B, H))
    g64, g32 = rnn.backward(tr64, d_out), rnn.backward(tr32, d_out.astype(np.float32))
    for k in g64:
        assert g32[k].dtype == np.float32
        np.testing.assert_allclose(g32[k], g64[k], atol=2e-4, rtol=1e-4)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_step_equals_one_forward_step(nonlinearity):
    x, h0, p = make(5)
    tr = rnn.forward(x[:1], h0, p, nonlinearity)
    h1 = rnn.step(x[0], h0, p, nonlinearity)
    np.testing.assert_array_equal(h1, tr.out[0])
    h_out = np.empty((B, H))
    act = 0 if nonlinearity == "tanh" else 1
    rnn.step_arrays(
        x[0],
        h0,
        *step_weights(p["weight_ih"], p["weight_hh"]),
        p["bias_ih"],
        p["bias_hh"],
        act,
        h_out,
    )
    np.testing.assert_array_equal(h_out, h1)


def test_unknown_nonlinearity_names_the_choices():
    x, h0, p = make(6)
    msg = "nonlinearity must be one of 'tanh', 'relu', got 'sigmoid'"
    with pytest.raises(ValueError, match=msg):
        rnn.forward(x, h0, p, "sigmoid")
    with pytest.raises(ValueError, match=msg):
        rnn.step(x[0], h0, p, "sigmoid")


def test_bad_h0_shape_is_named():
    x, h0, p = make(7)
    with pytest.raises(ValueError, match=r"h0 must be \[B, H\] with B=3, got shape \(2, 4\)"):
        rnn.forward(x, h0[:2], p)
