"""The bundled time-series scenarios: each loads, trains a few updates headless, evaluates
and steps; the CLI writes the acceptance metrics; the anomaly scenario meets its bar."""

import json

import numpy as np
import pytest
from stepping import stepper

from tui_lab import cli, registry
from tui_lab.registry import build_lab

NAMES = ["forecast-sine", "forecast-co2", "forecast-random-walk", "anomaly-sensor"]


@pytest.mark.parametrize("name", NAMES)
def test_each_scenario_runs_a_few_updates_and_steps(name):
    loaded = registry.resolve(name)
    assert loaded.topic == "time series" and "{" not in loaded.description
    lab = build_lab(loaded.with_overrides(["model.hidden=8"]))
    lab.train(3)
    assert lab.train_step == 3 and all(np.isfinite(lab.loss_history))
    metrics = lab.evaluate()
    if loaded.kind == "forecast":
        assert {"mae", "rmse", "mae_naive", "mae_seasonal_naive", "mae_mean", "verdict"} <= set(
            metrics
        )
    else:
        assert {"precision", "recall", "precision_naive", "recall_naive"} <= set(metrics)
    for _ in range(3):
        frame = stepper(lab).step()
    assert frame.t == 2 and frame.panel("h_t").values.shape == (2, 8)


def test_cli_run_of_forecast_co2_writes_the_acceptance_metrics(tmp_path):
    out = tmp_path / "co2"
    code = cli.main(
        ["run", "forecast-co2", "--set", "train.epochs=1", "--out", str(out), "--quiet"]
    )
    assert code == 0
    metrics = json.loads((out / "summary.json").read_text())["metrics"]
    assert {"mae", "mae_seasonal_naive", "mae_naive", "mae_mean", "verdict"} <= set(metrics)
    rows = (out / "forecast.csv").read_text().splitlines()
    assert rows[0] == "first,step,truth,net,naive,seasonal_naive,mean"
    assert len(rows) == 1 + metrics["test_windows"] * 12


def test_anomaly_sensor_reaches_precision_and_recall_of_0_9_with_the_default_seed(tmp_path):
    out = tmp_path / "sensor"
    assert cli.main(["run", "anomaly-sensor", "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "summary.json").read_text())["metrics"]
    assert metrics["precision"] >= 0.9 and metrics["recall"] >= 0.9
    assert (out / "anomalies.csv").read_text().startswith("index,value,prediction,error,flagged")


def test_forecast_co2_lstm_beats_seasonal_naive_with_the_bundled_settings():
    """The acceptance run itself (about 20 s): the full scenario, default seed."""
    lab = build_lab(registry.resolve("forecast-co2"))
    lab.train(lab.total_train_steps())
    metrics = lab.evaluate()
    assert metrics["mae"] < 0.5 * metrics["mae_seasonal_naive"]
    assert metrics["mae"] < metrics["mae_naive"] and metrics["beats_seasonal_naive"] is True
    assert metrics["verdict"].startswith("LSTM beats seasonal naive")


def test_forecast_random_walk_does_not_beat_naive_beyond_noise():
    lab = build_lab(registry.resolve("forecast-random-walk"))
    lab.train(lab.total_train_steps())
    metrics = lab.evaluate()
    assert abs(metrics["naive_gap_z"]) < 2.0
    assert abs(metrics["mae"] - metrics["mae_naive"]) < 0.05 * metrics["mae_naive"]
    assert "level with naive within noise" in metrics["verdict"]
