"""kernels/attention.py: forward from the equations, backward against finite differences."""

import numpy as np
import pytest

from kernels import attention


def numpy_forward(query, kp, values, w_q, v):
    q = query @ w_q.T  # [B, A]
    th = np.tanh(q[None] + kp)  # [S, B, A]
    e = (th @ v).T  # [B, S]
    alpha = np.exp(e - e.max(axis=1, keepdims=True))
    alpha /= alpha.sum(axis=1, keepdims=True)
    ctx = np.einsum("bs,sbh->bh", alpha, values)
    return alpha, ctx


def inputs(dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    S, B, Hq, Hv, A = 4, 3, 5, 2, 6
    return {
        "query": rng.normal(size=(B, Hq)).astype(dtype),
        "kp": rng.normal(size=(S, B, A)).astype(dtype),
        "values": rng.normal(size=(S, B, Hv)).astype(dtype),
        "w_q": rng.normal(size=(A, Hq)).astype(dtype) * 0.5,
        "v": rng.normal(size=(A,)).astype(dtype),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_the_equations(dtype):
    args = inputs(dtype)
    trace = attention.forward(**args)
    alpha, ctx = numpy_forward(*(a.astype(np.float64) for a in args.values()))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(trace.alpha, alpha, rtol=tol, atol=tol)
    np.testing.assert_allclose(trace.ctx, ctx, rtol=tol, atol=tol)
    assert trace.ctx.dtype == dtype
    np.testing.assert_allclose(trace.alpha.sum(axis=1), 1.0, rtol=tol)


def test_backward_matches_finite_differences():
    args = inputs()
    rng = np.random.default_rng(1)
    trace = attention.forward(**args)
    w_ctx = rng.normal(size=trace.ctx.shape)
    w_alpha = rng.normal(size=trace.alpha.shape)

    def loss(**a):
        t = attention.forward(**a)
        return float((t.ctx * w_ctx).sum() + (t.alpha * w_alpha).sum())

    grads = attention.backward(trace, w_ctx, w_alpha)
    eps = 1e-6
    for name, value in args.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            plus, minus = (
                {k: v.copy() for k, v in args.items()},
                {k: v.copy() for k, v in args.items()},
            )
            plus[name][index] += eps
            minus[name][index] -= eps
            numeric[index] = (loss(**plus) - loss(**minus)) / (2 * eps)
        err = np.abs(grads[name] - numeric).max() / max(np.abs(numeric).max(), 1e-12)
        assert err < 1e-6, (name, err)


def test_project_keys_is_one_matrix_product():
    rng = np.random.default_rng(2)
    enc, w_k = rng.normal(size=(4, 3, 2)), rng.normal(size=(5, 2))
    np.testing.assert_allclose(attention.project_keys(enc, w_k), np.einsum("sbh,ah->sba", enc, w_k))


def test_bad_shapes_are_named():
    args = inputs()
    args["v"] = np.zeros(3)
    with pytest.raises(ValueError, match=r"need query \[B, Hq\], kp \[S, B, A\]"):
        attention.forward(**args)
