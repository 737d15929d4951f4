"""Optimizer kernels and classes vs hand-computed numpy updates."""

import math

import numpy as np
import pytest

from kernels import optim


def grads_seq(shape, n, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=shape) for _ in range(n)]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_hand_update(momentum):
    p = np.random.default_rng(1).normal(size=(3, 4))
    ref, v_ref = p.copy(), np.zeros_like(p)
    vel = np.zeros_like(p)
    for g in grads_seq(p.shape, 3):
        optim.sgd_update(p, g, vel, 0.1, momentum)
        v_ref = momentum * v_ref + g
        ref = ref - 0.1 * v_ref
    np.testing.assert_allclose(p, ref, rtol=1e-14)


def test_adam_matches_torch_formula():
    p = np.random.default_rng(2).normal(size=(5,))
    ref, m_ref, v_ref = p.copy(), np.zeros(5), np.zeros(5)
    m, v = np.zeros(5), np.zeros(5)
    lr, b1, b2, eps = 0.01, 0.8, 0.99, 1e-6
    for step, g in enumerate(grads_seq(p.shape, 4), start=1):
        optim.adam_update(p, g, m, v, step, lr, b1, b2, eps)
        m_ref = b1 * m_ref + (1 - b1) * g
        v_ref = b2 * v_ref + (1 - b2) * g * g
        denom = np.sqrt(v_ref) / np.sqrt(1 - b2**step) + eps
        ref = ref - lr / (1 - b1**step) * m_ref / denom
    np.testing.assert_allclose(p, ref, rtol=1e-13)
    np.testing.assert_allclose(m, m_ref, rtol=1e-13)


def test_rmsprop_graves_matches_hand_update():
    p = np.random.default_rng(3).normal(size=(2, 2, 2))
    ref = p.copy()
    n_ref, g_ref, d_ref = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    n, g_avg, delta = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
    for grad in grads_seq(p.shape, 3):
        optim.rmsprop_graves_update(p, grad, n, g_avg, delta, 1e-3, 0.95, 0.9, 1e-4)
        n_ref = 0.95 * n_ref + 0.05 * grad**2
        g_ref = 0.95 * g_ref + 0.05 * grad
        d_ref = 0.9 * d_ref - 1e-3 * grad / np.sqrt(n_ref - g_ref**2 + 1e-4)
        ref = ref + d_ref
    np.testing.assert_allclose(p, ref, rtol=1e-13)


def test_clip_global_norm_scales_like_torch():
    a, b = np.full(4, 3.0), np.full((2, 2), 4.0)
    total = optim.clip_global_norm([a, b], 1.0)
    assert total == pytest.approx(10.0)
    coef = 1.0 / (10.0 + 1e-6)
    np.testing.assert_allclose(a, 3.0 * coef)
    np.testing.assert_allclose(b, 4.0 * coef)


