"""Frames for the time-series labs (forecast and anomaly): what a person sees per step.

Shared pieces: the loss plot (the h_t / gate matrices are in _state_panels, shared
with char_rnn). The forecast view: the input window read value by value, the
direct forecast against the truth, and the autoregressive rollout with its error growing.
"""

from __future__ import annotations

import numpy as np

from tui_lab.frames import Frame, Scalars, Sequence, Series
from tui_lab.labs._state_panels import collect_states, recurrent_panels, state_traces
from tui_lab.tasks import series as ts

BASELINES = ("naive", "seasonal naive", "mean")


def loss_panel(lab) -> Series:
    history = np.asarray(lab.loss_history[-2000:], dtype=np.float64)
    return Series("training loss", {"mse (scaled)": history}, x_label="update")


def title(lab) -> str:
    model = lab.scenario.section("model")
    layers = f" x{model['num_layers']}" if model["num_layers"] > 1 else ""
    return f"{lab.scenario.name} - {model['cell'].upper()} {model['hidden']}{layers}"


def fmt(value: float) -> str:
    return "?" if not np.isfinite(value) else f"{value:.4g}"


# ---- forecast stepping ----------------------------------------------------------------------
def compute_stepping(lab) -> dict:
    """Everything the stepping frames show, computed once per input and weights.

    Positions 0..L-1 read the window. At L-1 the net forecasts (rollout[0] is its first
    step). Position L+k feeds rollout[k] back in and predicts rollout[k+1].
    """
    L, R, H = lab.lookback, lab.scenario.get("rollout.steps"), lab.horizon
    window = np.asarray(lab.step_window, dtype=np.float64)
    forecast = lab.predict_raw(window[None])[0]
    read_states, read_gates = collect_states(lab.rnn, slice(None), 0)
    rollout = np.zeros(R + 1)
    rollout[0] = forecast[0]
    roll_states, roll_gates = [], []
    history = list(window)
    for k in range(R):
        history.append(rollout[k])
        rollout[k + 1] = lab.predict_raw(np.asarray(history[-L:])[None])[0, 0]
        states, gates = collect_states(lab.rnn, -1, 0)
        roll_states.append(states)
        roll_gates.append(gates)
    states = np.concatenate([read_states, np.array(roll_states).reshape(R, *read_states.shape[1:])])
    gates = np.concatenate([read_gates, np.array(roll_gates).reshape(R, *read_gates.shape[1:])])
    truth = lab.truth_after(max(H, R + 1))
    if lab.step_first is not None:
        firsts = np.array([lab.step_first])
        seasonal = ts.seasonal_naive_forecast(lab.values, firsts, H, lab.period)[0]
    elif lab.period <= L:
        seasonal = ts.seasonal_naive_forecast(window, np.array([L]), H, lab.period)[0]
    else:
        seasonal = np.full(H, np.nan)
    next_truth = np.concatenate([window[1:], truth[: R + 1]])
    return {
        "window": window,
        "forecast": forecast,
        "rollout": rollout,
        "truth": truth,
        "seasonal": seasonal,
        "states": states,
        "gates": gates,
        "tokens": tuple(fmt(v) for v in window) + tuple("~" + fmt(v) for v in rollout[:R]),
        "targets": tuple(fmt(v) for v in next_truth),
        "traces": state_traces(lab.rnn, states, gates),
    }


def _plot(lab, view: dict, t: int) -> Series:
    L, H, R = lab.lookback, lab.horizon, len(view["rollout"]) - 1
    P = L + max(H, R + 1)
    truth = np.concatenate([view["window"], view["truth"]])[:P]
    lines = {"truth": truth}
    forecast, rollout, seasonal = (np.full(P, np.nan) for _ in range(3))
    if t >= L - 1:
        forecast[L : L + H] = view["forecast"]
        seasonal[L : L + H] = view["seasonal"]
        shown = min(t - L + 2, R + 1)
        rollout[L : L + shown] = view["rollout"][:shown]
    lines.update({"forecast": forecast, "rollout": rollout, "seasonal naive": seasonal})
    if lab.step_first is not None:
        x = np.arange(lab.step_first - L, lab.step_first - L + P, dtype=np.float64)  # indices
    else:
        x = np.arange(-L, P - L, dtype=np.float64)  # steps from the forecast
    marker = t if t >= 0 else None
    return Series("forecast vs truth", lines, x_label="step", x_values=x, marker=marker)


def _error_panels(lab, view: dict, t: int) -> list:
    result = lab.test_forecasts()
    truth = result["truth"]
    steps = np.arange(1, lab.horizon + 1, dtype=np.float64)
    per_step = {name: np.abs(result[name] - truth).mean(axis=0) for name in ("net", *BASELINES)}
    panels = [
        Series("error per horizon step", per_step, x_label="horizon step", x_values=steps),
        Scalars(
            "test MAE",
            {name: round(float(np.mean(v)), 5) for name, v in per_step.items()},
        ),
    ]
    L = lab.lookback
    if t >= L - 1:
        shown = min(t - L + 2, len(view["rollout"]))
        rolled = np.abs(view["rollout"][:shown] - view["truth"][:shown])
        direct = np.full(shown, np.nan)
        count = min(shown, lab.horizon)
        direct[:count] = np.abs(view["forecast"][:count] - view["truth"][:count])
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


def _step_scalars(lab, view: dict, t: int) -> Scalars:
    L = lab.lookback
    if t < 0:
        return Scalars("this step", {"phase": "before the window", "lookback": L})
    if t < L:
        value = float(view["window"][t])
        shifted = value - view["window"][-1] if lab.relative else value
        values = {
            "phase": f"reading {t + 1}/{L}",
            "x_t": round(value, 5),
            "x_t scaled": round(float(lab.scaler.transform(shifted)), 5),
        }
        if t == L - 1:
            values.update(
                {
                    "forecast t+1": round(float(view["rollout"][0]), 5),
                    "truth t+1": fmt(view["truth"][0]),
                }
            )
        return Scalars("this step", values)
    k = t - L
    prediction, truth = view["rollout"][k + 1], view["truth"][k + 1]
    when = {}
    if (
        lab.step_first is not None
        and lab.dates is not None
        and lab.step_first + k + 1 < len(lab.dates)
    ):
        when = {"date": lab.dates[lab.step_first + k + 1]}
    return Scalars(
        "this step",
        {
            "phase": f"rollout {k + 1}/{len(view['rollout']) - 1}",
            "fed back": round(float(view["rollout"][k]), 5),
            "prediction": round(float(prediction), 5),
            "truth": fmt(truth),
            "|error|": fmt(abs(prediction - truth)),
            **when,
        },
    )


def forecast_frame(lab, t: int) -> Frame:
    view = lab.view
    sequence = Sequence(
        "input window", view["tokens"], t, traces=view["traces"], targets=view["targets"]
    )
    panels: list = [sequence, _step_scalars(lab, view, t)]
    if t >= 0:
        panels.extend(recurrent_panels(lab.rnn, view["states"][t], view["gates"][t]))
    panels.append(_plot(lab, view, t))
    panels.extend(_error_panels(lab, view, t))
    panels.append(loss_panel(lab))
    loss = lab.loss_history[-1] if lab.loss_history else None
    status = "press -> to read the window, then watch the rollout" if t < 0 else ""
    return Frame(
        title(lab),
        t,
        len(view["tokens"]),
        panels,
        train_step=lab.train_step,
        loss=loss,
        status=status,
    )
