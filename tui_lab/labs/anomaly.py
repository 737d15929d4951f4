"""Anomaly detection by prediction error: a forecaster trained on normal data flags the steps
it cannot predict.

The generated series is clean in the training and validation splits; the test tail gets
injected anomalies (spikes, level shifts, a frozen sensor). A one-step forecaster (the
forecast lab's model, horizon 1) is trained on the training split; the threshold is a
quantile of its absolute errors on the validation split, times a factor; a test step whose
error exceeds it is flagged. Precision and recall are measured against the injected
anomalies (see tasks.series.detection_scores), beside a naive detector that thresholds
|x_t - x_(t-1)| the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tui_lab.files import atomic_write_text
from tui_lab.frames import Frame
from tui_lab.labs import _forecast_view as view
from tui_lab.labs import forecast
from tui_lab.labs._blas import one_blas_thread
from tui_lab.labs._state_panels import collect_states
from tui_lab.labs.base import Walk
from tui_lab.scenario import Field, ScenarioError
from tui_lab.tasks import series as ts

SCHEMA = {
    "data": {
        **forecast.GENERATED_DATA,
        **forecast.WINDOW_DATA,
        "anomalies": Field("int", 12, min=1, max=10_000, doc="anomalies injected in the test tail"),
        "kinds": Field(
            "str_list", list(ts.ANOMALY_KINDS), doc="taken in turn: spike, level_shift, frozen"
        ),
        "size": Field(
            "float",
            1.0,
            min=0.0,
            max=1000.0,
            doc="spike and level-shift size, in training-split standard deviations",
        ),
        "anomaly_length": Field("int", 12, min=1, max=10_000, doc="steps of a shift or freeze"),
    },
    "model": forecast.MODEL,
    "train": forecast.TRAIN,
    "detect": {
        "quantile": Field(
            "float",
            1.0,
            min=0.5,
            max=1.0,
            live=True,
            doc="of the validation errors (1.0 = their maximum)",
        ),
        "factor": Field("float", 1.0, min=0.01, max=100.0, live=True, doc="threshold multiplier"),
        "tolerance": Field(
            "int",
            24,
            min=0,
            max=10_000,
            doc="steps after an anomaly in which a flag still counts (it stays in the window)",
        ),
    },
}


PREDICT_CHUNK = 4096  # test windows per model call (as ForecastLab.predict)


def check_scenario(scenario) -> None:
    data = scenario.section("data")
    unknown = sorted(set(data["kinds"]) - set(ts.ANOMALY_KINDS))
    if unknown or not data["kinds"]:
        raise ScenarioError(
            f"{scenario.source}: data.kinds: expected a non-empty list from "
            f"{', '.join(ts.ANOMALY_KINDS)}, got {data['kinds']!r}"
        )
    forecast.check_windows(scenario, data["length"], 1)
    splits = ts.chronological_splits(data["length"], data["val_fraction"], data["test_fraction"])
    room = (splits.n - splits.val_end) // data["anomalies"]
    if room < data["anomaly_length"] + data["lookback"]:
        raise ScenarioError(
            f"{scenario.source}: data.anomalies: {data['anomalies']} anomalies of "
            f"{data['anomaly_length']} steps, {data['lookback']} apart, do not fit in the "
            f"{splits.n - splits.val_end}-step test tail"
        )
    forecast.check_updates(scenario, splits.train_end)


@dataclass(frozen=True)
class AnomalyWalk(Walk):
    """The test tail, one step per test reading (T of them); input is None (the tail is
    the lab's own). x [T]: the series index of each reading; signal, prediction, errors
    [T]: its value, the net's one-step forecast and |error|; flagged [T] bool: error >
    threshold; injected [T]: the injected anomaly's kind or "". states [T, layers, 2,
    hidden] and gates [T, layers, G, hidden]: the net's after reading the window before
    each reading. lines: the plots' lines [T] (signal, prediction, flagged, injected);
    threshold_line [T]; scores: detection_scores of the flags. tokens and traces (h only):
    the strip's. All arrays read-only."""

    x: np.ndarray | None = None
    signal: np.ndarray | None = None
    prediction: np.ndarray | None = None
    errors: np.ndarray | None = None
    flagged: np.ndarray | None = None
    injected: np.ndarray | None = None
    states: np.ndarray | None = None
    gates: np.ndarray | None = None
    threshold: float = 0.0
    threshold_line: np.ndarray | None = None
    lines: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    tokens: tuple[str, ...] = ()
    traces: dict = field(default_factory=dict)


