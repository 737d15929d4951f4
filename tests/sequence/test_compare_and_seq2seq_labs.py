"""Compare mode (cells side by side, stepping together) and the encoder-decoder lab."""

import numpy as np
import pytest
from stepping import stepper

from tui_lab import registry, scenario
from tui_lab.frames import Matrix, Series
from tui_lab.registry import build_lab, load_checkpoint, save_checkpoint

COMPARE = """
[scenario]
name = "cmp"
kind = "compare"
seed = 3
[data]
task = "first_symbol"
length = 6
eval_size = 32
[model]
hidden = 4
[train]
updates = 4
"""


def test_each_cell_trains_exactly_as_its_own_sequence_lab():
    compare = build_lab(registry.parse(COMPARE))
    compare.train(4)
    alone_text = COMPARE.replace('kind = "compare"', 'kind = "sequence"').replace(
        "[model]", '[model]\ncell = "lstm"'
    )
    alone = build_lab(registry.parse(alone_text))
    alone.train(4)
    for name, value in alone.parameters().items():
        np.testing.assert_array_equal(compare.parameters()[f"lstm/{name}"], value)
    assert compare.labs["lstm"].loss_history == alone.loss_history
    assert compare.loss_history[-1] == pytest.approx(
        np.mean([lab.loss_history[-1] for lab in compare.labs.values()])
    )
    metrics = compare.evaluate()
    assert metrics["lstm_accuracy"] == alone.evaluate()["accuracy"]
    assert {"rnn_grad_ratio_init", "gru_grad_ratio_final"} <= set(metrics)


def test_cells_step_together_over_one_input():
    compare = build_lab(registry.parse(COMPARE))
    compare.train(2)
    stepper(compare).reset("ABBAAB")
    frames = [stepper(compare).step() for _ in range(12)]
    forward, backward = frames[2], frames[-1]
    assert forward.t == 2 and backward.phase == "backward" and backward.t == 0
    for cell in ("RNN", "LSTM", "GRU"):
        assert isinstance(forward.panel(f"{cell} h_t"), Matrix)
        assert isinstance(backward.panel(f"{cell} dL/dh_t"), Matrix)
    assert forward.panel("input").tokens == tuple("ABBAAB")
    losses = forward.panel("training loss")
    assert isinstance(losses, Series) and set(losses.lines) == {"rnn", "lstm", "gru"}
    assert len(losses.lines["gru"]) == 2
    norms = backward.panel("||dL/dh_t||")
    gru_lab, sample = compare.labs["gru"], stepper(compare).walk.input
    _, _, d_out = gru_lab.net.loss_and_grads(sample.x, sample.targets, "last")
    expected = np.linalg.norm(gru_lab.net.top_d_h(d_out)[:, 0], axis=1)
    np.testing.assert_allclose(norms.lines["gru"], expected, rtol=1e-4)


def test_compare_resumes_exactly(tmp_path):
    one = build_lab(registry.parse(COMPARE))
    one.train(4)
    two = build_lab(registry.parse(COMPARE))
    two.train(2)
    save_checkpoint(two, tmp_path / "c.npz")
    resumed = load_checkpoint(tmp_path / "c.npz")
    resumed.train(2)
    for name, value in one.parameters().items():
        np.testing.assert_array_equal(resumed.parameters()[name], value)
    assert resumed.labs["rnn"].loss_history == one.labs["rnn"].loss_history


def test_compare_rejects_unknown_cells():
    bad = COMPARE.replace("hidden = 4", 'hidden = 4\ncells = ["rnn", "transformer"]')
    with pytest.raises(scenario.ScenarioError, match="model.cells: expected distinct cells"):
        registry.parse(bad)


SEQ2SEQ = """
[scenario]
name = "s2s"
kind = "seq2seq"
[data]
length = 5
vocab = 4
eval_size = 16
[model]
hidden = 6
attention = {attention}
[train]
updates = 2
"""


def test_attention_matrix_grows_one_row_per_decoder_step():
    lab = build_lab(registry.parse(SEQ2SEQ.format(attention="true")))
    lab.train(2)
    stepper(lab).reset("abcda")
    assert stepper(lab).length == 10
    encoder = [stepper(lab).step() for _ in range(5)]
    assert all("attention" not in [p.name for p in f.panels] for f in encoder)
    source = np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0]][:, None]  # "abcda": [S, 1, V]
    enc, _ = lab.net.encoder.forward(source)
    np.testing.assert_allclose(encoder[2].panel("encoder h_t").values[0], enc[2, 0], rtol=1e-6)
    for i in range(5):
        frame = stepper(lab).step()
        attention = frame.panel("attention")
        assert attention.shape == (i + 1, 5)
        assert attention.col_labels == tuple("abcda")
        np.testing.assert_allclose(attention.values.sum(axis=1), 1.0, rtol=1e-5)
        assert frame.panel("output").targets == tuple("adcba")
    metrics = lab.evaluate()
    assert metrics["attention"] is True and 0.0 <= metrics["attention_on_mirror"] <= 1.0


def test_plain_encoder_decoder_has_no_attention_panel():
    lab = build_lab(registry.parse(SEQ2SEQ.format(attention="false")))
    frames = [stepper(lab).step() for _ in range(10)]
    assert "attention" not in [p.name for p in frames[-1].panels]
    assert "attention.v" not in lab.parameters()
    with pytest.raises(ValueError, match="type letters from abcd"):
        stepper(lab).reset("abz")


def test_seq2seq_resumes_exactly(tmp_path):
    text = SEQ2SEQ.format(attention="true")
    one = build_lab(registry.parse(text))
    one.train(4)
    two = build_lab(registry.parse(text))
    two.train(2)
    save_checkpoint(two, tmp_path / "s.npz")
    resumed = load_checkpoint(tmp_path / "s.npz")
    resumed.train(2)
    for name, value in one.parameters().items():
        np.testing.assert_array_equal(resumed.parameters()[name], value)
    assert resumed.loss_history == one.loss_history
