"""tasks.series: generated series, chronological splits, windows, scaling, baselines and
injected anomalies, checked against hand-worked numbers."""

import numpy as np
import pytest

from tui_lab.tasks import series as ts


def test_splits_are_chronological_and_cover_the_series_once():
    splits = ts.chronological_splits(100, 0.15, 0.15)
    assert (splits.train_end, splits.val_end, splits.n) == (70, 85, 100)
    assert splits.bounds("train") == (0, 70)
    assert splits.bounds("val") == (70, 85)
    assert splits.bounds("test") == (85, 100)


def test_windows_take_targets_from_their_split_and_inputs_only_from_the_past():
    values = np.arange(100, dtype=np.float64)
    splits = ts.chronological_splits(100, 0.15, 0.15)
    lookback, horizon = 5, 3
    seen_targets = []
    for name in ("train", "val", "test"):
        lo, hi = splits.bounds(name)
        firsts = ts.window_firsts(lo, hi, lookback, horizon)
        inputs, targets = ts.make_windows(values, firsts, lookback, horizon)
        assert targets.min() >= lo and targets.max() < hi
        # every input is strictly before the window's first target (values == indices here)
        assert (inputs.max(axis=1) < targets[:, 0]).all()
        np.testing.assert_array_equal(inputs[0], np.arange(firsts[0] - 5, firsts[0]))
        np.testing.assert_array_equal(targets[0], np.arange(firsts[0], firsts[0] + 3))
        seen_targets.append(targets[:, 0])
    train, _, test = seen_targets
    assert train.max() < test.min()
    # the training windows never read validation or test values
    train_inputs, _ = ts.make_windows(values, ts.window_firsts(0, 70, 5, 3), 5, 3)
    assert train_inputs.max() < 70
    assert ts.window_firsts(0, 70, 5, 3)[[0, -1]].tolist() == [5, 67]


def test_min_rows_is_the_fewest_rows_with_a_window_in_every_split():
    need = ts.min_rows(4, 2, 0.2, 0.2)
    for n, expect in ((need - 1, False), (need, True)):
        splits = ts.chronological_splits(n, 0.2, 0.2)
        ok = all(
            len(ts.window_firsts(*splits.bounds(name), 4, 2)) for name in ("train", "val", "test")
        )
        assert ok is expect


def test_baselines_on_a_hand_checked_series():
    values = np.array([10.0, 20, 30, 11, 21, 31, 12, 22, 32, 13])
    firsts = np.array([6, 7])
    # naive: the last value before the window's first target, for every step ahead
    np.testing.assert_array_equal(
        ts.naive_forecast(values, firsts, 4), [[31, 31, 31, 31], [12, 12, 12, 12]]
    )
    # seasonal naive, season 3: one season back, then the last observed season repeats
    # first 6: targets 6,7,8,9 <- values[3], [4], [5], then [3] again (k=3 is two seasons back)
    np.testing.assert_array_equal(
        ts.seasonal_naive_forecast(values, firsts, 4, 3), [[11, 21, 31, 11], [21, 31, 12, 21]]
    )
    np.testing.assert_array_equal(ts.mean_forecast(2.5, 2, 3), np.full((2, 3), 2.5))


def test_scaler_fits_mean_and_std_and_inverts():
    train = np.array([1.0, 2.0, 3.0, 4.0])
    scaler = ts.Scaler.fit(train)
    assert scaler.mean == 2.5 and scaler.std == pytest.approx(np.sqrt(1.25))
    x = np.array([0.0, 7.5, -3.0])
    np.testing.assert_allclose(scaler.inverse(scaler.transform(x)), x, atol=1e-12)
    np.testing.assert_allclose(scaler.transform(train).mean(), 0.0, atol=1e-12)
    assert ts.Scaler.fit(np.array([2.0, -2.0]), center=False) == ts.Scaler(0.0, 2.0)
    assert ts.Scaler.fit(np.ones(3)).std == 1.0  # a constant series does not divide by 0


def test_generated_series_are_deterministic_and_shaped_as_described():
    for kind in ts.GENERATED:
        a = ts.generate(kind, 300, 12, 0.1, seed=3)
        assert a.shape == (300,) and np.isfinite(a).all()
        np.testing.assert_array_equal(a, ts.generate(kind, 300, 12, 0.1, seed=3))
        assert not np.array_equal(a, ts.generate(kind, 300, 12, 0.1, seed=4))
    clean = ts.generate("sine", 48, 12, 0.0, seed=0)
    np.testing.assert_allclose(clean, np.sin(2 * np.pi * np.arange(48) / 12), atol=1e-12)
    walk = ts.generate("random_walk", 500, 12, 1.0, seed=0)
    steps = np.diff(walk)
    assert 0.85 < steps.std() < 1.15 and abs(np.corrcoef(steps[:-1], steps[1:])[0, 1]) < 0.15
    trend = ts.generate("trend_seasonal", 480, 12, 0.0, seed=0)
    assert trend[-12:].mean() - trend[:12].mean() == pytest.approx(0.5 * 468 / 12, rel=1e-6)


def test_injected_anomalies_change_only_their_spans_inside_the_given_range():
    values = np.sin(np.arange(400) / 5.0)
    rng = np.random.default_rng(0)
    out, events = ts.inject_anomalies(
        values, 200, 400, 6, ("spike", "level_shift", "frozen"), 2.0, 10, 20, rng
    )
    assert [e.kind for e in events] == ["spike", "level_shift", "frozen"] * 2
    changed = np.zeros(400, dtype=bool)
    for event in events:
        assert 200 <= event.start and event.end <= 400
        span = slice(event.start, event.end)
        changed[span] = True
        if event.kind == "spike":
            assert event.end - event.start == 1
            assert abs(out[event.start] - values[event.start]) == pytest.approx(2.0)
        elif event.kind == "level_shift":
            np.testing.assert_allclose(np.abs(out[span] - values[span]), 2.0)
        else:
            np.testing.assert_array_equal(out[span], values[event.start])
    np.testing.assert_array_equal(out[~changed], values[~changed])
    starts = [e.start for e in events]
    assert all(b - a >= 20 for a, b in zip(starts, starts[1:], strict=False))
    with pytest.raises(ValueError, match="do not fit"):
        ts.inject_anomalies(values, 200, 400, 20, ("frozen",), 1.0, 10, 20, rng)


def test_detection_scores_on_a_hand_worked_case():
    events = [
        ts.Anomaly("spike", 102, 103),
        ts.Anomaly("frozen", 110, 114),
        ts.Anomaly("spike", 130, 131),
    ]
    flagged = np.zeros(40, dtype=bool)  # step j is series index 100 + j
    flagged[[2, 4, 11, 20]] = True  # 102 on a spike, 104 just after it, 111 inside, 120 stray
    scores = ts.detection_scores(flagged, 100, events, tolerance=3)
    assert scores["recall"] == pytest.approx(2 / 3)  # the spike at 130 was missed
    assert scores["precision"] == pytest.approx(3 / 4)  # 120 is 6 after 114: beyond tolerance
    assert scores["point_precision"] == pytest.approx(2 / 4)  # 102 and 111 lie inside spans
    assert scores["point_recall"] == pytest.approx(2 / 6)  # of 102, 110..113, 130
    assert (scores["flagged"], scores["found"], scores["anomalies"]) == (4, 2, 3)
    none = ts.detection_scores(np.zeros(40, dtype=bool), 100, events, 3)
    assert none["precision"] == 0.0 and none["recall"] == 0.0
