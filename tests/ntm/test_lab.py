"""The `ntm` lab kind: scenarios, frames, training, checkpoints, divergence."""

import math

import numpy as np
import pytest
from stepping import stepper

from tui_lab.frames import Matrix, Sequence, Series
from tui_lab.labs.base import Diverged
from tui_lab.labs.stepper import Stepper
from tui_lab.registry import build_lab, load_checkpoint, parse, resolve, save_checkpoint
from tui_lab.scenario import ScenarioError

BUNDLED = [
    "ntm-copy",
    "ntm-copy-feedforward",
    "ntm-repeat-copy",
    "ntm-associative-recall",
    "ntm-priority-sort",
    "lstm-copy",
]

TINY = """
[scenario]
name = "tiny copy"
kind = "ntm"
topic = "memory networks"
seed = 3

[data]
task = "copy"
bits = 3
min_length = 1
max_length = 3
eval_episodes = 40
eval_lengths = [3, 6]

[model]
hidden = 12
slots = 8
width = 4
dtype = "float64"

[train]
updates = 300
batch = 4
optimizer = "adam"
lr = 0.01
"""


def tiny(*sets):
    return parse(TINY, "tiny.toml").with_overrides(list(sets))


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_scenarios_load(name):
    scenario = resolve(name)
    assert scenario.kind == "ntm" and scenario.topic == "memory networks"


def test_copy_preset_is_the_papers_trained_on_a_smaller_memory():
    lab = build_lab(resolve("ntm-copy"))
    s = lab.eval_shape
    assert (s.hidden, s.slots, s.width, s.read_heads, s.write_heads, s.shifts) == (
        100,
        128,
        20,
        1,
        1,
        3,
    )
    assert (s.inputs, s.outputs) == (9, 8)
    assert lab.shape.slots == 24 and lab.evaluation_model()[1].size == lab.flat.size + 2 * 104
    assert lab.walk().memory.shape[1:] == (128, 20)


@pytest.mark.parametrize(
    "setting, message",
    [
        ("data.min_length=5", "tiny.toml: data.min_length = 5 is above data.max_length = 3"),
        (
            "data.sort_outputs=30",
            "tiny.toml: data.sort_outputs = 30 is above data.sort_inputs = 20",
        ),
        ("model.shift_range=4", "tiny.toml: model.shift_range = 4 needs at least 9 memory slots"),
        ("data.eval_slots=6", "tiny.toml: data.eval_slots = 6 is below model.slots = 8"),
    ],
)
def test_cross_field_errors(setting, message):
    with pytest.raises(ScenarioError, match=message.replace(".", r"\.")):
        build_lab(tiny(setting))  # --set values skip parse()'s checks; the lab checks again


def test_frames_show_memory_heads_and_addressing():
    lab = build_lab(tiny())
    first = stepper(lab).frame()
    assert first.t == -1 and first.panel("memory M_t").values.max() == pytest.approx(1e-6)
    frame = stepper(lab).step()
    names = {p.name for p in frame.panels}
    for want in (
        "input bits",
        "target bits",
        "output bits",
        "memory M_t",
        "weightings",
        "read 0 weighting history",
        "write 0 weighting history",
        "read 0 addressing",
        "write 0 addressing",
        "erase and add",
        "read vectors",
        "head parameters",
        "shift weights",
        "cost (bits per sequence)",
    ):
        assert want in names
    # Slots across (units "slots") in memory, weightings and addressing: one column per slot.
    memory = frame.panel("memory M_t")
    assert memory.shape == (lab.shape.width, 8) and memory.units == "slots"
    weightings = frame.panel("weightings")
    assert weightings.shape == (2, 8) and weightings.row_labels == ("r0", "w0")
    assert weightings.focus == memory.focus and 0 <= memory.focus < 8
    stages = frame.panel("write 0 addressing")
    assert isinstance(stages, Matrix) and stages.shape == (4, 8) and stages.units == "slots"
    np.testing.assert_allclose(stages.values.sum(axis=1), 1.0)  # each stage is a weighting
    history = frame.panel("read 0 weighting history")
    # 8 slots fit the history's window of HISTORY_SLOTS: all of them, time across.
    assert history.shape == (8, stepper(lab).length)
    assert sorted(history.row_labels) == sorted(str(s) for s in range(8))
    assert isinstance(frame.panel("input bits"), Sequence)
    stepper(lab).last()
    end = stepper(lab).frame()
    assert end.t == stepper(lab).length - 1
    np.testing.assert_allclose(end.panel("read 0 weighting history").values.sum(axis=0), 1.0)
    assert stepper(lab).back().t == end.t - 1


