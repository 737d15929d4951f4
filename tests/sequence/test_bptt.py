"""Step-by-step BPTT (tui_lab.bptt) equals the kernels' whole-sequence backward."""

import numpy as np
import pytest

from kernels import gru, lstm, rnn
from tui_lab.bptt import recurrent_stepwise, stepwise_backward
from tui_lab.models import Recurrent

KERNELS = {"rnn": rnn, "lstm": lstm, "gru": gru}


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(
    "cell,nonlinearity", [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
)
def test_one_layer_matches_the_kernel(cell, nonlinearity):
    rng = np.random.default_rng(3)
    model = Recurrent(cell, 3, 4, nonlinearity=nonlinearity, dtype=np.float64, rng=rng)
    x = rng.normal(size=(5, 2, 3))
    out, _ = model.forward(x)
    d_out = rng.normal(size=out.shape)
    trace = model.traces[0][0]
    if cell == "lstm":
        expected = lstm.backward(trace, d_out)
    elif cell == "rnn":
        expected = rnn.backward(trace, d_out)
    else:
        expected = gru.backward(trace, d_out)
    steps = stepwise_backward(cell, trace, d_out, nonlinearity)
    close(steps.d_h, expected["d_h"])
    close(steps.d_weight_hh_so_far(0), expected["weight_hh"])
    close(steps.d_input, expected["input"])
    # the gate gradients are the bias gradients, step by step
    close(steps.d_gates.sum(axis=(0, 1)), expected["bias_ih"])
    if cell == "lstm":  # dL/dc_0 times the first forget gate is the kernel's dL/dc0
        close(steps.d_c[0] * trace.gates[0][:, 4:8], expected["c0"])
    else:
        assert steps.d_c is None


def test_so_far_is_a_running_sum_from_the_last_step():
    rng = np.random.default_rng(4)
    model = Recurrent("gru", 2, 3, dtype=np.float64, rng=rng)
    x = rng.normal(size=(4, 1, 2))
    out, _ = model.forward(x)
    d_out = np.zeros_like(out)
    d_out[-1] = rng.normal(size=(1, 3))
    steps = stepwise_backward("gru", model.traces[0][0], d_out)
    # only the last step's own contribution before going further back
    h_prev = model.traces[0][0].out[-2]
    d_r, d_z, d_n = np.split(steps.d_gates[-1], 3, axis=1)
    r = model.traces[0][0].gates[-1][:, :3]
    own = np.concatenate([d_r, d_z, d_n * r], axis=1).T @ h_prev
    close(steps.d_weight_hh_so_far(-1), own)
    # nothing comes back to a step with no output but through the recurrence
    close(steps.d_h[-1], d_out[-1])


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_stacked_bidirectional_matches_the_model_backward(cell):
    rng = np.random.default_rng(5)
    model = Recurrent(cell, 3, 4, num_layers=2, bidirectional=True, dtype=np.float64, rng=rng)
    x = rng.normal(size=(6, 2, 3))
    out, _ = model.forward(x)
    d_out = rng.normal(size=out.shape)
    steps = recurrent_stepwise(model, d_out)
    expected = model.backward(d_out)
    for layer in range(2):
        close(steps[(layer, 0)].d_weight_hh_so_far(0), expected[f"weight_hh_l{layer}"])
        # the reverse direction starts at the last step: its whole sum sits at t = T-1
        close(steps[(layer, 1)].d_weight_hh_so_far(-1), expected[f"weight_hh_l{layer}_reverse"])
    close(steps[(0, 0)].d_input + steps[(0, 1)].d_input, expected["input"])


@pytest.mark.parametrize("block", [1, 7, 32])
def test_so_far_at_every_step_across_blocks(monkeypatch, block):
    """The running sum of dL/dW_hh at each t, kept as block sums plus per-step factors,
    equals the step-by-step sum, for both directions, with several blocks."""
    import tui_lab.bptt as bptt

    monkeypatch.setattr(bptt, "MIN_BLOCK", block)
    rng = np.random.default_rng(6)
    model = Recurrent("lstm", 2, 3, bidirectional=True, dtype=np.float64, rng=rng)
    x = rng.normal(size=(40, 2, 2))
    out, _ = model.forward(x)
    d_out = rng.normal(size=out.shape)
    steps = recurrent_stepwise(model, d_out)
    assert steps[(0, 0)].weight_hh.block == block
    for direction in (0, 1):
        trace = model.traces[0][direction]
        hs = np.concatenate([trace.h0[None], trace.out[:-1]])  # processing order
        d_gates = steps[(0, direction)].d_gates
        if direction == 1:
            d_gates = d_gates[::-1]  # back to processing order
        own = np.einsum("tbg,tbh->tgh", d_gates, hs)
        running = np.cumsum(own[::-1], axis=0)[::-1]  # from each step to the last
        if direction == 1:
            running = running[::-1]  # original time order
        for t in range(40):
            close(steps[(0, direction)].d_weight_hh_so_far(t), running[t])
