"""The MANN kernels: forward vs the numpy reference, gradients vs finite differences (float64),
batching, float32, the least-used selection and the shapes refused."""

import numpy as np
import pytest

from kernels.mann import MANNShape, backward, forward, init_params
from kernels.mann.lru import select_least_used
from mann.reference import run_episode

SHAPES = {
    "two-heads": MANNShape(inputs=5, classes=3, hidden=4, slots=6, width=3, heads=2),
    "paper-read": MANNShape(5, 3, hidden=3, slots=5, width=2, heads=2, key_strength=False),
    "one-head": MANNShape(5, 3, hidden=4, slots=4, width=3, heads=1),
    "lstm-only": MANNShape(5, 3, hidden=4, slots=4, width=3, heads=0),
}


def make(shape, T=6, B=2, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    flat = init_params(shape, rng, dtype)
    flat += rng.normal(0, 0.3, flat.shape).astype(dtype)  # off the init's zero biases
    x = rng.random((T, B, shape.inputs)).astype(dtype)
    labels = rng.integers(0, shape.classes, (T, B))
    mask = (rng.random((T, B)) < 0.8).astype(dtype)
    return flat, x, labels, mask


@pytest.mark.parametrize("name", list(SHAPES))
def test_forward_matches_reference(name):
    shape = SHAPES[name]
    flat, x, labels, _ = make(shape, T=7, B=3)
    tr = forward(shape, flat, x, gamma=0.9)
    for b in range(3):
        ref = run_episode(shape, flat, x[:, b], gamma=0.9)
        np.testing.assert_allclose(tr.logits[b], ref["logits"], rtol=1e-10, atol=1e-12)
        if shape.heads:
            np.testing.assert_array_equal(tr.least_used[b], ref["least_used"])
            np.testing.assert_allclose(tr.w_write[b], ref["w_write"], atol=1e-12)
            np.testing.assert_allclose(tr.w_read[b, 1:], ref["w_read"], atol=1e-12)
            np.testing.assert_allclose(tr.mems[b], ref["memories"], atol=1e-12)
            np.testing.assert_allclose(tr.usage[b], ref["usage"], atol=1e-12)
            np.testing.assert_allclose(tr.reads[b, 1:], ref["reads"], atol=1e-12)


def test_the_least_used_slot_is_zeroed_then_written():
    """After step t the least-used slot of u_{t-1} holds exactly what the heads wrote there
    (its old content is gone), and a slot nobody read keeps no trace of the write gate."""
    shape = SHAPES["two-heads"]
    flat, x, _, _ = make(shape, T=5, B=1)
    tr = forward(shape, flat, x)
    M, block = shape.width, shape.block
    for t in range(5):
        slot = tr.least_used[0, t, 0]
        adds = tr.act[0, t].reshape(shape.heads, block)[:, M : 2 * M]
        written = tr.w_write[0, t, :, slot] @ adds
        np.testing.assert_allclose(tr.mems[0, t + 1, slot], written, atol=1e-12)


def test_loss_matches_reference():
    shape = SHAPES["two-heads"]
    flat, x, labels, _ = make(shape)
    losses, _ = backward(forward(shape, flat, x), labels)
    for b in range(2):
        ref = run_episode(shape, flat, x[:, b], labels[:, b])
        assert losses[b] == pytest.approx(ref["loss"], rel=1e-12)


@pytest.mark.parametrize("name", list(SHAPES))
def test_gradients_match_finite_differences(name):
    """Every parameter, central differences in float64. The least-used slots are an argmin
    of the usage: a perturbation of 1e-6 does not move them (checked), so the loss is
    differentiable along each direction and the analytic gradient, which holds them
    constant, must match."""
    shape = SHAPES[name]
    flat, x, labels, mask = make(shape, T=6, B=2, seed=1)
    trace = forward(shape, flat, x)
    _, grads = backward(trace, labels, mask, scale=0.5)

    def loss(v):
        tr = forward(shape, v, x)
        np.testing.assert_array_equal(tr.least_used, trace.least_used)
        return 0.5 * backward(tr, labels, mask)[0].sum()

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
    assert np.abs(numeric).max() > 1e-3  # the check compared something


def test_batch_gradient_is_sum_of_single_episodes():
    shape = SHAPES["two-heads"]
    flat, x, labels, mask = make(shape, T=4, B=3, seed=2)
    _, together = backward(forward(shape, flat, x), labels, mask)
    alone = sum(
        backward(forward(shape, flat, x[:, b : b + 1]), labels[:, b : b + 1], mask[:, b : b + 1])[
            1
        ]["flat"]
        for b in range(3)
    )
    np.testing.assert_allclose(together["flat"], alone, rtol=1e-12, atol=1e-14)


# wide enough for whole register tiles (4 rows x 64 gate columns) and their remainders
TILED = MANNShape(inputs=7, classes=3, hidden=20, slots=6, width=5, heads=2)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_episode_gets_the_same_bits_in_any_batch(dtype):
    """The batch runs its controller products for all episodes at once (register tiles over
    rows of episodes, remainder rows apart); each episode's numbers must still be its own:
    every trace array and loss bit-equal to the episode run alone, and the gradient of the
    batch with only episode b unmasked bit-equal to episode b's alone (the weight gradients
    sum over (step, episode) in order, so the masked episodes add exact zeros)."""
    B = 9
    flat, x, labels, mask = make(TILED, T=5, B=B, seed=4, dtype=dtype)
    tr = forward(TILED, flat, x, threaded=False)
    for b in range(B):
        alone = forward(TILED, flat, x[:, b : b + 1], threaded=False)
        for name in ("hs", "cs", "gates", "act", "least_used", "w_write", "sim", "w_read",
                     "usage", "mems", "reads", "logits"):  # fmt: skip
            np.testing.assert_array_equal(getattr(tr, name)[b], getattr(alone, name)[0], name)
        only_b = np.zeros_like(mask)
        only_b[:, b] = mask[:, b]
        losses, grads = backward(tr, labels, only_b, 0.5, threaded=False)
        loss, grad = backward(alone, labels[:, b : b + 1], mask[:, b : b + 1], 0.5, False)
        assert losses[b] == loss[0]
        np.testing.assert_array_equal(grads["flat"], grad["flat"])
        assert np.abs(grad["flat"]).max() > 0


def test_threads_do_not_change_the_result():
    """B = 9 runs in two chunks of episodes when Numba has two threads (the CI machine and
    this one); either way the bits must not change."""
    flat, x, labels, mask = make(TILED, T=5, B=9, seed=3, dtype=np.float32)
    runs = [
        backward(forward(TILED, flat, x, threaded=t), labels, mask, threaded=t)
        for t in (False, True)
    ]
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][1]["flat"], runs[1][1]["flat"])


