"""The whole NTM: forward vs the numpy reference, gradients vs finite differences (float64),
batching, lengths and float32."""

import numpy as np
import pytest

from kernels.ntm import NTMShape, backward, forward, init_params
from ntm.reference import run_episode

SHAPES = {
    "one-each": NTMShape(inputs=3, outputs=2, hidden=4, slots=5, width=3),
    "two-each-s2": NTMShape(
        inputs=3, outputs=2, hidden=3, slots=6, width=2, read_heads=2, write_heads=2, shift_range=2
    ),
    "feedforward": NTMShape(
        inputs=3, outputs=2, hidden=4, slots=5, width=3, write_heads=2, controller="feedforward"
    ),
    "lstm-only": NTMShape(
        inputs=3, outputs=2, hidden=4, slots=4, width=2, read_heads=0, write_heads=0
    ),
}


def make(shape, T=5, B=2, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    flat = init_params(shape, rng, dtype)
    flat += rng.normal(0, 0.3, flat.shape).astype(dtype)  # move away from the init's symmetries
    x = rng.integers(0, 2, (T, B, shape.inputs)).astype(dtype)
    y = rng.integers(0, 2, (T, B, shape.outputs)).astype(dtype)
    mask = (rng.random((T, B)) < 0.7).astype(dtype)
    return flat, x, y, mask


@pytest.mark.parametrize("name", list(SHAPES))
def test_forward_matches_reference(name):
    shape = SHAPES[name]
    flat, x, y, mask = make(shape, T=6, B=3)
    lengths = np.array([6, 4, 1])
    tr = forward(shape, flat, x, lengths)
    for b in range(3):
        n = lengths[b]
        ref = run_episode(shape, flat, x[:n, b])
        np.testing.assert_allclose(tr.logits[b, :n], ref["logits"], rtol=1e-10, atol=1e-12)
        if shape.heads:
            np.testing.assert_allclose(tr.addr[b, :n, :, 4], ref["weightings"], atol=1e-12)
            np.testing.assert_allclose(tr.memory_at(b, n - 1), ref["memories"][n], atol=1e-12)
        if shape.read_heads:
            np.testing.assert_allclose(tr.reads[b, 1 : n + 1], ref["reads"], atol=1e-12)


def test_loss_matches_reference():
    shape = SHAPES["one-each"]
    flat, x, y, mask = make(shape)
    losses, _ = backward(forward(shape, flat, x), y, mask)
    for b in range(2):
        ref = run_episode(shape, flat, x[:, b], y[:, b], mask[:, b])
        assert losses[b] == pytest.approx(ref["loss"], rel=1e-12)


@pytest.mark.parametrize("name", list(SHAPES))
def test_gradients_match_finite_differences(name):
    shape = SHAPES[name]
    flat, x, y, mask = make(shape, T=5, B=2, seed=1)
    lengths = np.array([5, 3])
    _, grads = backward(forward(shape, flat, x, lengths), y, mask, scale=0.5)

    def loss(v):
        return 0.5 * backward(forward(shape, v, x, lengths), y, mask)[0].sum()

    eps = 1e-6
    numeric = np.empty_like(flat)
    for i in range(flat.size):
        up, down = flat.copy(), flat.copy()
        up[i] += eps
        down[i] -= eps
        numeric[i] = (loss(up) - loss(down)) / (2 * eps)
    err = np.abs(grads["flat"] - numeric) / np.maximum(
        1e-3, np.abs(numeric) + np.abs(grads["flat"])
    )
    assert err.max() < 1e-6, f"worst relative error {err.max():.2e} at {err.argmax()}"


def test_named_grads_are_views_of_flat():
    shape = SHAPES["one-each"]
    flat, x, y, mask = make(shape)
    _, grads = backward(forward(shape, flat, x), y, mask)
    assert np.shares_memory(grads["controller.weight_ih"], grads["flat"])
    assert grads["heads.weight"].shape == (shape.head_rows, shape.hidden)


def test_batch_gradient_is_sum_of_single_episodes():
    shape = SHAPES["two-each-s2"]
    flat, x, y, mask = make(shape, T=4, B=3, seed=2)
    _, together = backward(forward(shape, flat, x), y, mask)
    alone = sum(
        backward(forward(shape, flat, x[:, b : b + 1]), y[:, b : b + 1], mask[:, b : b + 1])[1][
            "flat"
        ]
        for b in range(3)
    )
    np.testing.assert_allclose(together["flat"], alone, rtol=1e-12, atol=1e-14)


def test_float32_close_to_float64():
    shape = SHAPES["one-each"]
    flat, x, y, mask = make(shape)
    l64, g64 = backward(forward(shape, flat, x), y, mask)
    tr32 = forward(shape, flat.astype(np.float32), x.astype(np.float32))
    l32, g32 = backward(tr32, y, mask)
    assert tr32.logits.dtype == np.float32 and g32["flat"].dtype == np.float32
    np.testing.assert_allclose(l32, l64, rtol=1e-4)
    np.testing.assert_allclose(g32["flat"], g64["flat"], rtol=1e-3, atol=1e-4)


def test_bad_shapes_are_named():
    shape = SHAPES["one-each"]
    flat, x, y, mask = make(shape)
    with pytest.raises(ValueError, match=r"x must be \[T, B, 3\], got shape \(5, 2\)"):
        forward(shape, flat, x[:, :, 0])
    with pytest.raises(ValueError, match=r"lengths must be \[B=2\] integers in 1..5"):
        forward(shape, flat, x, [6, 1])
    with pytest.raises(ValueError, match=r"mask must be \[T, B\]"):
        backward(forward(shape, flat, x), y, mask[:, :1])
    with pytest.raises(ValueError, match=r"controller must be one of \('lstm', 'feedforward'\)"):
        NTMShape(3, 2, controller="gru")
    with pytest.raises(ValueError, match=r"init scheme must be one of \('ntm', 'pytorch'\)"):
        init_params(shape, np.random.default_rng(0), scheme="xavier")


def test_controller_step_matches_kernels_lstm():
    from kernels import lstm
    from kernels.ntm.controller import lstm_step_forward

    rng = np.random.default_rng(5)
    I, H = 5, 4
    params = {
        "weight_ih": rng.normal(size=(4 * H, I)),
        "weight_hh": rng.normal(size=(4 * H, H)),
        "bias_ih": rng.normal(size=4 * H),
        "bias_hh": rng.normal(size=4 * H),
    }
    u, h, c = rng.normal(size=I), rng.normal(size=H), rng.normal(size=H)
    h_ref, c_ref, gates_ref = lstm.step(u[None], h[None], c[None], params)
    gates, h_new, c_new = np.zeros(4 * H), np.zeros(H), np.zeros(H)
    lstm_step_forward(
        u,
        h,
        c,
        params["weight_ih"].T.copy(),
        params["weight_hh"].T.copy(),
        params["bias_ih"] + params["bias_hh"],
        gates,
        h_new,
        c_new,
    )
    np.testing.assert_allclose(h_new, h_ref[0], rtol=1e-12)
    np.testing.assert_allclose(c_new, c_ref[0], rtol=1e-12)
    np.testing.assert_allclose(gates, gates_ref[0], rtol=1e-12)
