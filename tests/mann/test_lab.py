"""The `mann` lab kind: scenario, walks and frames, training, metrics, the LSTM baseline."""

import tracemalloc

import numpy as np
import pytest

from tui_lab.frames import Matrix, Series
from tui_lab.labs import mann as mann_module
from tui_lab.labs.mann import accuracy_so_far
from tui_lab.labs.stepper import Stepper
from tui_lab.registry import build_lab, parse, resolve
from tui_lab.scenario import ScenarioError

TINY = """
[scenario]
name = "tiny one-shot"
kind = "mann"
topic = "memory networks"
seed = 2

[data]
size = 8
classes = 3
presentations = 4
train_glyphs = 20
test_glyphs = 10
eval_episodes = 20

[model]
hidden = 8
slots = 10
width = 4
heads = 2
dtype = "float64"

[train]
updates = 50
batch = 4
lr = 0.01
"""


def tiny(*sets):
    return parse(TINY, "tiny.toml").with_overrides(list(sets))


def test_bundled_scenario_is_the_papers_task():
    lab = build_lab(resolve("mann-one-shot"))
    assert lab.kind == "mann" and lab.scenario.topic == "memory networks"
    assert (lab.spec.classes, lab.spec.length, lab.spec.size) == (5, 50, 20)
    assert lab.shape.inputs == 20 * 20 + 5 and lab.shape.classes == 5
    assert lab.shape.heads >= 1
    baseline = build_lab(resolve("mann-one-shot").with_overrides(["model.controller_only=true"]))
    assert baseline.shape.heads == 0 and baseline.shape.hidden == lab.shape.hidden


@pytest.mark.parametrize(
    "settings, message",
    [
        (["data.min_strokes=5"], "tiny.toml: data.min_strokes = 5 is above data.max_strokes = 4"),
        (["model.heads=11"], "tiny.toml: model.heads = 11 need as many least-used slots"),
        (
            ["data.test_glyphs=2", "data.classes=9"],
            "tiny.toml: data.test_glyphs = 2 make 8 classes; an episode needs data.classes = 9",
        ),
    ],
)
def test_cross_field_errors(settings, message):
    with pytest.raises(ScenarioError, match=message.replace(".", r"\.")):
        build_lab(tiny(*settings))  # --set values skip parse()'s checks; the lab checks again


def test_frames_show_sample_label_memory_usage_and_weights():
    lab = build_lab(tiny())
    steps = Stepper(lab)
    start = steps.frame()
    assert start.t == -1 and start.T == 12
    assert start.panel("memory M_t").values.max() == pytest.approx(1e-6)
    frame = steps.go(5)
    walk = steps.walk
    sample = frame.panel("sample x_t")
    assert sample.shape == (8, 8) and sample.compact
    np.testing.assert_array_equal(sample.values, walk.samples[5])
    label_in = frame.panel("label in (one step late)")
    assert int(np.argmax(label_in.values)) == walk.labels[4]
    memory, usage = frame.panel("memory M_t"), frame.panel("usage u_t")
    reads, writes = frame.panel("read weights"), frame.panel("write weights")
    assert memory.shape == (4, 10) and usage.shape == (1, 10)
    assert reads.shape == writes.shape == (2, 10)
    slot = int(walk.least_used[5, 0])
    assert memory.focus == usage.focus == reads.focus == slot
    assert frame.panel("this step").values["least-used slot"] == slot
    np.testing.assert_allclose(reads.values.sum(1), 1.0)
    # usage after the step = gamma usage before + this step's read and write weights
    expected = 0.95 * walk.usage[5] + walk.w_read[6].sum(0) + walk.w_write[5].sum(0)
    np.testing.assert_allclose(usage.values[0], expected)
    curve = frame.panel("accuracy by presentation")
    assert isinstance(curve, Series)
    np.testing.assert_array_equal(curve.x_values, [1, 2, 3, 4])


def test_the_accuracy_curve_builds_up_over_the_episode():
    correct = np.array([1, 0, 1, 1, 0], bool)
    presentation = np.array([1, 1, 2, 2, 2])
    so_far = accuracy_so_far(correct, presentation, 3)
    assert so_far[0, 0] == 1.0 and np.isnan(so_far[0, 1])
    assert so_far[1, 0] == 0.5
    np.testing.assert_allclose(so_far[4], [0.5, 2 / 3, np.nan])
    lab = build_lab(tiny())
    steps = Stepper(lab)
    walk = steps.walk
    last = steps.last().panel("accuracy by presentation").lines["this episode so far"]
    hits = walk.guesses == walk.labels
    want = [hits[walk.presentation == p].mean() for p in range(1, 5)]
    np.testing.assert_allclose(last, want)


def test_frames_do_not_run_the_model(monkeypatch):
    lab = build_lab(tiny())
    steps = Stepper(lab)
    walk = steps.walk

    def refuse(*args, **kwargs):
        raise AssertionError("frame() ran the model")

    monkeypatch.setattr(mann_module, "forward", refuse)
    monkeypatch.setattr(mann_module, "make_episodes", refuse)
    for t in (-1, 0, 6, walk.length - 1):
        lab.frame(walk, t)


def test_a_walk_holds_o_t_x_state():
    """The walk of the bundled scenario (T = 50, memory 128 x 40 or whatever the scenario
    has) keeps one memory per step and little else: within 3x the memory trace itself."""
    lab = build_lab(resolve("mann-one-shot"))
    lab.walk(0)  # compile outside the measurement
    tracemalloc.start()
    try:
        walk = lab.walk(1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    s = lab.shape
    state = (s.slots * s.width + s.slots * (1 + 2 * s.heads) + s.hidden + 20 * 20) * 8
    assert walk.memory.shape == (51, s.slots, s.width)
    assert peak < 3 * 51 * state + 2e6, f"{peak / 1e6:.1f} MB for T = 50"


def test_a_reset_shows_a_new_episode_and_a_rewalk_the_same_one():
    lab = build_lab(tiny())
    steps = Stepper(lab)
    first = steps.walk
    lab.train(1)
    again = steps.walk
    assert again is not first and again.input == first.input
    np.testing.assert_array_equal(again.samples, first.samples)
    steps.reset()
    assert steps.walk.input != first.input
    assert not np.array_equal(steps.walk.samples, first.samples)


def test_training_lowers_the_loss_and_evaluate_reports_presentations():
    lab = build_lab(tiny())
    before = lab.score("test", 20)[1]
    lab.train(50)
    metrics = lab.evaluate()
    assert metrics["loss"] < before
    assert set(metrics) >= {"accuracy_1st", "accuracy_2nd", "accuracy_3rd", "chance"}
    assert "accuracy_5th" not in metrics  # 4 presentations per class
    assert len(metrics["accuracy_by_presentation"]) == 4
    assert metrics["accuracy_2nd"] == metrics["accuracy_by_presentation"][1]
    assert metrics["train_episodes"] == 200
    frame = Stepper(lab).frame()
    assert "held-out (last evaluation)" in frame.panel("accuracy by presentation").lines


def test_controller_only_is_a_plain_lstm():
    lab = build_lab(tiny("model.controller_only=true"))
    assert lab.shape.heads == 0 and "heads.weight" not in lab.parameters()
    frame = Stepper(lab).go(3)
    names = {p.name for p in frame.panels}
    assert "memory M_t" not in names and "sample x_t" in names and "p(label)" in names
    assert all(not (isinstance(p, Matrix) and p.group == "memory") for p in frame.panels)
    lab.train(2)
