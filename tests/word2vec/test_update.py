"""One Word2Vec update against a numpy reference written from the equations."""

import numpy as np
import pytest

from kernels.word2vec import backward, forward, update_pair


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_update(W_in, W_out, inputs, target, negatives, alpha, cbow_exact):
    """The notes' equations, plain numpy, float64. Returns (loss, W_in', W_out')."""
    W_in, W_out = W_in.astype(np.float64), W_out.astype(np.float64)
    h = W_in[inputs].mean(axis=0)  # CBOW average; one input = skip-gram's centre row
    if negatives is None:
        u = W_out @ h
        p = np.exp(u - u.max())
        p /= p.sum()
        loss = -np.log(p[target])
        d_u = p.copy()
        d_u[target] -= 1.0
        d_W_out = np.outer(d_u, h)
        d_h = W_out.T @ d_u
    else:
        outputs = [target] + [n for n in negatives if n != target]
        labels = np.array([1.0] + [0.0] * (len(outputs) - 1))
        u = W_out[outputs] @ h
        loss = -np.log(sigmoid(u[0])) - np.log(sigmoid(-u[1:])).sum()
        d_u = sigmoid(u) - labels
        d_W_out = np.zeros_like(W_out)
        for row, g in zip(outputs, d_u, strict=True):
            d_W_out[row] += g * h
        d_h = W_out[outputs].T @ d_u
    new_out = W_out - alpha * d_W_out
    new_in = W_in.copy()
    per_row = d_h / len(inputs) if cbow_exact else d_h
    for i in inputs:
        new_in[i] -= alpha * per_row
    return loss, new_in, new_out


def weights(V=12, D=7, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.5, (V, D)).astype(dtype), rng.normal(0, 0.5, (V, D)).astype(dtype)


CASES = [
    ("skip-gram negative", [3], 5, [1, 8, 2]),
    ("skip-gram softmax", [3], 5, None),
    ("cbow negative", [1, 4, 9, 0], 6, [2, 11, 7, 3]),
    ("cbow softmax", [1, 4, 9, 0], 6, None),
]


@pytest.mark.parametrize("name,inputs,target,negatives", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("cbow_exact", [False, True])
def test_single_update_matches_equations_float64(name, inputs, target, negatives, cbow_exact):
    W_in, W_out = weights()
    want_loss, want_in, want_out = reference_update(
        W_in, W_out, inputs, target, negatives, 0.1, cbow_exact
    )
    loss = update_pair(W_in, W_out, inputs, target, negatives, 0.1, cbow_exact)
    assert loss == pytest.approx(want_loss, rel=1e-12)
    np.testing.assert_allclose(W_in, want_in, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(W_out, want_out, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("name,inputs,target,negatives", CASES, ids=[c[0] for c in CASES])
def test_single_update_float32_close_to_float64(name, inputs, target, negatives):
    W_in, W_out = weights(dtype=np.float32)
    _, want_in, want_out = reference_update(W_in, W_out, inputs, target, negatives, 0.1, False)
    update_pair(W_in, W_out, inputs, target, negatives, 0.1)
    assert W_in.dtype == np.float32
    np.testing.assert_allclose(W_in, want_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(W_out, want_out, rtol=1e-4, atol=1e-5)


def test_negative_equal_to_target_is_skipped():
    W_in, W_out = weights()
    a_in, a_out = W_in.copy(), W_out.copy()
    update_pair(W_in, W_out, [3], 5, [5, 1], 0.1)
    update_pair(a_in, a_out, [3], 5, [1], 0.1)
    np.testing.assert_array_equal(W_in, a_in)
    np.testing.assert_array_equal(W_out, a_out)


def test_sigmoid_table_is_close_to_exact():
    W_in, W_out = weights()
    t_in, t_out = W_in.copy(), W_out.copy()
    exact = update_pair(W_in, W_out, [3], 5, [1, 8, 2], 0.1, exact_sigmoid=True)
    table = update_pair(t_in, t_out, [3], 5, [1, 8, 2], 0.1, exact_sigmoid=False)
    assert table == pytest.approx(exact, abs=0.05)
    # word2vec.c's table: 1000 bins over [-6, 6], so sigma is off by at most ~0.003
    np.testing.assert_allclose(t_in, W_in, atol=0.1 * 0.003 * 4 * 7)
    assert not np.array_equal(t_in, W_in)


@pytest.mark.parametrize("negatives", [[1, 8, 2], None], ids=["negative", "softmax"])
@pytest.mark.parametrize("inputs", [[3], [1, 4, 9]], ids=["skip-gram", "cbow"])
def test_trace_gradients_match_finite_differences(inputs, negatives):
    W_in, W_out = weights()
    target = 6
    grads = backward(forward(W_in, W_out, inputs, target, negatives))
    scored = forward(W_in, W_out, inputs, target, negatives).scored
    eps = 1e-6

    def loss_at(a, b):
        return forward(a, b, inputs, target, negatives).loss

    for r, row in enumerate(scored):
        for d in range(W_out.shape[1]):
            plus, minus = W_out.copy(), W_out.copy()
            plus[row, d] += eps
            minus[row, d] -= eps
            numeric = (loss_at(W_in, plus) - loss_at(W_in, minus)) / (2 * eps)
            assert grads["W_out"][r, d] == pytest.approx(numeric, rel=1e-6, abs=1e-9)
    for r, row in enumerate(inputs):
        for d in range(W_in.shape[1]):
            plus, minus = W_in.copy(), W_in.copy()
            plus[row, d] += eps
            minus[row, d] -= eps
            numeric = (loss_at(plus, W_out) - loss_at(minus, W_out)) / (2 * eps)
            assert grads["W_in"][r, d] == pytest.approx(numeric, rel=1e-6, abs=1e-9)


def test_update_pair_rejects_bad_input():
    W_in, W_out = weights()
    with pytest.raises(ValueError, match="word ids outside 0..11"):
        update_pair(W_in, W_out, [12], 0, [1], 0.1)
    with pytest.raises(ValueError, match="same shape and dtype"):
        update_pair(W_in, W_out.astype(np.float32), [1], 0, [1], 0.1)
