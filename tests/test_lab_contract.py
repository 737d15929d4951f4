"""Every lab kind through the same headless protocol the screen uses: a Stepper over a
walk, frames at the start, middle and end, back, two updates, the next frame, a
checkpoint, and a resumed lab that trains on exactly as the original does."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from tui_lab.frames import Frame
from tui_lab.labs.stepper import Stepper
from tui_lab.registry import (
    build_lab,
    bundled_names,
    kinds,
    load_checkpoint,
    read_checkpoint,
    resolve,
    save_checkpoint,
)


def _first_scenario_of_each_kind() -> dict[str, str]:
    found: dict[str, str] = {}
    for name in bundled_names():
        found.setdefault(resolve(name).kind, name)
    return found


SCENARIOS = _first_scenario_of_each_kind()


def _reproducible(name: str):
    """The scenario with one training worker: Hogwild with several is not reproducible
    by design (Word2Vec)."""
    scenario = resolve(name)
    if "workers" in scenario.section("train"):
        scenario = scenario.with_value("train.workers", 1)
    return scenario


def test_every_kind_has_a_bundled_scenario():
    assert sorted(SCENARIOS) == sorted(kinds())


@pytest.mark.parametrize("kind", sorted(SCENARIOS))
def test_every_kind_steps_trains_and_resumes_through_one_protocol(kind, tmp_path):
    lab = build_lab(_reproducible(SCENARIOS[kind]))
    steps = Stepper(lab)
    start = steps.frame()
    assert isinstance(start, Frame) and steps.t == -1
    T = steps.length
    assert T >= 1 and start.T >= 1
    for t in (0, T // 2, T - 1):
        frame = steps.go(t)
        assert isinstance(frame, Frame) and steps.t == t
    assert steps.step() is not None and steps.t == T - 1  # the end stays the end
    steps.back()
    assert steps.t == max(T - 2, -1)
    walk = steps.walk
    assert steps.walk is walk  # walked once, not per frame
    stepped = lab.train_step  # Word2Vec's steps are updates, and count
    assert stepped == (T if walk.steps_are_updates else 0)

    lab.train(2)
    after = steps.frame()
    assert after.train_step == lab.train_step == stepped + 2
    assert steps.walk is not walk  # the weights changed: walked again, once
    assert steps.walk is steps.walk

    path = tmp_path / "checkpoint.npz"
    save_checkpoint(lab, path)
    resumed = load_checkpoint(path)
    assert resumed.train_step == stepped + 2
    assert isinstance(Stepper(resumed).frame(), Frame)
    lab.train(2)
    resumed.train(2)
    for name, value in lab.parameters().items():
        np.testing.assert_array_equal(resumed.parameters()[name], value, err_msg=name)
    assert resumed.loss_history == lab.loss_history


def test_stepping_memory_does_not_grow_with_the_step():
    """5,000 steps of char_rnn over a 5,000-character input: a walk of O(T x hidden), and
    nothing kept per step. A history of frames that each copy the input's traces would
    need O(T^2 x hidden) and fails within the first few hundred steps."""
    lab = build_lab(resolve("char-textgen"))
    text = (lab.text * (5000 // len(lab.text) + 1))[:5000]
    steps = Stepper(lab)
    tracemalloc.start()
    try:
        steps.reset(text)
        walked, _ = tracemalloc.get_traced_memory()
        for t in range(5000):
            steps.step()
            if t % 250 == 0:
                now, peak = tracemalloc.get_traced_memory()
                assert now - walked < 8e6, f"+{(now - walked) / 1e6:.0f} MB after {t + 1} steps"
        now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert steps.t == 4999
    assert now - walked < 8e6
    assert peak < 100e6


def test_a_very_long_own_input_is_refused_with_the_limit():
    from tui_lab.labs.char_rnn import MAX_STEPPING_CHARS

    lab = build_lab(resolve("char-textgen"))
    text = lab.text * (MAX_STEPPING_CHARS // len(lab.text) + 1)
    with pytest.raises(ValueError, match=f"at most {MAX_STEPPING_CHARS:,}"):
        Stepper(lab).reset(text)


def test_the_loss_history_and_the_checkpoint_keep_a_bounded_tail(monkeypatch, tmp_path):
    from tui_lab.labs import base

    monkeypatch.setattr(base, "LOSS_TAIL", 4)
    lab = build_lab(resolve("char-textgen"))
    losses = []
    for _ in range(11):
        lab.train(1)
        losses.append(lab.loss_history[-1])
        assert len(lab.loss_history) <= 8
    assert lab.loss_history == losses[-len(lab.loss_history) :]
    save_checkpoint(lab, tmp_path / "ck.npz")
    assert list(read_checkpoint(tmp_path / "ck.npz")["loss_history"]) == losses[-4:]
    resumed = load_checkpoint(tmp_path / "ck.npz")
    assert resumed.train_step == 11 and resumed.loss_history == losses[-4:]
