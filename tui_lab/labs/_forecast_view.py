"""Frames for the time-series labs (forecast and anomaly): what a person sees per step.

Free functions on plain arguments: a walk (forecast.ForecastWalk, anomaly.AnomalyWalk),
the step t, and the lab's settings and loss history. Nothing here runs the model: the
walks hold every array a frame shows, and a frame slices them. The h_t / gate matrices
and the strip's traces come from _state_panels (shared with char_rnn and sequence).

The forecast view: the input window read value by value, the direct forecast against the
truth, and the autoregressive rollout with its error growing. The anomaly view: the test
tail stepped reading by reading, the prediction error against the threshold, the flags.
"""

from __future__ import annotations

import numpy as np

from tui_lab.frames import Frame, Scalars, Sequence, Series
from tui_lab.labs._state_panels import recurrent_panels

BASELINES = ("naive", "seasonal naive", "mean")
ZOOM = 48  # steps either side of t in the anomaly lab's "around t" plot


def loss_panel(loss_history) -> Series:
    history = np.asarray(loss_history[-2000:], dtype=np.float64)
    return Series("training loss", {"mse (scaled)": history}, x_label="update")


def title(scenario) -> str:
    model = scenario.section("model")
    layers = f" x{model['num_layers']}" if model["num_layers"] > 1 else ""
    return f"{scenario.name} - {model['cell'].upper()} {model['hidden']}{layers}"


def fmt(value: float) -> str:
    return "?" if not np.isfinite(value) else f"{value:.4g}"


def _frame(title_text, t, T, panels, loss_history, train_step, status) -> Frame:
    loss = loss_history[-1] if loss_history else None
    return Frame(title_text, t, T, panels, train_step=train_step, loss=loss, status=status)


# ---- forecast -------------------------------------------------------------------------------
# Positions 0..L-1 read the window. At L-1 the net forecasts (rollout[0] is its first step).
# Position L+k feeds rollout[k] back in and predicts rollout[k+1].


def forecast_frame(walk, t: int, *, rnn, title, loss_history, train_step, dates) -> Frame:
    """The forecast lab's frame at step t of a ForecastWalk. rnn: the model (its shape
    names the h_t and gate panels); dates: the series' date labels or None."""
    sequence = Sequence("input window", walk.tokens, t, traces=walk.traces, targets=walk.targets)
    panels: list = [sequence, _step_scalars(walk, t, dates)]
    if t >= 0:
        panels.extend(recurrent_panels(rnn, walk.states[t], walk.gates[t]))
    panels.append(_plot(walk, t))
    panels.extend(_error_panels(walk, t))
    panels.append(loss_panel(loss_history))
    status = "press -> to read the window, then watch the rollout" if t < 0 else ""
    return _frame(title, t, walk.length, panels, loss_history, train_step, status)


def _plot(walk, t: int) -> Series:
    L, H, R = len(walk.window), len(walk.forecast), len(walk.rollout) - 1
    P = L + max(H, R + 1)
    truth = np.concatenate([walk.window, walk.truth])[:P]
    lines = {"truth": truth}
    forecast, rollout, seasonal = (np.full(P, np.nan) for _ in range(3))
    if t >= L - 1:
        forecast[L : L + H] = walk.forecast
        seasonal[L : L + H] = walk.seasonal
        shown = min(t - L + 2, R + 1)
        rollout[L : L + shown] = walk.rollout[:shown]
    lines.update({"forecast": forecast, "rollout": rollout, "seasonal naive": seasonal})
    if walk.first is not None:
        x = np.arange(walk.first - L, walk.first - L + P, dtype=np.float64)  # indices
    else:
        x = np.arange(-L, P - L, dtype=np.float64)  # steps from the forecast
    marker = t if t >= 0 else None
    return Series("forecast vs truth", lines, x_label="step", x_values=x, marker=marker)