class AnomalyLab(forecast.ForecastLab):
    kind = "anomaly"
    capabilities = frozenset()  # it steps along its own test tail
    check = staticmethod(check_scenario)

    @staticmethod
    def horizon_of(scenario) -> int:
        return 1

    def observed_values(self) -> np.ndarray:
        """The clean series with anomalies injected into the test tail only."""
        data = self.scenario.section("data")
        lo, hi = self.splits.bounds("test")
        scale = float(self.clean_values[: self.splits.train_end].std())
        values, self.events = ts.inject_anomalies(
            self.clean_values,
            lo,
            hi,
            data["anomalies"],
            tuple(data["kinds"]),
            data["size"] * scale,
            data["anomaly_length"],
            data["lookback"],
            np.random.default_rng([self.scenario.seed, 104729]),
        )
        return values

    # ---- detection ------------------------------------------------------------------------
    def net_on_splits(self) -> dict:
        """The net's one-step predictions on validation ("val" [Nv]) and test ("test" [Nt]),
        and on the test windows the states after each ("states" [Nt, layers, 2, hidden],
        "gates" [Nt, layers, G, hidden]): one batched forward per split and per version of
        the weights (cached), read-only."""
        key = ("net", self.weights_version())
        if self._cache.get("net_key") == key:
            return self._cache["net"]
        out = {"val": self.predict(self.values, self.firsts["val"])[:, 0]}
        inputs, _ = ts.make_windows(self.values, self.firsts["test"], self.lookback, 1)
        parts = []
        with one_blas_thread():
            for k in range(0, len(inputs), PREDICT_CHUNK):
                forecasts = self.predict_raw(inputs[k : k + PREDICT_CHUNK])[:, 0]
                parts.append((forecasts, *collect_states(self.rnn, -1, slice(None))))
        for name, arrays in zip(("test", "states", "gates"), zip(*parts, strict=True), strict=True):
            out[name] = np.concatenate(arrays)
        for array in out.values():
            array.setflags(write=False)
        self._cache["net_key"], self._cache["net"] = key, out
        return out

    def detection(self) -> dict:
        """Errors on validation and test, the threshold, flags and the naive detector."""
        detect = self.scenario.section("detect")
        values, net = self.values, self.net_on_splits()
        out = {"prediction": net["test"]}
        for name in ("net", "naive"):
            errors = {}
            for split in ("val", "test"):
                firsts = self.firsts[split]
                prediction = net[split] if name == "net" else values[firsts - 1]
                errors[split] = np.abs(prediction - values[firsts])
            threshold = float(np.quantile(errors["val"], detect["quantile"])) * detect["factor"]
            flagged = errors["test"] > threshold
            out[name] = {"errors": errors["test"], "threshold": threshold, "flagged": flagged}
        return out

    def scores(self, flagged: np.ndarray) -> dict:
        return ts.detection_scores(
            flagged, self.splits.val_end, self.events, self.scenario.get("detect.tolerance")
        )

    def evaluate(self) -> dict:
        found = self.detection()
        net, naive = self.scores(found["net"]["flagged"]), self.scores(found["naive"]["flagged"])
        metrics = {
            "precision": net["precision"],
            "recall": net["recall"],
            "point_precision": net["point_precision"],
            "point_recall": net["point_recall"],
            "threshold": found["net"]["threshold"],
            "flagged": net["flagged"],
            "anomalies": net["anomalies"],
            "found": net["found"],
            "precision_naive": naive["precision"],
            "recall_naive": naive["recall"],
        }
        flagged = found["net"]["flagged"]
        for kind in dict.fromkeys(event.kind for event in self.events):
            events = [event for event in self.events if event.kind == kind]
            metrics[f"recall_{kind}"] = ts.detection_scores(
                flagged, self.splits.val_end, events, self.scenario.get("detect.tolerance")
            )["recall"]
        val = self.values
        truth = val[self.firsts["val"]]
        metrics["val_mae"] = float(np.abs(self.net_on_splits()["val"] - truth).mean())
        metrics["val_mae_naive"] = float(np.abs(val[self.firsts["val"] - 1] - truth).mean())
        return metrics

    def on_live_change(self, dotted: str) -> None:
        super().on_live_change(dotted)
        self.changed()  # a new threshold changes the flags on screen

    def write_artifacts(self, out_dir) -> list[str]:
        """anomalies.csv: every test step with its value, prediction, error, flag and the
        injected anomaly (if any)."""
        found = self.detection()
        kind_at = {}
        for event in self.events:
            for index in range(event.start, event.end):
                kind_at[index] = event.kind
        lines = ["index,value,prediction,error,flagged,injected"]
        for j, index in enumerate(self.firsts["test"]):
            lines.append(
                f"{index},{self.values[index]:.6g},{found['prediction'][j]:.6g},"
                f"{found['net']['errors'][j]:.6g},{int(found['net']['flagged'][j])},"
                f"{kind_at.get(int(index), '')}"
            )
        atomic_write_text(out_dir / "anomalies.csv", "\n".join(lines) + "\n")
        return ["anomalies.csv"]

    # ---- stepping: along the test tail -----------------------------------------------------
    def walk(self, input=None) -> AnomalyWalk:
        """The test tail at the current weights and threshold: predictions and states from
        the cached batched forward (net_on_splits), flags, the plots' lines."""
        if input is not None:
            raise ValueError("the anomaly lab steps along its own test tail; no custom input")
        firsts = self.firsts["test"]
        found, net = self.detection(), self.net_on_splits()
        flagged = found["net"]["flagged"]
        signal = self.values[firsts]
        injected = np.full(len(firsts), "", dtype=object)
        for event in self.events:
            injected[event.start - firsts[0] : event.end - firsts[0]] = event.kind
        lines = {
            "signal": signal,
            "prediction": found["prediction"],
            "flagged": np.where(flagged, signal, np.nan),
            "injected": np.where(injected != "", signal, np.nan),
        }
        threshold = found["net"]["threshold"]
        arrays = {
            "x": firsts.astype(np.float64),
            "signal": signal,
            "prediction": found["prediction"],
            "errors": found["net"]["errors"],
            "flagged": flagged,
            "injected": injected,
            "threshold_line": np.full(len(firsts), threshold),
        }
        for array in (*arrays.values(), *lines.values()):
            array.setflags(write=False)
        states = net["states"]
        return AnomalyWalk(
            None,
            len(firsts),
            **arrays,
            states=states,
            gates=net["gates"],
            threshold=threshold,
            lines=lines,
            scores=self.scores(flagged),
            tokens=tuple(
                ("!" if flag else "") + view.fmt(v) for v, flag in zip(signal, flagged, strict=True)
            ),
            # h only (no c or gates): the strip of a test tail hundreds of steps long
            traces={f"h{layer}": states[:, layer, 0] for layer in range(self.rnn.num_layers)},
        )

    def frame(self, walk: AnomalyWalk, t: int) -> Frame:
        return view.anomaly_frame(
            walk,
            t,
            rnn=self.rnn,
            title=view.title(self.scenario),
            loss_history=self.loss_history,
            train_step=self.train_step,
        )


LAB = AnomalyLab
HEADLINE_METRICS = ("precision", "recall", "val_mae")
