"""The sequence lab: forward frames, BPTT frames (equal to the kernels' backward), resume."""

import numpy as np
import pytest
from stepping import stepper

from kernels import gru, lstm, rnn
from tui_lab import registry, scenario
from tui_lab.frames import Matrix, Series
from tui_lab.registry import build_lab, load_checkpoint, save_checkpoint

KERNELS = {"rnn": rnn, "lstm": lstm, "gru": gru}


def make(**values):
    lines = ["[scenario]", 'name = "test"', 'kind = "sequence"']
    sections = {}
    for dotted, value in values.items():
        section, key = dotted.split("__")
        sections.setdefault(section, []).append(
            f"{key} = {value!r}".replace("'", '"').replace("True", "true").replace("False", "false")
        )
    for section, entries in sections.items():
        lines += [f"[{section}]", *entries]
    return build_lab(registry.parse("\n".join(lines)))


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_backward_frames_show_the_kernels_gradients(cell):
    lab = make(
        data__task="first_symbol",
        data__length=5,
        model__cell=cell,
        model__hidden=4,
        train__updates=2,
    )
    lab.train(2)  # trained weights, not just the init
    stepper(lab).reset()
    T = 5
    frames = [stepper(lab).step() for _ in range(2 * T)]
    assert [f.phase for f in frames] == ["forward"] * T + ["backward"] * T
    assert [f.t for f in frames] == list(range(T)) + list(range(T - 1, -1, -1))
    end = stepper(lab).step()  # the end of BPTT stays the end
    assert (end.phase, end.t) == ("backward", 0) and stepper(lab).t == 2 * T - 1
    sample = stepper(lab).walk.input
    loss, grads, d_out = lab.net.loss_and_grads(sample.x, sample.targets, "last")
    trace = lab.net.rnn.traces[0][0]
    args = (trace, d_out) if cell != "rnn" else (trace, d_out, None)
    expected = KERNELS[cell].backward(*args)
    for frame in frames[T:]:
        t = frame.t
        np.testing.assert_allclose(
            frame.panel("dL/dh_t").values[0], expected["d_h"][t, 0], rtol=1e-4, atol=1e-9
        )
    whole = frames[-1].panel("dL/dW_hh so far").values
    np.testing.assert_allclose(whole, grads["weight_hh_l0"], rtol=1e-4, atol=1e-9)
    np.testing.assert_allclose(whole, expected["weight_hh"], rtol=1e-4, atol=1e-9)
    gate_sum = sum(f.panel("dL/d gates").values.reshape(-1) for f in frames[T:])
    np.testing.assert_allclose(gate_sum, expected["bias_ih"], rtol=1e-4, atol=1e-9)
    # the norm series: every step BPTT has reached, NaN before it
    series = frames[T + 1].panel("||dL/dh_t||")
    assert isinstance(series, Series) and series.marker == T - 2
    line = next(iter(series.lines.values()))
    assert np.isnan(line[: T - 2]).all()
    np.testing.assert_allclose(
        line[T - 2 :], np.linalg.norm(expected["d_h"][T - 2 :, 0], axis=1), rtol=1e-4
    )
    assert frames[-1].panel("BPTT step").values["t"] == 0
    if cell == "lstm":  # the cell-state gradient at step 0, through f_0, is the kernel's dL/dc0
        forget = trace.gates[0, 0, 4:8]
        np.testing.assert_allclose(
            frames[-1].panel("dL/dc_t").values[0] * forget, expected["c0"][0], rtol=1e-4, atol=1e-9
        )


def test_gradient_accumulates_in_weight_hh_step_by_step():
    lab = make(data__task="parity", data__length=4, model__cell="rnn", model__hidden=3)
    frames = [stepper(lab).step() for _ in range(8)][4:]
    sample = stepper(lab).walk.input
    _, _, d_out = lab.net.loss_and_grads(sample.x, sample.targets, "last")
    trace = lab.net.rnn.traces[0][0]
    d_h = rnn.backward(trace, d_out)["d_h"][:, 0].astype(np.float64)
    hs = np.concatenate([np.zeros((1, 3)), trace.out[:, 0]]).astype(np.float64)
    running = np.zeros((3, 3))
    for frame in frames:  # t = 3, 2, 1, 0
        t = frame.t
        d_pre = d_h[t] * (1 - hs[t + 1] ** 2)
        running += np.outer(d_pre, hs[t])
        np.testing.assert_allclose(
            frame.panel("dL/dW_hh so far").values, running, rtol=1e-4, atol=1e-9
        )


def test_forward_frames_show_each_direction_and_layer():
    lab = make(
        data__task="next_symbol",
        data__length=4,
        model__cell="lstm",
        model__hidden=3,
        model__num_layers=2,
        model__bidirectional=True,
    )
    frame = stepper(lab).step()
    names = [p.name for p in frame.panels]
    for layer in (0, 1):
        for direction in ("forward", "backward"):
            assert f"h_t layer {layer} {direction}" in names
            assert f"gates layer {layer} {direction}" in names
    out, _ = lab.net.rnn.forward(stepper(lab).walk.input.x)
    top_backward = frame.panel("h_t layer 1 backward")
    assert isinstance(top_backward, Matrix) and top_backward.row_labels == ("c", "h")
    np.testing.assert_allclose(top_backward.values[1], out[0, 0, 3:], rtol=1e-6)
    assert "has read steps 3..0" in top_backward.caption
    backward = [stepper(lab).step() for _ in range(4)][-1]
    assert backward.phase == "backward" and backward.t == 3
    assert backward.panel("dL/dh_t").row_labels == (
        "layer 0 forward",
        "layer 0 backward",
        "layer 1 forward",
        "layer 1 backward",
    )


def test_one_step_net_never_uses_weight_hh():
    lab = make(data__task="xor", data__width=3, model__hidden=5, train__updates=20, train__lr=0.05)
    lab.train(20)
    metrics = lab.evaluate()
    assert metrics["T"] == 1 and metrics["weight_hh_l0_grad_norm"] == 0.0
    assert metrics["grad_ratio_init"] == 1.0


def test_typed_input_and_targets():
    lab = make(data__task="running_parity", data__length=6)
    stepper(lab).reset("0110")
    assert stepper(lab).length == 8
    assert stepper(lab).frame().panel("input").targets == ("even", "odd", "even", "even")
    with pytest.raises(ValueError, match="running_parity reads one symbol per step"):
        stepper(lab).reset("012")


def test_resume_equals_an_uninterrupted_run(tmp_path):
    one = make(data__task="parity", data__length=5, model__cell="gru", model__hidden=4)
    one.train(5)
    two = make(data__task="parity", data__length=5, model__cell="gru", model__hidden=4)
    two.train(3)
    save_checkpoint(two, tmp_path / "c.npz")
    resumed = load_checkpoint(tmp_path / "c.npz")
    resumed.train(2)
    for name, value in one.parameters().items():
        np.testing.assert_array_equal(resumed.parameters()[name], value)
    assert resumed.grad_norms == one.grad_norms and len(one.grad_norms) == 5
    assert resumed.grad_norm_max == max(one.grad_norms)
    series = stepper(resumed).step().panel("gradient norm")
    np.testing.assert_array_equal(series.lines["before clipping"], one.grad_norms)


def test_bidirectional_on_a_last_step_task_is_refused():
    with pytest.raises(
        scenario.ScenarioError, match="model.bidirectional: parity is scored at the last step"
    ):
        make(data__task="parity", model__bidirectional=True)
