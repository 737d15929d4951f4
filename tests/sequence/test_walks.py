"""The sequence, compare and seq2seq labs on the Walk protocol: a frame reads the walk and
never calls the model; a walk holds O(T x state) arrays; typed inputs have a limit."""

from __future__ import annotations

import tracemalloc

import pytest

from tui_lab import bptt
from tui_lab.labs.seq2seq import MAX_SOURCE_LETTERS
from tui_lab.labs.sequence import MAX_STEPPING_SYMBOLS
from tui_lab.labs.stepper import Stepper
from tui_lab.models import Linear, Recurrent
from tui_lab.registry import build_lab, resolve
from tui_lab.seq2seq import Seq2Seq
from tui_lab.seqnet import SequenceNet

SMALL = ["data.eval_size=16"]


def _lab(name: str, *overrides: str):
    return build_lab(resolve(name).with_overrides([*SMALL, *overrides]))


def _refuse_model_calls(monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError("the model was called")

    for owner, name in [
        (Recurrent, "forward"),
        (Recurrent, "backward"),
        (Linear, "forward"),
        (SequenceNet, "forward"),
        (Seq2Seq, "run"),
        (bptt, "stepwise_backward"),
        (bptt, "recurrent_stepwise"),
    ]:
        monkeypatch.setattr(owner, name, refuse)


@pytest.mark.parametrize(
    "name", ["long-range-lstm", "bidirectional-tagging", "stacked", "compare-cells",
             "attention-reverse", "encoder-decoder"],
)  # fmt: skip
def test_frames_read_the_walk_and_never_call_the_model(name, monkeypatch):
    lab = _lab(name, "data.length=6")
    lab.train(1)
    steps = Stepper(lab)
    walk = steps.walk
    _refuse_model_calls(monkeypatch)
    with pytest.raises(AssertionError, match="the model was called"):
        lab.walk(walk.input)  # the refusal catches a model call
    for t in [*range(-1, walk.length), walk.length - 2, 0, -1]:  # forward, back, Home
        frame = lab.frame(walk, t)
        assert frame.train_step == 1
        steps.go(t)
    assert steps.walk is walk


def _retained(call):
    """(the result of call(), bytes it left allocated, its peak) under tracemalloc."""
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = call()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, after - before, peak - before


def test_a_sequence_walk_is_linear_in_its_length():
    """5,000 symbols through an LSTM of 32 units: ~420 floats per step (states, gates,
    BPTT's dL/dh, dL/dc, gate gradients, the states each step read) and the model's own
    float32 trace, 26 MB measured. The dL/dW_hh sum so far of every step, which BPTT's
    frames once kept, is [5000, 128, 32] floats alone: 164 MB."""
    lab = _lab("long-range-lstm")
    text = "A" + "AB" * 2500
    walk, kept, peak = _retained(lambda: lab.walk(text[:5000]))
    assert walk.length == 10_000
    assert kept < 40e6, f"the walk keeps {kept / 1e6:.0f} MB"
    assert peak < 80e6, f"walking peaked at +{peak / 1e6:.0f} MB"
    steps = Stepper(lab, text[:5000])
    assert steps.length == 10_000

    def step_everywhere():
        for t in range(0, 10_000, 37):
            steps.go(t)

    _, grown, _ = _retained(step_everywhere)
    assert grown < 2e6, f"stepping kept +{grown / 1e6:.1f} MB"


def test_a_compare_walk_is_one_sequence_walk_per_cell():
    lab = _lab("compare-cells")
    walk, kept, _ = _retained(lambda: lab.walk("A" + "B" * 1999))
    assert sorted(walk.cells) == ["gru", "lstm", "rnn"]
    assert all(cell.input is walk.input for cell in walk.cells.values())
    # 24 MB measured; the old dL/dW_hh sums of every step: 130 MB for the three cells
    assert kept < 40e6, f"the walk keeps {kept / 1e6:.0f} MB"


def test_a_seq2seq_walk_keeps_the_attention_not_the_attention_traces():
    """1,000 letters in and out: the attention matrix [1000, 1000] (8 MB) is what the frames
    show; each step's attention trace holds tanh(W_q s + W_k h_j) [S, A] as well, and
    keeping them all would cost 1,000 x 1000 x 64 floats (256 MB). 11 MB measured."""
    lab = _lab("attention-reverse")
    walk, kept, peak = _retained(lambda: lab.walk("abcdefgh" * 125))
    assert walk.alpha.shape == (1000, 1000)
    assert kept < 20e6, f"the walk keeps {kept / 1e6:.0f} MB"
    assert peak < 60e6, f"walking peaked at +{peak / 1e6:.0f} MB"


def test_typed_inputs_longer_than_the_limit_are_refused_with_it():
    sequence = _lab("long-range-rnn")
    with pytest.raises(ValueError, match=f"at most {MAX_STEPPING_SYMBOLS:,}"):
        Stepper(sequence).reset("A" * (MAX_STEPPING_SYMBOLS + 1))
    compare = _lab("compare-cells")
    with pytest.raises(ValueError, match=f"at most {MAX_STEPPING_SYMBOLS:,}"):
        Stepper(compare).reset("A" * 100_000)
    seq2seq = _lab("encoder-decoder")
    with pytest.raises(ValueError, match=f"at most {MAX_SOURCE_LETTERS:,}"):
        Stepper(seq2seq).reset("a" * (MAX_SOURCE_LETTERS + 1))


def test_the_same_input_walks_again_after_training_and_none_draws_a_fresh_one():
    lab = _lab("many-to-one")
    steps = Stepper(lab)
    first = steps.walk
    lab.train(2)
    again = steps.walk
    assert again is not first and again.input is first.input
    assert again.tokens == first.tokens and (again.probs != first.probs).any()
    steps.reset()
    fresh = Stepper(_lab("many-to-one"))
    assert fresh.walk.tokens == first.tokens  # a new lab's first sample, as this one's
    fresh.reset()  # and its second
    assert steps.walk.input is not first.input and steps.walk.tokens == fresh.walk.tokens
