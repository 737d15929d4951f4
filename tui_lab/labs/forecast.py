"""Forecasting: a recurrent net reads `lookback` values and predicts the next `horizon`.

horizon = 1 is many-to-one (the next value); horizon > 1 is sequence-to-sequence with a
direct multi-output head (one linear layer maps the last hidden state to all `horizon`
values at once). Loss: mean squared error on scaled values. The scaler is fitted on the
training split only; with data.relative each window is first made relative to its last
input value, so a trending series can be forecast beyond the range seen in training.

Every evaluation reports three baselines beside the net, on the same test windows: naive
(the last value), seasonal naive (the value one season ago) and the training mean. A net
that cannot beat seasonal naive is not worth its parameters, and `verdict` says so.

Stepping reads one window value by value (h_t and gates as it goes), shows the direct
forecast against the truth, then rolls out autoregressively: each prediction is fed back
as the newest input, so the error compounds on screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kernels import losses
from tui_lab.files import atomic_write_text
from tui_lab.frames import Frame
from tui_lab.interop import WEIGHTS
from tui_lab.labs import _blas
from tui_lab.labs import _forecast_view as view
from tui_lab.labs._state_panels import collect_states, state_traces
from tui_lab.labs._training import EpochTraining, make_optimizer
from tui_lab.labs.base import OWN_INPUT, Lab, Walk
from tui_lab.models import Linear, Recurrent, prefixed
from tui_lab.scenario import Field, ScenarioError
from tui_lab.tasks import series as ts

MODEL = {
    "cell": Field("str", "lstm", choices=("rnn", "lstm", "gru")),
    "hidden": Field("int", 32, min=1, max=1024),
    "num_layers": Field("int", 1, min=1, max=4, doc="stacked recurrent layers"),
    "nonlinearity": Field("str", "tanh", choices=("tanh", "relu"), doc="RNN cell only"),
    "weights": WEIGHTS,
}
TRAIN = {
    "optimizer": Field("str", "adam", choices=("adam", "sgd", "rmsprop")),
    "lr": Field("float", 0.005, min=1e-7, max=10.0, live=True),
    "epochs": Field("int", 20, min=1, max=100_000),
    "batch_size": Field("int", 32, min=1, max=65536),
    "clip": Field("float", 1.0, min=0.0, max=1e6, live=True, doc="global-norm clip; 0 = off"),
}
GENERATED_DATA = {
    "series": Field(
        "str", "sine", choices=ts.GENERATED, doc="the generated series (when data.csv is empty)"
    ),
    "length": Field("int", 1200, min=10, max=1_000_000, doc="steps of the generated series"),
    "period": Field(
        "int",
        24,
        min=1,
        max=100_000,
        doc="season length in steps: the generated period and the seasonal-naive lag",
    ),
    "noise": Field("float", 0.1, min=0.0, max=1000.0, doc="noise std of the generated series"),
}
WINDOW_DATA = {
    "lookback": Field("int", 24, min=1, max=2000, doc="input steps per window"),
    "val_fraction": Field("float", 0.15, min=0.01, max=0.45),
    "test_fraction": Field("float", 0.15, min=0.01, max=0.45, doc="the held-out tail"),
    "relative": Field(
        "bool",
        False,
        doc="inputs and targets minus the window's last value: learn changes, not levels",
    ),
}
SCHEMA = {
    "data": {
        **GENERATED_DATA,
        "csv": Field("path", "", doc="a CSV file to forecast (bundled:co2-monthly.csv ships)"),
        "column": Field("str", "", doc="the CSV column ('' = the only one besides the date)"),
        "date_column": Field("str", "", doc="an optional CSV column of dates, for labels"),
        **WINDOW_DATA,
        "horizon": Field(
            "int", 1, min=1, max=1000, doc="1 = many-to-one; more = seq2seq (direct head)"
        ),
    },
    "model": MODEL,
    "train": TRAIN,
    "rollout": {
        # Each rollout step is one model call (~0.5 ms), and a walk after training makes
        # them all again: 1,000 keeps that walk near half a second.
        "steps": Field("int", 24, min=0, max=1_000, doc="autoregressive steps when stepping"),
    },
}
MAX_UPDATES = 50_000_000


def load_values(scenario) -> tuple[np.ndarray, tuple[str, ...] | None, str]:
    """The scenario's series [n], its dates (CSV with a date column) and a label."""
    data = scenario.section("data")
    if data.get("csv"):
        # A path written in the scenario file is relative to that file; one given with
        # --set data.csv=PATH is relative to the working directory, as a shell user expects.
        from_command_line = any(
            o.split("=", 1)[0].strip() == "data.csv" for o in scenario.overrides
        )
        folder = scenario.path.parent if scenario.path and not from_command_line else None
        path = ts.resolve_csv_path(data["csv"], folder)
        try:
            read = ts.read_csv(path, data["column"], data["date_column"])
        except ScenarioError as error:
            raise ScenarioError(f"{scenario.source}: {error}") from None
        return read.values, read.dates, f"{path.name}:{read.column}"
    values = ts.generate(
        data["series"], data["length"], data["period"], data["noise"], scenario.seed
    )
    return values, None, data["series"]


