"""The anomaly lab: anomalies only in the test tail, a threshold from validation errors,
flags scored against the injected anomalies, flagged steps marked on screen."""

import numpy as np
import pytest
from stepping import stepper

from tui_lab import registry
from tui_lab.registry import build_lab
from tui_lab.scenario import ScenarioError
from tui_lab.tasks import series as ts


def small(**extra):
    overrides = ["model.hidden=6", "train.epochs=1"]
    overrides += [f"{key}={value}" for key, value in extra.items()]
    return build_lab(registry.resolve("anomaly-sensor").with_overrides(overrides))


def test_training_and_validation_data_stay_clean():
    lab = small()
    lo, hi = lab.splits.bounds("test")
    np.testing.assert_array_equal(lab.values[:lo], lab.clean_values[:lo])
    assert not np.array_equal(lab.values[lo:], lab.clean_values[lo:])
    assert len(lab.events) == 10
    assert all(lo <= event.start and event.end <= hi for event in lab.events)
    assert [event.kind for event in lab.events[:3]] == ["spike", "level_shift", "frozen"]
    assert lab.scaler == ts.Scaler.fit(lab.clean_values[: lab.splits.train_end])


def test_threshold_comes_from_validation_errors_and_flags_exceed_it():
    lab = small(**{"detect.factor": 1.5})
    lab.train(4)
    found = lab.detection()
    val = lab.firsts["val"]
    val_errors = np.abs(lab.predict(lab.values, val)[:, 0] - lab.values[val])
    assert found["net"]["threshold"] == pytest.approx(1.5 * val_errors.max())
    test = lab.firsts["test"]
    errors = np.abs(lab.predict(lab.values, test)[:, 0] - lab.values[test])
    np.testing.assert_allclose(found["net"]["errors"], errors)
    np.testing.assert_array_equal(found["net"]["flagged"], errors > found["net"]["threshold"])
    naive_val = np.abs(lab.values[val] - lab.values[val - 1]).max()
    assert found["naive"]["threshold"] == pytest.approx(1.5 * naive_val)
    metrics = lab.evaluate()
    scores = ts.detection_scores(found["net"]["flagged"], test[0], lab.events, 24)
    assert metrics["precision"] == scores["precision"] and metrics["recall"] == scores["recall"]
    assert {"recall_spike", "recall_level_shift", "recall_frozen", "precision_naive"} <= set(
        metrics
    )


def test_a_live_threshold_change_refreshes_the_flags_on_screen():
    lab = small()
    lab.train(2)
    stepper(lab).step()
    before = lab.detection()["net"]["flagged"].sum()
    assert lab.set_value("detect.factor", 0.2) is True
    frame = stepper(lab).frame()
    after = lab.detection()["net"]["flagged"]
    assert after.sum() > before
    tokens = frame.panel("test tail").tokens
    assert [token.startswith("!") for token in tokens] == list(after)
    plot = frame.panel("signal and flags")
    flagged_line = plot.lines["flagged"]
    assert (np.isfinite(flagged_line) == after).all()
    injected = np.isfinite(plot.lines["injected"])
    assert injected.sum() == sum(event.end - event.start for event in lab.events)
    assert frame.panel("this step").values["threshold"] == pytest.approx(
        lab.detection()["net"]["threshold"], abs=1e-5
    )


def test_anomalies_that_do_not_fit_and_unknown_kinds_are_scenario_errors():
    with pytest.raises(
        ScenarioError,
        match="data.anomalies: 100 anomalies of 12 steps, 24 apart, do not fit in the 490-step test tail",
    ):
        small(**{"data.anomalies": 100})
    with pytest.raises(
        ScenarioError,
        match=r"data.kinds: expected a non-empty list from spike, level_shift, frozen, got \['spike', 'drift'\]",
    ):
        small(**{"data.kinds": '["spike", "drift"]'})