def test_clip_global_norm_leaves_small_gradients():
    a = np.array([0.3, 0.4], dtype=np.float32)
    assert optim.clip_global_norm([a], 1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(a, np.array([0.3, 0.4], dtype=np.float32))


def test_clip_elementwise():
    g = np.array([[-20.0, 5.0], [10.5, -0.5]])
    optim.clip_elementwise(g, 10.0)
    np.testing.assert_array_equal(g, [[-10.0, 5.0], [10.0, -0.5]])


def make_params(dtype=np.float64):
    rng = np.random.default_rng(4)
    return {
        "weight_ih_l0": rng.normal(size=(4, 3)).astype(dtype),
        "bias_ih_l0": rng.normal(size=4).astype(dtype),
    }


@pytest.mark.parametrize(
    "cls,kwargs,prefix",
    [
        (optim.SGD, {"lr": 0.1, "momentum": 0.9}, "sgd.velocity."),
        (optim.Adam, {"lr": 0.01}, "adam.m."),
        (optim.RMSPropGraves, {"lr": 1e-3}, "rmsprop_graves.delta."),
    ],
)
def test_state_dict_round_trip_resumes_exactly(cls, kwargs, prefix):
    grads = [
        {k: np.full_like(v, 0.1 * (i + 1)) + v for k, v in make_params().items()} for i in range(4)
    ]
    a_params = make_params()
    a = cls(a_params, **kwargs)
    for g in grads[:2]:
        a.step(g)
    saved = a.state_dict()
    assert prefix + "weight_ih_l0" in saved and int(saved["step"]) == 2
    b_params = {k: v.copy() for k, v in a_params.items()}
    b = cls(b_params, **kwargs)
    b.load_state_dict(saved)
    for g in grads[2:]:
        a.step(g)
        b.step(g)
    for k in a_params:
        np.testing.assert_array_equal(a_params[k], b_params[k])


def test_optimizer_class_matches_kernel_and_keeps_dtype():
    params = make_params(np.float32)
    ref = {k: v.copy() for k, v in params.items()}
    opt = optim.Adam(params, lr=0.01)
    g = {k: np.ones_like(v, dtype=np.float64) for k, v in params.items()}
    opt.step(g)
    for k, v in ref.items():
        optim.adam_update(v, np.ones_like(v), np.zeros_like(v), np.zeros_like(v), 1, 0.01)
        assert params[k].dtype == np.float32
        np.testing.assert_array_equal(params[k], v)


def test_optimizer_rejects_non_contiguous_parameter():
    with pytest.raises(ValueError, match="parameter 'w' must be C-contiguous and writeable"):
        optim.SGD({"w": np.zeros((4, 4))[:, ::2]}, lr=0.1)


def test_load_state_dict_names_missing_key():
    opt = optim.Adam(make_params(), lr=0.01)
    with pytest.raises(KeyError, match="adam.m.weight_ih_l0"):
        opt.load_state_dict({"step": np.array(1)})


def test_clip_global_norm_handles_non_contiguous_views():
    base = np.full((4, 4), 2.0)
    view = base[:, ::2]  # 8 elements of 2.0 -> norm sqrt(32)
    other = np.full(2, 4.0, dtype=np.float32)  # norm sqrt(32)
    total = optim.clip_global_norm([view, other], 4.0)
    assert total == pytest.approx(8.0)
    coef = 4.0 / (8.0 + 1e-6)
    np.testing.assert_allclose(base[:, ::2], 2.0 * coef)
    np.testing.assert_allclose(base[:, 1::2], 2.0)  # the rest of the base array untouched
    np.testing.assert_allclose(other, 4.0 * coef, rtol=1e-6)


@pytest.mark.parametrize(
    "cls,kwargs",
    [
        (optim.SGD, {"lr": 0.1, "momentum": 0.9}),
        (optim.Adam, {"lr": 0.01}),
        (optim.RMSPropGraves, {"lr": 1e-3}),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_flat_vector_s_step_is_one_call_with_the_bits_of_name_by_name(cls, kwargs, dtype):
    """Parameters that are views of one flat vector (the NTM's, the MANN's) step in one kernel
    call when the gradients are views of a flat vector too; the per-array kernels on separate
    arrays must give the same bits, and so must gradients that are not flat-laid-out."""
    rng = np.random.default_rng(7)
    shapes = {"w": (6, 5), "empty": (0,), "b": (6,), "out": (3, 7)}
    sizes = [int(np.prod(s)) for s in shapes.values()]
    flat = rng.normal(size=sum(sizes)).astype(dtype)

    def split(vector):
        out, offset = {}, 0
        for (name, shape), size in zip(shapes.items(), sizes, strict=True):
            out[name] = vector[offset : offset + size].reshape(shape)
            offset += size
        return out

    fused_params = split(flat)
    apart_params = {k: v.copy() for k, v in fused_params.items()}
    mixed_params = {k: v.copy() for k, v in fused_params.items()}
    fused, apart = cls(fused_params, **kwargs), cls(apart_params, **kwargs)
    mixed = cls(split(np.concatenate([v.ravel() for v in mixed_params.values()])), **kwargs)
    assert fused._flat is not None and apart._flat is None
    calls = []
    original = fused._update_arrays
    fused._update_arrays = lambda *a: calls.append(a[0].size) or original(*a)
    for _ in range(3):
        g_flat = rng.normal(size=flat.size).astype(dtype)
        fused.step(split(g_flat))
        apart.step({k: v.copy() for k, v in split(g_flat).items()})
        mixed.step({k: v.copy() for k, v in split(g_flat).items()})  # not flat: name by name
    assert calls == [flat.size] * 3
    for name in shapes:
        np.testing.assert_array_equal(fused_params[name], apart_params[name])
        np.testing.assert_array_equal(mixed.params[name], apart_params[name])
    for key, value in apart.state_dict().items():
        np.testing.assert_array_equal(fused.state_dict()[key], value)


@pytest.mark.parametrize("n", [1, 8, 13, 1003])
def test_clip_norm_squares_and_sums_in_float64(n):
    """The norm's eight partial sums and their tail: float32 gradients squared and summed in
    float64 (a float32 square would be off by ~1e-8 relative, as an older version was)."""
    g = np.random.default_rng(n).normal(size=n).astype(np.float32)
    want = math.sqrt(float(np.sum(g.astype(np.float64) ** 2)))
    assert optim.clip_global_norm([g], 1e9) == pytest.approx(want, rel=1e-14)


def test_adam_on_a_long_flat_vector_in_chunks_gives_the_one_thread_bits():
    """Adam updates a flat vector of >= PARALLEL_MIN_ELEMENTS in chunks on Numba's threads:
    the same elementwise arithmetic, so the same bits as one adam_update call."""
    rng = np.random.default_rng(3)
    n = optim.PARALLEL_MIN_ELEMENTS + 7
    flat = rng.normal(size=n).astype(np.float32)
    params = {"a": flat[:100], "b": flat[100:]}
    opt = optim.Adam(params, lr=1e-2)
    p_ref, m_ref, v_ref = flat.copy(), np.zeros(n, np.float32), np.zeros(n, np.float32)
    for step in (1, 2):
        grad = rng.normal(size=n).astype(np.float32)
        opt.step({"a": grad[:100], "b": grad[100:]})
        optim.adam_update(p_ref, grad, m_ref, v_ref, step, 1e-2)
    np.testing.assert_array_equal(flat, p_ref)