def check_windows(scenario, n: int, horizon: int) -> None:
    """Enough rows for a window in every split, and a season that fits before the test."""
    data = scenario.section("data")
    lookback, val, test = data["lookback"], data["val_fraction"], data["test_fraction"]
    where = f"{scenario.source}: data"
    if val + test > 0.9:
        raise ScenarioError(f"{where}.val_fraction + test_fraction = {val + test:g}: at most 0.9")
    need = ts.min_rows(lookback, horizon, val, test)
    if n < need:
        what = f"data.csv: {data['csv']}" if data.get("csv") else "data.length"
        raise ScenarioError(
            f"{scenario.source}: {what}: {n} rows are too few for one window: lookback "
            f"{lookback} + horizon {horizon} in the training split and {horizon} targets in "
            f"each of validation and test need at least {need} rows"
        )
    splits = ts.chronological_splits(n, val, test)
    if data["period"] > splits.train_end:
        raise ScenarioError(
            f"{where}.period = {data['period']}: a season must fit in the training split "
            f"({splits.train_end} rows)"
        )


def check_updates(scenario, windows: int) -> None:
    train = scenario.section("train")
    updates = train["epochs"] * math.ceil(windows / train["batch_size"])
    if updates > MAX_UPDATES:
        raise ScenarioError(
            f"{scenario.source}: train.epochs: {updates:,} updates would run for days; "
            f"at most {MAX_UPDATES:,}"
        )


def check_scenario(scenario) -> None:
    values, _, _ = load_values(scenario)
    check_windows(scenario, len(values), scenario.get("data.horizon"))
    splits = ts.chronological_splits(
        len(values), scenario.get("data.val_fraction"), scenario.get("data.test_fraction")
    )
    check_updates(scenario, splits.train_end)


@dataclass(frozen=True)
class ForecastWalk(Walk):
    """One window read, forecast and rolled out. T = lookback + R (rollout.steps).

    input: the series index of the first forecast step, or the window's values when they
    are the user's. first: that index (None for the user's values). window [lookback]:
    the values read; scaled [lookback]: as the net sees them. forecast [horizon]: the
    direct forecast after the window; rollout [R + 1]: rollout[0] = forecast[0], and
    rollout[k + 1] is predicted with rollout[:k + 1] fed back as the newest inputs.
    truth [max(horizon, R + 1)]: the series after the window (NaN where unknown);
    seasonal [horizon]: seasonal naive's forecast. states [T, layers, 2, hidden] (h, then
    c for an LSTM) and gates [T, layers, G, hidden] after each step (a rollout step's:
    the last step of its window). test_errors: name -> mean |error| per horizon step
    [horizon] on the test windows, for the net and the baselines, at the walk's weights.
    traces, tokens, targets: the input strip's. All arrays read-only."""

    first: int | None = None
    window: np.ndarray | None = None
    scaled: np.ndarray | None = None
    forecast: np.ndarray | None = None
    rollout: np.ndarray | None = None
    truth: np.ndarray | None = None
    seasonal: np.ndarray | None = None
    states: np.ndarray | None = None
    gates: np.ndarray | None = None
    test_errors: dict = field(default_factory=dict)
    traces: dict = field(default_factory=dict)
    tokens: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()