def test_controller_only_is_a_plain_lstm():
    lab = build_lab(tiny("model.controller_only=true"))
    assert lab.shape.heads == 0
    names = {p.name for p in stepper(lab).step().panels}
    assert "memory M_t" not in names and "controller h_t" in names


def test_feedforward_controller_trains_and_has_no_state_of_its_own(tmp_path):
    lab = build_lab(tiny("model.controller=feedforward"))
    assert not lab.shape.recurrent
    assert lab.parameters()["controller.weight_ih"].shape == (12, lab.shape.controller_inputs)
    assert not {"controller.weight_hh", "controller.h0", "controller.c0"} & set(lab.parameters())
    frame = stepper(lab).step()
    assert frame.panel("controller h_t").caption == "feed-forward controller output"
    before = lab.score(lab.spec, 40)[1]
    lab.train(300)
    assert lab.score(lab.spec, 40)[1] < 0.75 * before
    save_checkpoint(lab, tmp_path / "c.npz")
    resumed = load_checkpoint(tmp_path / "c.npz")
    np.testing.assert_array_equal(resumed.flat, lab.flat)


def test_init_auto_is_wide_for_the_ntm_and_pytorch_for_the_baseline():
    ntm = build_lab(tiny()).parameters()
    lstm = build_lab(tiny("model.controller_only=true")).parameters()
    H = 12
    # "ntm": controller weights spread to +-5/sqrt(I + H), zero biases
    bound = 5 / np.sqrt(ntm["controller.weight_ih"].shape[1] + H)
    assert 0.8 * bound < np.abs(ntm["controller.weight_ih"]).max() <= bound
    assert not ntm["controller.bias"].any()
    # "pytorch": +-1/sqrt(H) and forget-gate bias 1 + U(+-1/sqrt(H))
    assert np.abs(lstm["controller.weight_hh"]).max() <= 1 / np.sqrt(H)
    assert (lstm["controller.bias"][H : 2 * H] > 1 - 1 / np.sqrt(H)).all()
    forced = build_lab(tiny("model.init=pytorch")).parameters()
    assert (forced["controller.bias"][H : 2 * H] > 0.5).all()


def test_new_input_length_and_bad_length():
    lab = build_lab(tiny())
    stepper(lab).reset(5)
    assert stepper(lab).length == 11
    with pytest.raises(ValueError, match="sequence length must be >= 1, got 0"):
        stepper(lab).reset(0)


def test_training_lowers_the_cost_and_updates_the_curve():
    lab = build_lab(tiny())
    before = lab.score(lab.spec, 40)[1]
    lab.train(300)
    after = lab.score(lab.spec, 40)[1]
    assert after < 0.75 * before
    curve = stepper(lab).frame().panel("cost (bits per sequence)")
    assert isinstance(curve, Series) and len(curve.lines["cost"]) == 300


def test_evaluate_reports_bits_and_lengths():
    lab = build_lab(tiny())
    metrics = lab.evaluate()
    assert set(metrics) >= {
        "wrong_bits",
        "cost_bits",
        "wrong_bits_by_length",
        "cost_bits_by_length",
    }
    assert set(metrics["wrong_bits_by_length"]) == {"3", "6"}
    assert 0 <= metrics["wrong_bits"] <= 3 * 3


