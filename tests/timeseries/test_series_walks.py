"""The time-series labs on the Walk protocol: walk() runs the model, frame(walk, t) only
slices the walk (no model call, no lab state changed), and a walk's memory is O(T x state)
with nothing kept per step."""

import tracemalloc

import numpy as np
import pytest

from tui_lab import registry
from tui_lab.labs.anomaly import AnomalyWalk
from tui_lab.labs.forecast import ForecastWalk
from tui_lab.labs.stepper import Stepper
from tui_lab.models import Recurrent
from tui_lab.registry import build_lab


def forecast_lab(*overrides):
    base = ["model.hidden=6", "train.epochs=1", "data.length=300", "rollout.steps=5"]
    return build_lab(registry.resolve("forecast-sine").with_overrides([*base, *overrides]))


def anomaly_lab(*overrides):
    base = ["model.hidden=6", "train.epochs=1"]
    return build_lab(registry.resolve("anomaly-sensor").with_overrides([*base, *overrides]))


def _no_model(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a frame ran the model")

    monkeypatch.setattr(Recurrent, "forward", refuse)


@pytest.mark.parametrize(
    "make, walk_type",
    [
        (lambda: forecast_lab("data.horizon=3"), ForecastWalk),
        (lambda: forecast_lab("model.cell=gru", "model.num_layers=2"), ForecastWalk),
        (anomaly_lab, AnomalyWalk),
    ],
)
def test_frames_come_from_the_walk_without_a_model_call(monkeypatch, make, walk_type):
    lab = make()
    lab.train(2)
    walk = lab.walk()
    assert isinstance(walk, walk_type)
    T = walk.length
    before = {t: lab.frame(walk, t) for t in (-1, 0, T // 2, T - 1)}
    state = dict(vars(lab))
    _no_model(monkeypatch)
    for t in range(-1, T):
        frame = lab.frame(walk, t)
        assert frame.t == t and frame.T == T
    for t, frame in before.items():
        again = lab.frame(walk, t)
        assert [panel.name for panel in again.panels] == [panel.name for panel in frame.panels]
        if t >= 0:
            state_panel = next(p for p in frame.panels if p.name.startswith("h_t"))
            np.testing.assert_array_equal(again.panel(state_panel.name).values, state_panel.values)
    assert vars(lab).keys() == state.keys()
    assert all(vars(lab)[key] is value for key, value in state.items()), "frame changed the lab"
    # The Stepper walks once and then only asks for frames: back, End, Home run no model.
    steps = Stepper(lab)
    monkeypatch.undo()
    steps.frame()
    _no_model(monkeypatch)
    assert steps.last().t == T - 1 and steps.back().t == T - 2 and steps.first().t == -1


def test_the_walk_holds_what_the_frames_show():
    """The stepped states are the model's own: a forward over the window, and over each
    rolled-out window (the last step of each)."""
    lab = forecast_lab("data.lookback=8")
    lab.train(2)
    walk = lab.walk(100)
    window = lab.values[92:100]
    assert walk.first == 100 and walk.input == 100 and walk.length == 8 + 5
    np.testing.assert_array_equal(walk.window, window)
    scaled = lab.scaler.transform(window).astype(np.float32)
    out, _ = lab.rnn.forward(scaled[:, None, None])
    np.testing.assert_allclose(walk.states[:8, 0, 0], out[:, 0], rtol=1e-5, atol=1e-7)
    fed = np.concatenate([window, walk.rollout[:3]])[-8:]
    out, _ = lab.rnn.forward(lab.scaler.transform(fed).astype(np.float32)[:, None, None])
    np.testing.assert_allclose(walk.states[8 + 2, 0, 0], out[-1, 0], rtol=1e-5, atol=1e-7)
    for array in (walk.window, walk.rollout, walk.states, walk.gates):
        assert not array.flags.writeable
    again = lab.walk(walk.input)  # the same input again (the Stepper after training)
    np.testing.assert_array_equal(again.states, walk.states)


def test_the_test_set_is_predicted_once_per_version_of_the_weights(monkeypatch):
    lab = anomaly_lab()
    calls = []
    forward = Recurrent.forward

    def counted(self, x, state=None):
        calls.append(x.shape[1])  # the batch: windows per call
        return forward(self, x, state)

    monkeypatch.setattr(Recurrent, "forward", counted)
    steps = Stepper(lab)
    steps.frame()
    tests, vals = len(lab.firsts["test"]), len(lab.firsts["val"])
    assert sorted(calls) == sorted([tests, vals])  # one batched call per split
    steps.last()
    lab.evaluate()
    assert len(calls) == 2
    lab.train(1)
    calls.clear()
    steps.frame()
    assert sorted(calls) == sorted([tests, vals])
    assert lab.set_value("detect.factor", 2.0)  # a new threshold: new flags, walked again
    assert steps.frame().panel("this step").values["threshold"] == pytest.approx(
        2.0 * np.abs(lab.net_on_splits()["val"] - lab.values[lab.firsts["val"]]).max(), abs=1e-5
    )


def _walk_and_step(steps, warm) -> tuple[int, int, int]:
    """(bytes held by the walk, bytes more after stepping it to the end, peak while
    stepping above the walk). `warm`: a small lab of the same kind, walked first, so the
    process's one-time costs (loading compiled kernels, threadpoolctl) are not counted."""
    Stepper(warm).frame()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        steps.frame()
        walked, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        for _ in range(steps.length):
            steps.step()
        now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert steps.t == steps.length - 1
    return walked - start, now - walked, peak - walked


def test_a_long_forecast_walk_holds_o_t_memory_and_nothing_per_step():
    """A rollout of 1,000 steps, the most a scenario allows (T = 1,008). states and gates
    of an LSTM of 8 are 384 bytes a step; with the strip's tokens the walk needs ~1 kB a
    step. Frames that kept a copy of the strip's traces per step (O(T^2)) would need
    ~0.4 GB."""
    lab = forecast_lab("model.hidden=8", "data.lookback=8", "rollout.steps=1000")
    held, grown, peak = _walk_and_step(Stepper(lab), forecast_lab("model.hidden=8"))
    T = 1008
    assert held < 3_000 * T, f"the walk holds {held / T:.0f} bytes a step"
    assert grown < 1e6, f"+{grown / 1e6:.1f} MB after stepping {T} steps"
    assert peak < 5e6


def test_a_long_anomaly_walk_holds_o_t_memory_and_nothing_per_step():
    """A test tail of 3,150 readings. The walk and the lab's cached test-set forward need
    ~0.5 kB a step; the model keeps the traces of its last forward (the test windows', for
    a backward: 24 steps x 37 floats = 3.5 kB a window) until the next training update.
    Nothing may be kept per step."""
    lab = anomaly_lab("data.length=9000")
    T = len(lab.firsts["test"])
    assert T == 3150
    held, grown, peak = _walk_and_step(Stepper(lab), anomaly_lab())
    assert held < 6_000 * T, f"the walk holds {held / T:.0f} bytes a step"
    assert grown < 1e6, f"+{grown / 1e6:.1f} MB after stepping {T} steps"
    assert peak < 5e6