class ForecastLab(EpochTraining, Lab):
    kind = "forecast"
    capabilities = frozenset({OWN_INPUT})

    def __init__(self, scenario):
        # Cross-field checks again: Scenario.with_overrides (--set) does not run them.
        self.check(scenario)
        super().__init__(scenario)
        self.clean_values, self.dates, self.label = load_values(scenario)
        data, model = scenario.section("data"), scenario.section("model")
        self.lookback, self.horizon = data["lookback"], self.horizon_of(scenario)
        self.period, self.relative = data["period"], data["relative"]
        self.splits = ts.chronological_splits(
            len(self.clean_values), data["val_fraction"], data["test_fraction"]
        )
        self.values = self.observed_values()
        self.firsts = {
            name: ts.window_firsts(*self.splits.bounds(name), self.lookback, self.horizon)
            for name in ("train", "val", "test")
        }
        self.train_mean = float(self.values[: self.splits.train_end].mean())
        self.scaler = self.fit_scaler()
        rng = np.random.default_rng(scenario.seed)
        self.rnn = Recurrent(
            model["cell"],
            1,
            model["hidden"],
            model["num_layers"],
            nonlinearity=model["nonlinearity"],
            rng=rng,
        )
        self.head = Linear(model["hidden"], self.horizon, rng=rng)
        self._params = {**self.rnn.parameters(), **prefixed("head", self.head.parameters())}
        self.optimizer = make_optimizer(self._params, self.scenario.section("train"))
        self.train_x, self.train_y = self.encode(self.values, self.firsts["train"])
        self._cache: dict = {}  # test-set forecasts at one version of the weights
        self._samples = 0  # fresh stepping inputs drawn (walk(None))

    check = staticmethod(check_scenario)

    # ---- data ------------------------------------------------------------------------
    @staticmethod
    def horizon_of(scenario) -> int:
        return scenario.get("data.horizon")

    def observed_values(self) -> np.ndarray:
        """The series the lab sees (the anomaly lab injects anomalies here)."""
        return self.clean_values

    def fit_scaler(self) -> ts.Scaler:
        """Fitted on the training split only: its values, or (relative) its windows' changes."""
        if not self.relative:
            return ts.Scaler.fit(self.values[: self.splits.train_end])
        inputs, targets = ts.make_windows(
            self.values, self.firsts["train"], self.lookback, self.horizon
        )
        last = inputs[:, -1:]
        return ts.Scaler.fit(np.concatenate([(inputs - last).ravel(), (targets - last).ravel()]))

    def encode(self, values: np.ndarray, firsts: np.ndarray):
        """Windows -> scaled float32 inputs [N, lookback] and targets [N, horizon]."""
        inputs, targets = ts.make_windows(values, firsts, self.lookback, self.horizon)
        if self.relative:
            last = inputs[:, -1:]
            inputs, targets = inputs - last, targets - last
        x = self.scaler.transform(inputs).astype(np.float32)
        return x, self.scaler.transform(targets).astype(np.float32)

    def decode(self, scaled: np.ndarray, raw_inputs: np.ndarray) -> np.ndarray:
        """Scaled predictions [N, horizon] -> original units."""
        out = self.scaler.inverse(scaled)
        return out + raw_inputs[:, -1:] if self.relative else out

    def predict_raw(self, raw_inputs: np.ndarray) -> np.ndarray:
        """Windows of values [N, lookback] in original units -> forecasts [N, horizon]."""
        shifted = raw_inputs - raw_inputs[:, -1:] if self.relative else raw_inputs
        x = self.scaler.transform(shifted).astype(np.float32)
        out, _ = self.rnn.forward(x.T[:, :, None])
        return self.decode(self.head.forward(out[-1]).astype(np.float64), raw_inputs)

    def predict(self, values: np.ndarray, firsts: np.ndarray, chunk: int = 4096) -> np.ndarray:
        """The net's forecasts [N, horizon] of the windows before firsts [N], in batches of
        `chunk` windows (one model call each)."""
        inputs, _ = ts.make_windows(values, firsts, self.lookback, self.horizon)
        with _blas.one_blas_thread():
            parts = [self.predict_raw(inputs[k : k + chunk]) for k in range(0, len(inputs), chunk)]
        return np.concatenate(parts) if parts else np.zeros((0, self.horizon))

    def weights_version(self) -> tuple[int, int]:
        """Changes whenever the weights may have: training, a checkpoint, imported weights."""
        return (self.train_step, self.revision)

    # ---- training ------------------------------------------------------------------
    def parameters(self) -> dict[str, np.ndarray]:
        return self._params

    def train_size(self) -> int:
        return len(self.train_x)

    def loss_and_grads(self, batch: np.ndarray):
        """MSE of a batch of training windows (scaled units) and its gradients."""
        x = self.train_x[batch].T[:, :, None]  # [T, B, 1]
        out, _ = self.rnn.forward(x)
        pred = self.head.forward(out[-1])  # [B, horizon]
        loss, d_pred = losses.mse(pred, self.train_y[batch])
        head_grads = self.head.backward(d_pred)
        d_out = np.zeros_like(out)
        d_out[-1] = head_grads["input"]
        grads = self.rnn.backward(d_out)
        grads = {name: grads[name] for name in self.rnn.parameters()}
        grads["head.weight"], grads["head.bias"] = head_grads["weight"], head_grads["bias"]
        return loss, grads

    # ---- evaluation -------------------------------------------------------------------
    def test_forecasts(self) -> dict[str, np.ndarray]:
        """Net and baseline forecasts [N, horizon] on the test windows, and the truth."""
        key = ("test", self.weights_version())
        if self._cache.get("key") != key:
            firsts, values = self.firsts["test"], self.values
            _, truth = ts.make_windows(values, firsts, self.lookback, self.horizon)
            self._cache = {
                "key": key,
                "truth": truth,
                "net": self.predict(values, firsts),
                "naive": ts.naive_forecast(values, firsts, self.horizon),
                "seasonal naive": ts.seasonal_naive_forecast(
                    values, firsts, self.horizon, self.period
                ),
                "mean": ts.mean_forecast(self.train_mean, len(firsts), self.horizon),
            }
        return self._cache

    def test_errors_per_step(self) -> dict[str, np.ndarray]:
        """name -> mean |error| per horizon step [horizon] on the test windows: the net's
        and the baselines' (read-only)."""
        result = self.test_forecasts()
        if "errors per step" not in result:
            names = ("net", *view.BASELINES)
            errors = {n: np.abs(result[n] - result["truth"]).mean(axis=0) for n in names}
            for error in errors.values():
                error.setflags(write=False)
            result["errors per step"] = errors
        return result["errors per step"]

    def evaluate(self) -> dict:
        result = self.test_forecasts()
        truth = result["truth"]
        errors = {
            name: np.abs(result[name] - truth)
            for name in ("net", "naive", "seasonal naive", "mean")
        }
        mae = {name: float(error.mean()) for name, error in errors.items()}
        cell = self.rnn.cell.upper()
        # Is the gap to naive more than noise? Standard error of the mean per-window
        # difference in absolute error (windows overlap, so this is only a rough guide).
        diff = (errors["naive"] - errors["net"]).mean(axis=1)
        se = float(diff.std(ddof=1) / math.sqrt(len(diff))) if len(diff) > 1 else math.inf
        gap_z = float(diff.mean() / se) if se > 0 else 0.0
        beats = mae["net"] < mae["seasonal naive"]
        if gap_z > 2.0:
            versus_naive = f"beats naive beyond noise (z = {gap_z:.1f})"
        elif gap_z < -2.0:
            versus_naive = f"is worse than naive beyond noise (z = {gap_z:.1f})"
        else:
            versus_naive = f"is level with naive within noise (z = {gap_z:.1f})"
        verdict = (
            f"{cell} {'beats' if beats else 'does NOT beat'} seasonal naive: test MAE "
            f"{mae['net']:.4g} vs {mae['seasonal naive']:.4g} (naive {mae['naive']:.4g}, "
            f"train mean {mae['mean']:.4g}); it {versus_naive}"
        )
        val = self.values
        val_truth = ts.make_windows(val, self.firsts["val"], self.lookback, self.horizon)[1]
        val_mae = float(np.abs(self.predict(val, self.firsts["val"]) - val_truth).mean())
        return {
            "mae": mae["net"],
            "rmse": float(np.sqrt(np.mean((result["net"] - truth) ** 2))),
            "mae_naive": mae["naive"],
            "mae_seasonal_naive": mae["seasonal naive"],
            "mae_mean": mae["mean"],
            "rmse_naive": float(np.sqrt(np.mean((result["naive"] - truth) ** 2))),
            "rmse_seasonal_naive": float(np.sqrt(np.mean((result["seasonal naive"] - truth) ** 2))),
            "beats_seasonal_naive": bool(beats),
            "skill_vs_naive": 1.0 - mae["net"] / mae["naive"] if mae["naive"] > 0 else 0.0,
            "naive_gap_z": gap_z,
            "mae_per_step": [float(v) for v in errors["net"].mean(axis=0)],
            "val_mae": val_mae,
            "verdict": verdict,
            "test_windows": len(truth),
            "series": self.label,
            **self.test_span(),
        }

    def test_span(self) -> dict:
        """The test tail's first and last dates (a CSV with a date column), else indices."""
        lo, hi = self.splits.bounds("test")
        if self.dates is not None:
            return {"test_from": self.dates[lo], "test_to": self.dates[hi - 1]}
        return {"test_from": lo, "test_to": hi - 1}

    def write_artifacts(self, out_dir: Path) -> list[str]:
        """forecast.csv: every test window's first target index, step ahead, truth, net and
        baseline forecasts."""
        result = self.test_forecasts()
        lines = ["first,step,truth,net,naive,seasonal_naive,mean"]
        for n, first in enumerate(self.firsts["test"]):
            for k in range(self.horizon):
                cells = [
                    result[name][n, k]
                    for name in ("truth", "net", "naive", "seasonal naive", "mean")
                ]
                lines.append(f"{first},{k + 1}," + ",".join(f"{v:.6g}" for v in cells))
        atomic_write_text(out_dir / "forecast.csv", "\n".join(lines) + "\n")
        return ["forecast.csv"]

    # ---- stepping -----------------------------------------------------------------------
    def walk(self, input=None) -> ForecastWalk:
        """Read one window value by value, forecast, then roll out: each rollout step reads
        the newest `lookback` values, its own earlier predictions among them.

        input: an int (the series index of the first forecast step), values (at least
        lookback of them; the last lookback are read) or a text of either (the screen's
        prompt). None: the first test window, then a random test window on each later
        None. The test-set figures shown beside come from one batched forward per
        weights (test_forecasts)."""
        first, window = self._stepping_window(input)
        L, R, H = self.lookback, self.scenario.get("rollout.steps"), self.horizon
        forecast = self.predict_raw(window[None])[0]
        read_states, read_gates = collect_states(self.rnn, slice(None), 0)  # [L, layers, ...]
        rollout = np.zeros(R + 1)
        rollout[0] = forecast[0]
        states = np.zeros((L + R, *read_states.shape[1:]))
        gates = np.zeros((L + R, *read_gates.shape[1:]))
        states[:L], gates[:L] = read_states, read_gates
        history = np.concatenate([window, np.zeros(R)])
        for k in range(R):
            history[L + k] = rollout[k]
            rollout[k + 1] = self.predict_raw(history[k + 1 : L + k + 1][None])[0, 0]
            states[L + k], gates[L + k] = collect_states(self.rnn, -1, 0)
        truth = self._truth_after(first, max(H, R + 1))
        if first is not None:
            seasonal = ts.seasonal_naive_forecast(self.values, np.array([first]), H, self.period)
        elif self.period <= L:
            seasonal = ts.seasonal_naive_forecast(window, np.array([L]), H, self.period)
        else:
            seasonal = np.full((1, H), np.nan)
        shifted = window - window[-1] if self.relative else window
        next_truth = np.concatenate([window[1:], truth[: R + 1]])
        arrays = {
            "window": window,
            "scaled": np.asarray(self.scaler.transform(shifted), dtype=np.float64),
            "forecast": forecast,
            "rollout": rollout,
            "truth": truth,
            "seasonal": seasonal[0],
            "states": states,
            "gates": gates,
        }
        for array in arrays.values():
            array.setflags(write=False)
        rolled = tuple("~" + view.fmt(v) for v in rollout[:R])  # "~": the net's own values
        return ForecastWalk(
            first if first is not None else window,
            L + R,
            first=first,
            **arrays,
            test_errors=self.test_errors_per_step(),
            traces=state_traces(self.rnn, states, gates),
            tokens=tuple(view.fmt(v) for v in window) + rolled,
            targets=tuple(view.fmt(v) for v in next_truth),
        )

    def _stepping_window(self, input) -> tuple[int | None, np.ndarray]:
        """The walk's input -> (the series index of the first forecast step or None, the
        window's values [lookback])."""
        if isinstance(input, str):
            input = parse_values(input)
        if input is None:
            tests = self.firsts["test"]
            if self._samples == 0:
                input = int(tests[0])
            else:
                pick = np.random.default_rng([self.scenario.seed, 31, self._samples])
                input = int(tests[pick.integers(len(tests))])
            self._samples += 1
        if isinstance(input, int | np.integer):
            first = int(input)
            if not self.lookback <= first < len(self.values):
                raise ValueError(
                    f"the first forecast step must lie in [{self.lookback}, {len(self.values)})"
                )
            return first, self.values[first - self.lookback : first].copy()
        window = np.asarray(input, dtype=np.float64).ravel()
        if len(window) < self.lookback or not np.isfinite(window).all():
            raise ValueError(f"need at least {self.lookback} finite values")
        return None, window[-self.lookback :].copy()

    def _truth_after(self, first: int | None, count: int) -> np.ndarray:
        """The true values from the first forecast step on (NaN where unknown) [count]."""
        truth = np.full(count, np.nan)
        if first is not None:
            known = self.values[first : first + count]
            truth[: len(known)] = known
        return truth

    def frame(self, walk: ForecastWalk, t: int) -> Frame:
        return view.forecast_frame(
            walk,
            t,
            rnn=self.rnn,
            title=view.title(self.scenario),
            loss_history=self.loss_history,
            train_step=self.train_step,
            dates=self.dates,
        )

    def warmup_tasks(self):
        return [
            ("forward + backward + loss", lambda: self.loss_and_grads(np.arange(1))),
            ("BLAS thread control", _blas.prepare),
        ]


def parse_values(text: str):
    """Text typed at the prompt -> an int (a series index) or a list of floats.

    Values are separated by spaces or commas; the screen's own markers ("~" on rolled-out
    predictions) are dropped, and "?" (an unknown value) is skipped."""
    words = [w.lstrip("~!") for w in text.replace(",", " ").split() if w.strip("~!?")]
    if len(words) == 1 and words[0].lstrip("-").isdigit():
        return int(words[0])
    try:
        return [float(word) for word in words]
    except ValueError as error:
        raise ValueError(f"expected numbers separated by spaces or commas: {error}") from None


LAB = ForecastLab
HEADLINE_METRICS = ("mae", "mae_seasonal_naive", "skill_vs_naive")