def test_evaluate_reports_repeat_counts_for_repeat_copy():
    lab = build_lab(
        tiny(
            "data.task=repeat_copy",
            "data.max_length=2",
            "data.max_repeats=3",
            "data.eval_lengths=[2]",
            "data.eval_repeats=[3, 6]",
        )
    )
    metrics = lab.evaluate()
    assert set(metrics["wrong_bits_by_repeats"]) == {"3", "6"}
    # six copies of at most two 3-bit vectors, plus the end marker
    assert 0 <= metrics["wrong_bits_by_repeats"]["6"] <= 6 * 2 * 3 + 1
    assert metrics["cost_bits_by_repeats"]["6"] > metrics["cost_bits_by_repeats"]["3"]


def test_learning_rate_falls_geometrically_to_lr_final():
    lab = build_lab(tiny("train.lr=0.01", "train.lr_final=0.0001", "train.updates=101"))
    assert lab.learning_rate(0) == pytest.approx(0.01, rel=1e-12)
    assert lab.learning_rate(50) == pytest.approx(0.001, rel=1e-12)
    assert lab.learning_rate(100) == pytest.approx(0.0001, rel=1e-12)
    assert lab.learning_rate(500) == pytest.approx(0.0001, rel=1e-12)  # trained past the plan
    lab.train(2)
    assert lab.optimizer.lr == pytest.approx(0.01 * 0.01 ** (1 / 100), rel=1e-12)
    constant = build_lab(tiny("train.lr=0.01", "train.updates=101"))
    assert constant.learning_rate(0) == constant.learning_rate(100) == 0.01


def test_learning_rate_holds_until_lr_decay_start():
    lab = build_lab(
        tiny(
            "train.lr=0.01",
            "train.lr_final=0.0001",
            "train.updates=201",
            "train.lr_decay_start=0.5",
        )
    )
    assert lab.learning_rate(0) == lab.learning_rate(100) == 0.01
    assert lab.learning_rate(150) == pytest.approx(0.001, rel=1e-12)
    assert lab.learning_rate(200) == pytest.approx(0.0001, rel=1e-12)


@pytest.mark.parametrize(
    "sets",
    [
        ("train.optimizer=rmsprop_graves", "train.lr=0.001"),
        ("train.optimizer=adam", "train.lr=0.01", "train.lr_final=0.001", "train.updates=8"),
    ],
)
def test_resume_equals_uninterrupted(tmp_path, sets):
    straight = build_lab(tiny(*sets))
    straight.train(6)
    first = build_lab(tiny(*sets))
    first.train(3)
    save_checkpoint(first, tmp_path / "c.npz")
    resumed = load_checkpoint(tmp_path / "c.npz")
    resumed.train(3)
    np.testing.assert_array_equal(resumed.flat, straight.flat)


def test_parallel_and_serial_batches_agree():
    a = build_lab(tiny("train.parallel=true"))
    b = build_lab(tiny("train.parallel=false"))
    a.train(2)
    b.train(2)
    # To rounding, not bit for bit: the prange and the serial twin are compiled apart, and
    # with "reassoc" (kernels/ntm/flags.py) LLVM may vectorise their sums differently. In a
    # full CI run on a cold Numba cache they differed in the last bit (29 of 1,467 values,
    # <= 3e-16), though never in a run of this file alone.
    np.testing.assert_allclose(a.flat, b.flat, rtol=1e-13, atol=1e-15)


def test_non_finite_gradient_returns_nan_and_diverges():
    lab = build_lab(tiny())
    lab.parameters()["heads.bias"][0] = np.nan
    assert math.isnan(lab.train_one())
    with pytest.raises(Diverged, match="training diverged at update 1: loss = nan"):
        lab.train(1)