def _error_panels(walk, t: int) -> list:
    per_step = walk.test_errors
    steps = np.arange(1, len(walk.forecast) + 1, dtype=np.float64)
    panels = [
        Series("error per horizon step", per_step, x_label="horizon step", x_values=steps),
        Scalars(
            "test MAE",
            {name: round(float(np.mean(v)), 5) for name, v in per_step.items()},
        ),
    ]
    L = len(walk.window)
    if t >= L - 1:
        shown = min(t - L + 2, len(walk.rollout))
        rolled = np.abs(walk.rollout[:shown] - walk.truth[:shown])
        direct = np.full(shown, np.nan)
        count = min(shown, len(walk.forecast))
        direct[:count] = np.abs(walk.forecast[:count] - walk.truth[:count])
        x = np.arange(1, shown + 1, dtype=np.float64)
        panels.append(
            Series(
                "rollout error",
                {"rollout |error|": rolled, "direct |error|": direct},
                x_label="rollout step",
                x_values=x,
            )
        )
    return panels


def _step_scalars(walk, t: int, dates) -> Scalars:
    L = len(walk.window)
    if t < 0:
        return Scalars("this step", {"phase": "before the window", "lookback": L})
    if t < L:
        values = {
            "phase": f"reading {t + 1}/{L}",
            "x_t": round(float(walk.window[t]), 5),
            "x_t scaled": round(float(walk.scaled[t]), 5),
        }
        if t == L - 1:
            values.update(
                {
                    "forecast t+1": round(float(walk.rollout[0]), 5),
                    "truth t+1": fmt(walk.truth[0]),
                }
            )
        return Scalars("this step", values)
    k = t - L
    prediction, truth = walk.rollout[k + 1], walk.truth[k + 1]
    when = {}
    if walk.first is not None and dates is not None and walk.first + k + 1 < len(dates):
        when = {"date": dates[walk.first + k + 1]}
    return Scalars(
        "this step",
        {
            "phase": f"rollout {k + 1}/{len(walk.rollout) - 1}",
            "fed back": round(float(walk.rollout[k]), 5),
            "prediction": round(float(prediction), 5),
            "truth": fmt(truth),
            "|error|": fmt(abs(prediction - truth)),
            **when,
        },
    )


# ---- anomaly --------------------------------------------------------------------------------
def anomaly_frame(walk, t: int, *, rnn, title, loss_history, train_step) -> Frame:
    """The anomaly lab's frame at step t of an AnomalyWalk (step t = test window t)."""
    sequence = Sequence("test tail", walk.tokens, t, traces=walk.traces)
    panels: list = [sequence]
    if t >= 0:
        panels.append(
            Scalars(
                "this step",
                {
                    "index": int(walk.x[t]),
                    "value": round(float(walk.signal[t]), 5),
                    "prediction": round(float(walk.prediction[t]), 5),
                    "|error|": round(float(walk.errors[t]), 5),
                    "threshold": round(walk.threshold, 5),
                    "flagged": "YES" if walk.flagged[t] else "no",
                    "injected": walk.injected[t] or "-",
                },
            )
        )
        panels.extend(recurrent_panels(rnn, walk.states[t], walk.gates[t]))
    panels.append(
        Scalars(
            "detection",
            {
                key: round(value, 4) if isinstance(value, float) else value
                for key, value in walk.scores.items()
            },
        )
    )
    panels.extend(_anomaly_plots(walk, t))
    panels.append(loss_panel(loss_history))
    status = "press -> to step along the test tail; flagged steps are marked !" if t < 0 else ""
    return _frame(title, t, walk.length, panels, loss_history, train_step, status)


def _anomaly_plots(walk, t: int) -> list:
    lines = walk.lines
    marker = t if t >= 0 else None
    panels = [
        Series("signal and flags", lines, x_label="test step", x_values=walk.x, marker=marker),
        Series(
            "prediction error",
            {"|error|": walk.errors, "threshold": walk.threshold_line},
            x_label="test step",
            x_values=walk.x,
            marker=marker,
        ),
    ]
    if t >= 0:
        lo, hi = max(0, t - ZOOM), min(len(walk.x), t + ZOOM)
        zoomed = {name: line[lo:hi] for name, line in lines.items()}
        panels.append(
            Series("around t", zoomed, x_label="test step", x_values=walk.x[lo:hi], marker=t - lo)
        )
    return panels
