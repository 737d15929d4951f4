"""The forecast lab: no leakage from the future into scaling, baselines beside the net,
gradients, exact resume, and the stepping frames (window, forecast, rollout)."""

import numpy as np
import pytest
from gradcheck import numeric_grad
from stepping import stepper

from tui_lab import registry
from tui_lab.frames import Matrix, Sequence, Series
from tui_lab.models import Linear, Recurrent
from tui_lab.registry import build_lab, load_checkpoint, save_checkpoint
from tui_lab.tasks import series as ts


def sine_lab(**extra):
    overrides = ["model.hidden=6", "train.epochs=1", "data.length=300", "rollout.steps=5"]
    overrides += [f"{key}={value}" for key, value in extra.items()]
    return build_lab(registry.resolve("forecast-sine").with_overrides(overrides))


def csv_lab(tmp_path, values, name, **extra):
    path = tmp_path / name
    path.write_text("t,v\n" + "".join(f"{k},{float(v)!r}\n" for k, v in enumerate(values)))
    overrides = [f"data.csv={path}", "data.column=v", "data.date_column=t", "data.lookback=6"]
    overrides += ["data.horizon=2", "model.hidden=4", "train.epochs=1"]
    overrides += [f"{key}={value}" for key, value in extra.items()]
    return build_lab(registry.resolve("forecast-co2").with_overrides(overrides))


@pytest.mark.parametrize("relative", [False, True])
def test_scaler_and_training_data_ignore_validation_and_test_values(tmp_path, relative):
    """Changing every value after the training split must not change the scaler, the
    training mean or the training windows: otherwise the future leaks into training."""
    base = 5.0 + np.sin(np.arange(200) / 3.0) + np.arange(200) * 0.01
    lab = csv_lab(tmp_path, base, "a.csv", **{"data.relative": str(relative).lower()})
    end = lab.splits.train_end
    changed = base.copy()
    changed[end:] = changed[end:] * 100.0 + 1000.0
    other = csv_lab(tmp_path, changed, "b.csv", **{"data.relative": str(relative).lower()})
    assert other.splits == lab.splits and end == 140
    assert other.scaler == lab.scaler and other.train_mean == lab.train_mean
    np.testing.assert_array_equal(other.train_x, lab.train_x)
    np.testing.assert_array_equal(other.train_y, lab.train_y)
    assert lab.train_mean == pytest.approx(base[:end].mean())
    if not relative:
        assert lab.scaler == ts.Scaler.fit(base[:end])
        assert lab.scaler != ts.Scaler.fit(base)  # would differ had it seen the whole series
    else:
        inputs, targets = ts.make_windows(base, lab.firsts["train"], 6, 2)
        changes = np.concatenate(
            [(inputs - inputs[:, -1:]).ravel(), (targets - inputs[:, -1:]).ravel()]
        )
        assert lab.scaler == ts.Scaler.fit(changes)


def test_evaluate_reports_the_net_beside_hand_computed_baselines():
    lab = sine_lab(**{"data.horizon": 3})
    lab.train(4)
    metrics = lab.evaluate()
    values, firsts = lab.values, lab.firsts["test"]
    truth = np.stack([values[firsts + k] for k in range(3)], axis=1)
    naive = np.abs(values[firsts - 1][:, None] - truth).mean()
    seasonal = np.stack([values[firsts + k - 24] for k in range(3)], axis=1)
    mean = values[: lab.splits.train_end].mean()
    assert metrics["mae_naive"] == pytest.approx(naive)
    assert metrics["mae_seasonal_naive"] == pytest.approx(np.abs(seasonal - truth).mean())
    assert metrics["mae_mean"] == pytest.approx(np.abs(mean - truth).mean())
    net = lab.predict(values, firsts)
    assert net.shape == (len(firsts), 3)
    assert metrics["mae"] == pytest.approx(np.abs(net - truth).mean(), rel=1e-6)
    assert metrics["rmse"] == pytest.approx(np.sqrt(((net - truth) ** 2).mean()), rel=1e-6)
    assert len(metrics["mae_per_step"]) == 3 and metrics["test_windows"] == len(firsts)
    beats = metrics["mae"] < metrics["mae_seasonal_naive"]
    assert metrics["beats_seasonal_naive"] is beats
    assert ("LSTM beats seasonal naive" if beats else "LSTM does NOT beat seasonal naive") in (
        metrics["verdict"]
    )


def test_lab_loss_gradient_matches_finite_differences_in_float64():
    """The MSE loss through the linear head and a stacked GRU, against central differences."""
    lab = sine_lab(**{"data.horizon": 2, "model.cell": "gru", "model.num_layers": 2})
    rng = np.random.default_rng(1)
    lab.rnn = Recurrent("gru", 1, 3, num_layers=2, dtype=np.float64, rng=rng)
    lab.head = Linear(3, 2, dtype=np.float64, rng=rng)
    params = {**lab.rnn.parameters(), "head.weight": lab.head.params["weight"]}
    params["head.bias"] = lab.head.params["bias"]
    batch = np.array([0, 5, 9])
    _, grads = lab.loss_and_grads(batch)
    for name in ("weight_ih_l0", "weight_hh_l1", "bias_hh_l0", "head.weight", "head.bias"):
        numeric = numeric_grad(lambda: lab.loss_and_grads(batch)[0], params[name])
        error = np.abs(grads[name] - numeric).max() / max(np.abs(numeric).max(), 1e-12)
        assert error < 1e-6, name


