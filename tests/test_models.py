"""Recurrent/Linear models: exact gradients (float64 finite differences) for every
configuration, torch's state-dict names, and bidirectional/stacked composition."""

import numpy as np
import pytest
from gradcheck import numeric_grad

from tui_lab.models import Linear, Recurrent

CONFIGS = [
    (cell, layers, bidirectional, nonlinearity)
    for cell in ("rnn", "lstm", "gru")
    for layers, bidirectional in ((1, False), (2, False), (1, True), (2, True))
    for nonlinearity in (("tanh", "relu") if cell == "rnn" else ("tanh",))
]


def _objective(model, x, state, out_weight, state_weight):
    out, state_n = model.forward(x, state)
    h_n = state_n[0] if model.cell == "lstm" else state_n
    value = np.sum(out * out_weight) + np.sum(h_n * state_weight)
    if model.cell == "lstm":
        value += np.sum(state_n[1] * 0.5 * state_weight)
    return value


@pytest.mark.parametrize("cell,layers,bidirectional,nonlinearity", CONFIGS)
def test_gradients_match_finite_differences(cell, layers, bidirectional, nonlinearity):
    rng = np.random.default_rng(1)
    T, B, I, H = 3, 2, 3, 2
    model = Recurrent(cell, I, H, layers, bidirectional, nonlinearity, np.float64, rng)
    D = 2 if bidirectional else 1
    x = rng.normal(size=(T, B, I))
    h0 = rng.normal(size=(layers * D, B, H)) * 0.5
    state = (h0, rng.normal(size=h0.shape) * 0.5) if cell == "lstm" else h0
    out_weight = rng.normal(size=(T, B, D * H))
    state_weight = rng.normal(size=(layers * D, B, H))

    model.forward(x, state)
    d_state = (state_weight, 0.5 * state_weight) if cell == "lstm" else state_weight
    grads = model.backward(out_weight, d_state)

    def objective():
        return _objective(model, x, state, out_weight, state_weight)

    checks = dict(model.parameters())
    checks["input"] = x
    checks["h0"] = h0
    if cell == "lstm":
        checks["c0"] = state[1]
    for name, array in checks.items():
        expected = numeric_grad(objective, array)
        error = np.abs(grads[name] - expected).max() / max(np.abs(expected).max(), 1e-8)
        assert error < 1e-6, f"{name}: relative error {error:.2e}"


def test_state_dict_uses_torch_names_and_shapes():
    model = Recurrent("lstm", 5, 4, num_layers=2, bidirectional=True, dtype=np.float64)
    shapes = {name: value.shape for name, value in model.state_dict().items()}
    assert shapes["weight_ih_l0"] == (16, 5)
    assert shapes["weight_ih_l1"] == (16, 8)  # layer 1 reads both directions of layer 0
    assert shapes["weight_hh_l1_reverse"] == (16, 4)
    assert shapes["bias_hh_l0_reverse"] == (16,)
    assert len(shapes) == 16


def test_load_state_dict_round_trip_and_errors():
    source = Recurrent("gru", 3, 2, dtype=np.float64, rng=np.random.default_rng(5))
    target = Recurrent("gru", 3, 2, dtype=np.float64, rng=np.random.default_rng(6))
    target.load_state_dict(source.state_dict())
    x = np.random.default_rng(0).normal(size=(4, 1, 3))
    np.testing.assert_array_equal(source.forward(x)[0], target.forward(x)[0])
    with pytest.raises(KeyError, match="missing"):
        target.load_state_dict({"weight_ih_l0": source.params["weight_ih_l0"]})
    bad = source.state_dict()
    bad["weight_hh_l0"] = np.zeros((1, 1))
    with pytest.raises(ValueError, match=r"weight_hh_l0: expected shape \(6, 2\)"):
        target.load_state_dict(bad)


def test_bidirectional_reverse_half_reads_the_sequence_backwards():
    """out[..., H:] at time t is the reverse cell run over x[T-1..t], as torch defines it."""
    rng = np.random.default_rng(2)
    model = Recurrent("rnn", 3, 2, bidirectional=True, dtype=np.float64, rng=rng)
    x = rng.normal(size=(5, 2, 3))
    out, h_n = model.forward(x)
    backward_only = Recurrent("rnn", 3, 2, dtype=np.float64)
    for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        backward_only.params[f"{kind}_l0"][...] = model.params[f"{kind}_l0_reverse"]
    reverse_out, reverse_h = backward_only.forward(x[::-1].copy())
    np.testing.assert_allclose(out[:, :, 2:], reverse_out[::-1])
    np.testing.assert_allclose(h_n[1], reverse_h[0])


def test_stacked_layer_feeds_the_next():
    rng = np.random.default_rng(3)
    model = Recurrent("lstm", 3, 2, num_layers=2, dtype=np.float64, rng=rng)
    x = rng.normal(size=(4, 1, 3))
    out, (h_n, c_n) = model.forward(x)
    first = Recurrent("lstm", 3, 2, dtype=np.float64)
    second = Recurrent("lstm", 2, 2, dtype=np.float64)
    for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
        first.params[f"{kind}_l0"][...] = model.params[f"{kind}_l0"]
        second.params[f"{kind}_l0"][...] = model.params[f"{kind}_l1"]
    middle, _ = first.forward(x)
    top, (top_h, _) = second.forward(middle)
    np.testing.assert_allclose(out, top)
    np.testing.assert_allclose(h_n[1], top_h[0])


def test_linear_gradients():
    rng = np.random.default_rng(4)
    layer = Linear(3, 2, dtype=np.float64, rng=rng)
    x = rng.normal(size=(5, 3))
    weight = rng.normal(size=(5, 2))
    layer.forward(x)
    grads = layer.backward(weight)
    np.testing.assert_allclose(grads["weight"], weight.T @ x)
    np.testing.assert_allclose(grads["bias"], weight.sum(0))
    np.testing.assert_allclose(grads["input"], weight @ layer.params["weight"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="cell must be one of rnn, lstm, gru, got 'lstn'"):
        Recurrent("lstn", 1, 1)
    model = Recurrent("rnn", 3, 2)
    with pytest.raises(ValueError, match=r"x must be \[T, B, 3\], got \(2, 1, 4\)"):
        model.forward(np.zeros((2, 1, 4), np.float32))
