"""Loss kernels: values vs direct numpy formulas, gradients vs finite differences."""

import numpy as np
import pytest
from gradcheck import numeric_grad, rel_err

from kernels import losses


def test_softmax_cross_entropy_value_and_gradient():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(4, 5)) * 2
    targets = np.array([0, 4, 2, 2])
    loss, d = losses.softmax_cross_entropy(logits, targets)
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    assert loss == pytest.approx(-logp[np.arange(4), targets].mean(), rel=1e-13)
    num = numeric_grad(lambda: losses.softmax_cross_entropy(logits, targets)[0], logits)
    assert rel_err(d, num) < 1e-6


def test_softmax_cross_entropy_is_stable_for_huge_logits():
    loss, d = losses.softmax_cross_entropy(np.array([[1000.0, 0.0, -1000.0]]), [1])
    assert loss == pytest.approx(1000.0)
    np.testing.assert_allclose(d, [[1.0, -1.0, 0.0]], atol=1e-12)


def test_softmax_cross_entropy_rejects_bad_target():
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 2\]"):
        losses.softmax_cross_entropy(np.zeros((2, 3)), [0, 3])


def test_bce_with_logits_value_and_gradient():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(3, 2, 2)) * 3
    targets = (rng.random(size=(3, 2, 2)) > 0.5).astype(float)
    loss, d = losses.sigmoid_bce_with_logits(logits, targets)
    p = 1 / (1 + np.exp(-logits))
    assert loss == pytest.approx(
        -np.mean(targets * np.log(p) + (1 - targets) * np.log(1 - p)), rel=1e-12
    )
    num = numeric_grad(lambda: losses.sigmoid_bce_with_logits(logits, targets)[0], logits)
    assert d.shape == logits.shape and rel_err(d, num) < 1e-6


def test_bce_with_logits_is_stable_for_huge_logits():
    loss, d = losses.sigmoid_bce_with_logits(np.array([800.0, -800.0]), np.array([0.0, 1.0]))
    assert loss == pytest.approx(800.0)
    np.testing.assert_allclose(d, [0.5, -0.5])


def test_bce_float32_keeps_dtype():
    _, d = losses.sigmoid_bce_with_logits(np.zeros(3, dtype=np.float32), np.ones(3))
    assert d.dtype == np.float32
    np.testing.assert_allclose(d, -0.5 / 3, rtol=1e-6)


def test_mse_value_and_gradient():
    rng = np.random.default_rng(2)
    pred, target = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    loss, d = losses.mse(pred, target)
    assert loss == pytest.approx(np.mean((pred - target) ** 2), rel=1e-13)
    assert rel_err(d, numeric_grad(lambda: losses.mse(pred, target)[0], pred)) < 1e-6


def test_mae_value_gradient_and_zero_subgradient():
    rng = np.random.default_rng(3)
    pred, target = rng.normal(size=(6,)), rng.normal(size=(6,))
    loss, d = losses.mae(pred, target)
    assert loss == pytest.approx(np.mean(np.abs(pred - target)), rel=1e-13)
    assert rel_err(d, numeric_grad(lambda: losses.mae(pred, target)[0], pred)) < 1e-6
    _, d0 = losses.mae(np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    np.testing.assert_array_equal(d0, [0.0, 0.5])


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match=r"target shape \(3,\) != pred shape \(2,\)"):
        losses.mse(np.zeros(2), np.zeros(3))