def test_resume_from_a_checkpoint_equals_an_uninterrupted_run(tmp_path):
    straight = sine_lab(**{"train.epochs": 2})
    straight.train(8)
    first = sine_lab(**{"train.epochs": 2})
    first.train(5)
    save_checkpoint(first, tmp_path / "c.npz")
    resumed = load_checkpoint(tmp_path / "c.npz")
    resumed.train(3)
    for name, value in straight.parameters().items():
        np.testing.assert_array_equal(resumed.parameters()[name], value)
    assert resumed.loss_history == straight.loss_history


def test_stepping_reads_the_window_then_forecasts_then_rolls_out():
    lab = sine_lab(**{"data.horizon": 3, "data.lookback": 8})
    lab.train(3)
    L = 8
    frame = stepper(lab).frame()
    assert frame.t == -1 and frame.T == L + 5
    window = lab.values[lab.firsts["test"][0] - L : lab.firsts["test"][0]]
    scaled = lab.scaler.transform(window).astype(np.float32)
    for _ in range(L):
        frame = stepper(lab).step()
    sequence = frame.panel("input window")
    assert isinstance(sequence, Sequence) and sequence.position == L - 1
    assert sequence.tokens[:L] == tuple(f"{v:.4g}" for v in window)
    out, (h, c) = lab.rnn.forward(scaled[:, None, None])
    state = frame.panel("h_t")
    assert isinstance(state, Matrix) and state.row_labels == ("c", "h")
    np.testing.assert_allclose(state.values[1], h[0, 0], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(sequence.traces["h0"][:L], out[:, 0], rtol=1e-5, atol=1e-7)
    plot = frame.panel("forecast vs truth")
    assert isinstance(plot, Series) and plot.marker == L - 1
    forecast = lab.predict_raw(window[None])[0]
    np.testing.assert_allclose(plot.lines["forecast"][L : L + 3], forecast)
    np.testing.assert_allclose(
        plot.lines["truth"][: L + 3], lab.values[lab.firsts["test"][0] - L :][: L + 3]
    )
    assert np.isnan(plot.lines["forecast"][:L]).all()
    # rollout: each step feeds the last prediction back as the newest input
    frame = stepper(lab).step()
    frame = stepper(lab).step()
    rollout = stepper(lab).walk.rollout
    fed = np.concatenate([window, rollout[:1]])[-L:]
    assert rollout[1] == pytest.approx(lab.predict_raw(fed[None])[0, 0])
    fed = np.concatenate([window, rollout[:2]])[-L:]
    assert rollout[2] == pytest.approx(lab.predict_raw(fed[None])[0, 0])
    assert frame.panel("input window").tokens[L].startswith("~")
    errors = frame.panel("rollout error").lines["rollout |error|"]
    truth = lab.values[lab.firsts["test"][0] :][:3]
    np.testing.assert_allclose(errors, np.abs(rollout[:3] - truth))
    per_step = frame.panel("error per horizon step")
    assert set(per_step.lines) == {"net", "naive", "seasonal naive", "mean"}
    assert stepper(lab).last().t == L + 4


def test_custom_inputs_and_training_refreshes_frames():
    lab = sine_lab()
    frame = stepper(lab).reset([0.1 * k for k in range(60)])
    assert frame.T == 48 + 5 and stepper(lab).walk.first is None
    with pytest.raises(ValueError, match="need at least 48 finite values"):
        stepper(lab).reset([1.0, 2.0])
    stepper(lab).reset(100)
    assert stepper(lab).walk.first == 100
    # text from the screen's prompt: the shown tokens, "~" marking rolled-out values
    frame = stepper(lab).reset(" ".join(["0.5"] * 47 + ["~1.25", "?"]))
    walk = stepper(lab).walk
    assert walk.first is None and walk.window[-1] == 1.25 and len(walk.window) == 48
    stepper(lab).reset("120")
    assert stepper(lab).walk.first == 120
    with pytest.raises(ValueError, match="expected numbers separated by spaces or commas"):
        stepper(lab).reset("1 2 x")
    with pytest.raises(ValueError, match="first forecast step must lie in"):
        stepper(lab).reset(3)
    stepper(lab).step()
    before = stepper(lab).frame().panel("h_t").values.copy()
    lab.train(3)
    assert not np.allclose(stepper(lab).frame().panel("h_t").values, before)


@pytest.mark.parametrize("cell, layers", [("rnn", 2), ("gru", 1)])
def test_plain_rnn_and_gru_cells_step_and_train(cell, layers):
    lab = sine_lab(**{"model.cell": cell, "model.num_layers": layers, "data.horizon": 2})
    lab.train(2)
    frame = stepper(lab).last()
    names = [panel.name for panel in frame.panels]
    if layers == 2:
        assert "h_t (layer 1)" in names and frame.panel("h_t (layer 1)").row_labels == ("h",)
    assert ("gates" in names) is (cell == "gru")
    assert np.isfinite(lab.evaluate()["mae"])


def test_co2_dates_label_the_test_tail():
    lab = build_lab(registry.resolve("forecast-co2").with_overrides(["model.hidden=4"]))
    span = lab.test_span()
    assert span == {"test_from": "1996-06", "test_to": "2001-12"}
    assert lab.splits.bounds("test") == (377, 444)