def test_frames_are_views_of_the_walk_and_never_run_the_model(monkeypatch):
    from tui_lab.labs import ntm

    lab = build_lab(tiny())
    walk = lab.walk()

    def refuse(*args, **kwargs):
        raise AssertionError("the model ran while a frame was built")

    monkeypatch.setattr(ntm, "forward", refuse)
    monkeypatch.setattr(lab, "run", refuse)
    flat, drawn = lab.flat.copy(), lab.view_count
    T = walk.length
    for t in (-1, 0, T // 2, T - 1, 0):
        frame = lab.frame(walk, t)
        assert frame.t == t and frame.T == T
        np.testing.assert_array_equal(frame.panel("memory M_t").values, walk.memory[t + 1].T)
        if t >= 0:
            np.testing.assert_array_equal(frame.panel("weightings").values, walk.weightings[t])
            np.testing.assert_array_equal(frame.panel("write 0 addressing").values,
                                          walk.stages[t, 1])  # fmt: skip
    assert lab.view_count == drawn and lab.train_step == 0  # a frame changes nothing
    np.testing.assert_array_equal(lab.flat, flat)
    # The memory rows are the trace's memory after each step: each write moves it.
    assert not np.array_equal(walk.memory[1], walk.memory[0])


def test_the_same_episode_is_walked_again_after_training():
    lab = build_lab(tiny())
    walk = lab.walk()
    lab.train(3)
    again = lab.walk(walk.input)
    np.testing.assert_array_equal(again.inputs, walk.inputs)
    assert not np.array_equal(again.outputs, walk.outputs)  # the new weights' outputs
    fresh = lab.walk()
    assert fresh.input is not walk.input


def _walked_and_stepped(steps, length) -> tuple[int, int]:
    """(bytes held after walking an episode of `length`, bytes added by stepping through
    all of it), by tracemalloc."""
    import tracemalloc

    tracemalloc.start()
    try:
        steps.reset(str(length))
        walked, _ = tracemalloc.get_traced_memory()
        for _ in range(steps.length):
            steps.step()
        now, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return walked, now - walked


def test_a_walk_holds_memory_linear_in_its_steps_and_stepping_adds_none():
    """Copy episodes of 100 and 400 vectors (T = 201 and 801) with the paper's 128 x 20
    memory in float64: ~30 kB a step. O(T) memory gives a ratio near 801 / 201 = 4;
    anything kept per frame or a trace of traces (O(T^2)) would be near 16."""
    from tui_lab.labs.ntm import trace_bytes

    lab = build_lab(tiny("model.slots=128", "model.width=20"))
    steps = Stepper(lab)
    steps.reset("5")  # the kernels' first call loads them: not the walk's memory
    short, short_stepped = _walked_and_stepped(steps, 100)
    long, long_stepped = _walked_and_stepped(steps, 400)
    assert steps.length == 801
    assert long / short < 4.5, (short, long)
    assert long < 1.2 * trace_bytes(lab.shape, 801, 8)  # the bound the docstring names
    assert short_stepped < 1e6 and long_stepped < 1e6, (short_stepped, long_stepped)


def test_an_episode_too_long_to_step_is_refused_with_the_limit():
    from tui_lab.labs.ntm import MAX_STEPPING_LENGTH, MAX_WALK_MB

    lab = build_lab(tiny())
    with pytest.raises(ValueError, match=f"stepping takes at most {MAX_STEPPING_LENGTH:,}"):
        Stepper(lab).reset(str(MAX_STEPPING_LENGTH + 1))
    with pytest.raises(ValueError, match="a whole number, not 'ten'"):
        Stepper(lab).reset("ten")
    huge = build_lab(tiny("model.slots=4096", "model.width=1024"))
    with pytest.raises(ValueError, match=f"stepping takes at most {MAX_WALK_MB} MB"):
        huge.walk("10")  # 21 steps of a 4096 x 1024 memory: ~0.7 GB


def test_histories_of_the_first_two_heads_of_each_kind_only():
    """Ten histories side by side (priority sort's five and five) left no room for a step."""
    lab = build_lab(tiny("model.read_heads=3", "model.write_heads=3"))
    frame = stepper(lab).step()
    histories = [p.name for p in frame.panels if p.name.endswith("weighting history")]
    assert histories == [
        "read 0 weighting history",
        "read 1 weighting history",
        "write 0 weighting history",
        "write 1 weighting history",
    ]
    assert "reads and writes 0-1 only" in frame.panel("read 0 weighting history").caption
    assert frame.panel("weightings").values.shape[0] == 6
