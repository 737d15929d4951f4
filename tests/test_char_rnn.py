"""The char-RNN lab: stepping frames, history, training, checkpoints and exact resume."""

import numpy as np
import pytest
from stepping import stepper

from tui_lab import registry
from tui_lab.frames import Matrix, Sequence, TopK
from tui_lab.models import Recurrent
from tui_lab.registry import build_lab, load_checkpoint, save_checkpoint


def small(cell="lstm", **extra):
    overrides = [f"model.cell={cell}", "model.hidden=6", "train.epochs=3"]
    overrides += [f"{key}={value}" for key, value in extra.items()]
    return registry.resolve("char-textgen").with_overrides(overrides)


def test_stepping_forward_and_back_shows_the_same_frames():
    lab = build_lab(small())
    steps = stepper(lab)
    assert steps.frame().t == -1
    first = steps.step()
    second = steps.step()
    assert (first.t, second.t) == (0, 1)
    back = steps.back()  # built again from the same walk: the same numbers
    assert back.t == 0
    np.testing.assert_array_equal(back.panel("h_t").values, first.panel("h_t").values)
    np.testing.assert_array_equal(steps.step().panel("gates").values, second.panel("gates").values)
    assert stepper(lab).first().t == -1
    assert stepper(lab).last().t == len("This is G") - 1
    assert stepper(lab).step().t == len("This is G") - 1  # the end stays the end


def test_step_frame_shows_the_model_state_for_that_window():
    """Window mode: h_t after step t is the model run over the window ending at t."""
    lab = build_lab(small())
    for _ in range(6):
        frame = stepper(lab).step()
    assert frame.t == 5
    text = "This is G"
    window = text[5 - 3 + 1 : 5 + 1]
    codes = np.array([[lab.index[c] for c in window]]).T
    out, (h, c) = lab.rnn.forward(lab.one_hot(codes))
    state = frame.panel("h_t")
    assert isinstance(state, Matrix) and state.row_labels == ("c", "h")
    np.testing.assert_allclose(state.values[1], h[0, 0], rtol=1e-6)
    np.testing.assert_allclose(state.values[0], c[0, 0], rtol=1e-6)
    gates = frame.panel("gates")
    assert gates.row_labels == ("i", "f", "g", "o")
    np.testing.assert_allclose(
        gates.values, lab.rnn.traces[0][0].gates[-1, 0].reshape(4, 6), rtol=1e-6
    )
    sequence = frame.panel("input")
    assert isinstance(sequence, Sequence) and sequence.position == 5
    assert sequence.traces["h0"].shape == (len(text), 6)
    top = frame.panel("next character")
    assert isinstance(top, TopK) and top.target == text[6]
    np.testing.assert_allclose(frame.panel("p(next)").values.sum(), 1.0, rtol=1e-6)


def test_stream_mode_carries_state_along_the_text():
    lab = build_lab(small("gru", **{"data.target": "all", "data.seq_length": 5}))
    frame = stepper(lab).last()
    codes = np.array([[lab.index[c] for c in "This is G"]]).T
    out, _ = lab.rnn.forward(lab.one_hot(codes))
    np.testing.assert_allclose(frame.panel("h_t").values[0], out[-1, 0], rtol=1e-5, atol=1e-6)


def test_custom_input_and_bad_characters():
    lab = build_lab(small())
    frame = stepper(lab).reset("software")
    assert frame.T == len("software")
    with pytest.raises(ValueError, match=r"not in this model's vocabulary: \['z'\]"):
        stepper(lab).reset("zz")


def test_training_lowers_the_loss_and_refreshes_frames():
    lab = build_lab(small("gru", **{"train.epochs": 40, "train.lr": 0.02}))
    stepper(lab).step()
    before = stepper(lab).frame().panel("h_t").values.copy()
    start = lab.evaluate()["loss"]
    lab.train(lab.total_train_steps())
    assert lab.evaluate()["loss"] < start * 0.5
    after = stepper(lab).frame()
    assert after.t == 0 and after.train_step == lab.total_train_steps()
    assert not np.allclose(after.panel("h_t").values, before)


def test_live_values_change_without_rebuild_and_shape_values_need_one():
    lab = build_lab(small())
    assert lab.set_value("train.lr", 0.5) is True
    assert lab.optimizer.lr == 0.5
    assert lab.set_value("model.hidden", 12) is False
    assert lab.scenario.get("model.hidden") == 6


def test_checkpoint_round_trip(tmp_path):
    lab = build_lab(small())
    lab.train(4)
    save_checkpoint(lab, tmp_path / "c.npz")
    again = load_checkpoint(tmp_path / "c.npz")
    assert again.train_step == 4
    for name, value in lab.parameters().items():
        np.testing.assert_array_equal(again.parameters()[name], value)
    np.testing.assert_array_equal(
        again.optimizer_state()["adam.m.weight_hh_l0"], lab.optimizer_state()["adam.m.weight_hh_l0"]
    )


def test_resume_ends_with_the_same_weights_as_an_uninterrupted_run(tmp_path):
    whole = build_lab(small())
    whole.train(6)
    part = build_lab(small())
    part.train(2)  # stops inside the first epoch (2 batches per epoch)
    save_checkpoint(part, tmp_path / "c.npz")
    resumed = load_checkpoint(tmp_path / "c.npz")
    resumed.train(4)
    for name, value in whole.parameters().items():
        np.testing.assert_array_equal(resumed.parameters()[name], value)


def test_char_textgen_reaches_the_notes_result():
    """The notes' example: 100 epochs, >= 95% of windows right, greedy text from 'This is G'."""
    lab = build_lab(registry.resolve("char-textgen"))
    lab.train(lab.total_train_steps())
    metrics = lab.evaluate()
    assert metrics["accuracy"] >= 0.95
    assert metrics["generated"].startswith("This is Geeks")


def test_recurrent_kernels_compile_in_warmup():
    lab = build_lab(small("rnn"))
    for label, call in lab.warmup_tasks():
        assert label
        call()
    assert isinstance(lab.rnn, Recurrent)