def test_float32_close_to_float64():
    shape = SHAPES["two-heads"]
    flat, x, labels, mask = make(shape)
    l64, g64 = backward(forward(shape, flat, x), labels, mask)
    tr32 = forward(shape, flat.astype(np.float32), x.astype(np.float32))
    l32, g32 = backward(tr32, labels, mask)
    assert tr32.logits.dtype == np.float32 and g32["flat"].dtype == np.float32
    np.testing.assert_allclose(l32, l64, rtol=1e-5)
    np.testing.assert_allclose(g32["flat"], g64["flat"], rtol=1e-3, atol=1e-4)


def test_least_used_takes_the_smallest_and_the_lower_slot_on_ties():
    out = np.empty(3, np.int64)
    select_least_used(np.array([0.5, 0.1, 0.3, 0.1, 0.0]), out)
    assert out.tolist() == [4, 1, 3]
    select_least_used(np.zeros(6), out)
    assert out.tolist() == [0, 1, 2]


def test_named_grads_are_views_of_flat():
    shape = SHAPES["two-heads"]
    flat, x, labels, mask = make(shape)
    _, grads = backward(forward(shape, flat, x), labels, mask)
    assert np.shares_memory(grads["heads.weight"], grads["flat"])
    assert grads["heads.weight"].shape == (shape.head_rows, shape.hidden)


def test_bad_inputs_are_named():
    shape = SHAPES["two-heads"]
    flat, x, labels, mask = make(shape)
    with pytest.raises(ValueError, match=r"x must be \[T, B, 5\], got shape \(6, 2\)"):
        forward(shape, flat, x[:, :, 0])
    with pytest.raises(ValueError, match=r"labels must be integers \[T, B\]"):
        backward(forward(shape, flat, x), labels[:, :1])
    with pytest.raises(ValueError, match=r"labels must be in 0..2"):
        backward(forward(shape, flat, x), labels + 3)
    with pytest.raises(ValueError, match="3 heads need as many least-used slots"):
        MANNShape(5, 3, slots=2, heads=3)
