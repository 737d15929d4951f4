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

import numpy as np

from tui_lab.files import atomic_write_text
from tui_lab.frames import Frame, Scalars, Sequence, Series
from tui_lab.labs import _forecast_view as view
from tui_lab.labs import forecast
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


class AnomalyLab(forecast.ForecastLab):
    kind = "anomaly"
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
    def detection(self) -> dict:
        """Errors on validation and test, the threshold, flags and the naive detector."""
        key = (
            "detect",
            self.train_step,
            self.scenario.get("detect.quantile"),
            self.scenario.get("detect.factor"),
        )
        if self._cache.get("detect_key") == key:
            return self._cache["detect"]
        detect = self.scenario.section("detect")
        values = self.values
        out = {}
        for name in ("net", "naive"):
            errors = {}
            for split in ("val", "test"):
                firsts = self.firsts[split]
                if name == "net":
                    prediction = self.predict(values, firsts)[:, 0]
                else:
                    prediction = values[firsts - 1]
                errors[split] = np.abs(prediction - values[firsts])
                if name == "net" and split == "test":
                    out["prediction"] = prediction
            threshold = float(np.quantile(errors["val"], detect["quantile"])) * detect["factor"]
            flagged = errors["test"] > threshold
            out[name] = {"errors": errors["test"], "threshold": threshold, "flagged": flagged}
        self._cache["detect_key"], self._cache["detect"] = key, out
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
        metrics["val_mae"] = float(
            np.abs(self.predict(val, self.firsts["val"])[:, 0] - truth).mean()
        )
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
    def start_sequence(self, new_input=None, keep_input: bool = False) -> None:
        if new_input is not None:
            raise ValueError("the anomaly lab steps along its own test tail; no custom input")
        self._precompute()

    def _precompute(self) -> None:
        firsts = self.firsts["test"]
        found = self.detection()
        inputs, _ = ts.make_windows(self.values, firsts, self.lookback, 1)
        self.predict_raw(inputs)  # one batched forward: every test window's final state
        states, gates = view.collect_states(self.rnn, -1, slice(None))
        injected = np.full(len(firsts), "", dtype=object)
        for event in self.events:
            injected[event.start - firsts[0] : event.end - firsts[0]] = event.kind
        flagged = found["net"]["flagged"]
        self.view = {
            "found": found,
            "states": states,
            "gates": gates,
            "injected": injected,
            "tokens": tuple(
                ("!" if flag else "") + view.fmt(v)
                for v, flag in zip(self.values[firsts], flagged, strict=True)
            ),
            # h only (no c or gates): every frame holds a copy of these [T, H] traces, and
            # the test tail is hundreds of steps long.
            "traces": {f"h{layer}": states[:, layer, 0] for layer in range(self.rnn.num_layers)},
        }

    def sequence_length(self) -> int:
        return len(self.firsts["test"])

    def _plots(self, t: int) -> list:
        v, firsts = self.view, self.firsts["test"]
        found = v["found"]
        values = self.values[firsts]
        flagged, injected = found["net"]["flagged"], v["injected"] != ""
        lines = {
            "signal": values,
            "prediction": found["prediction"],
            "flagged": np.where(flagged, values, np.nan),
            "injected": np.where(injected, values, np.nan),
        }
        x = firsts.astype(np.float64)
        marker = t if t >= 0 else None
        errors = found["net"]["errors"]
        threshold = np.full(len(errors), found["net"]["threshold"])
        panels = [
            Series("signal and flags", lines, x_label="test step", x_values=x, marker=marker),
            Series(
                "prediction error",
                {"|error|": errors, "threshold": threshold},
                x_label="test step",
                x_values=x,
                marker=marker,
            ),
        ]
        if t >= 0:
            lo, hi = max(0, t - 48), min(len(x), t + 48)
            zoomed = {name: line[lo:hi] for name, line in lines.items()}
            panels.append(
                Series("around t", zoomed, x_label="test step", x_values=x[lo:hi], marker=t - lo)
            )
        return panels

    def _frame(self, t: int) -> Frame:
        v, firsts = self.view, self.firsts["test"]
        found = v["found"]
        sequence = Sequence("test tail", v["tokens"], t, traces=v["traces"])
        panels: list = [sequence]
        if t >= 0:
            index = int(firsts[t])
            panels.append(
                Scalars(
                    "this step",
                    {
                        "index": index,
                        "value": round(float(self.values[index]), 5),
                        "prediction": round(float(found["prediction"][t]), 5),
                        "|error|": round(float(found["net"]["errors"][t]), 5),
                        "threshold": round(found["net"]["threshold"], 5),
                        "flagged": "YES" if found["net"]["flagged"][t] else "no",
                        "injected": v["injected"][t] or "-",
                    },
                )
            )
            panels.extend(view.recurrent_panels(self.rnn, v["states"][t], v["gates"][t]))
        scores = self.scores(found["net"]["flagged"])
        panels.append(
            Scalars(
                "detection",
                {
                    key: round(value, 4) if isinstance(value, float) else value
                    for key, value in scores.items()
                },
            )
        )
        panels.extend(self._plots(t))
        panels.append(view.loss_panel(self))
        loss = self.loss_history[-1] if self.loss_history else None
        status = "press -> to step along the test tail; flagged steps are marked !" if t < 0 else ""
        return Frame(
            view.title(self),
            t,
            len(sequence.tokens),
            panels,
            train_step=self.train_step,
            loss=loss,
            status=status,
        )

    def initial_frame(self) -> Frame:
        return self._frame(-1)

    def compute_step(self, t: int) -> Frame:
        return self._frame(t)


LAB = AnomalyLab
HEADLINE_METRICS = ("precision", "recall", "val_mae")
