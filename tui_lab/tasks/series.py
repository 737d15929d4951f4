"""Time series data: generated and CSV series, chronological splits, windows, scaling,
baseline forecasts and injected anomalies.

Conventions: a series is a float64 array `values [n]`. A *window* is `lookback` steps of
input followed by `horizon` steps of targets; it is named by `first`, the index of its first
target, so its inputs are values[first - lookback : first] and its targets
values[first : first + horizon]. Splits are chronological: train, then validation, then the
test tail. A window belongs to the split that holds its targets; its inputs may reach back
into an earlier split (the past is always allowed), never forward.

Nothing here looks at the validation or test values to fit anything: the scaler is fitted on
training values only, and the "mean" baseline is the training mean.
"""

from __future__ import annotations

import csv
import difflib
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from tui_lab.scenario import ScenarioError

GENERATED = ("sine", "trend_seasonal", "damped", "random_walk")
ANOMALY_KINDS = ("spike", "level_shift", "frozen")
BUNDLED = "bundled:"  # data.csv = "bundled:co2-monthly.csv" is a file in tui_lab/data/


# ---- generated series ------------------------------------------------------------------
def generate(kind: str, length: int, period: int, noise: float, seed: int) -> np.ndarray:
    """A generated series [length]; a pure function of its arguments.

    sine: sin(2 pi t / period) + noise.  trend_seasonal: a rising level (0.5 per period) plus
    two harmonics of the season plus noise.  damped: a damped oscillator kicked by noise at
    every step (an AR(2) process with poles at radius 0.97 and angle 2 pi / period), so it
    rings at the period but its phase and amplitude wander.  random_walk: the running sum of
    noise; its best forecast is the last value, so it is the "unforecastable" control.
    """
    rng = np.random.default_rng([seed, 7919])
    t = np.arange(length, dtype=np.float64)
    eps = rng.standard_normal(length)
    angle = 2.0 * np.pi * t / period
    if kind == "sine":
        return np.sin(angle) + noise * eps
    if kind == "trend_seasonal":
        return 0.5 * t / period + np.sin(angle) + 0.4 * np.sin(2.0 * angle) + noise * eps
    if kind == "damped":
        radius, omega = 0.97, 2.0 * np.pi / period
        a1, a2 = 2.0 * radius * np.cos(omega), -(radius**2)
        values = np.zeros(length)
        for k in range(length):
            before = a1 * values[k - 1] if k >= 1 else 0.0
            before += a2 * values[k - 2] if k >= 2 else 0.0
            values[k] = before + noise * eps[k]
        return values
    if kind == "random_walk":
        return np.cumsum(noise * eps)
    raise ValueError(f"unknown series {kind!r}; known: {', '.join(GENERATED)}")


# ---- CSV files ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CsvSeries:
    values: np.ndarray  # [n] float64
    dates: tuple[str, ...] | None  # the date column's cells, if one was named
    column: str
    path: Path


def resolve_csv_path(text: str, relative_to: Path | None = None) -> Path:
    """data.csv -> a path: "bundled:NAME" ships with tui-lab; relative paths are taken from
    the scenario file's folder (or the working directory)."""
    if text.startswith(BUNDLED):
        return Path(str(resources.files("tui_lab") / "data" / text[len(BUNDLED) :]))
    path = Path(text).expanduser()
    if not path.is_absolute() and relative_to is not None:
        return relative_to / path
    return path


def _data_lines(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, cells) for every row that is not blank or a '#' comment."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ScenarioError(f"data.csv: no such file {path}") from None
    except IsADirectoryError:
        raise ScenarioError(f"data.csv: {path} is a folder, expected a CSV file") from None
    except UnicodeDecodeError:
        raise ScenarioError(f"data.csv: {path} is not UTF-8 text") from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        rows.append((number, next(csv.reader([line]))))
    return rows


def _column_index(header: list[str], name: str, key: str, path: Path) -> int:
    if name in header:
        return header.index(name)
    close = difflib.get_close_matches(name, header, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise ScenarioError(f"{key}: no column {name!r} in {path}{hint}; columns: {', '.join(header)}")


def read_csv(path: Path, column: str = "", date_column: str = "") -> CsvSeries:
    """One numeric column of a CSV file with a header row ('#' lines are comments).

    column "" picks the only column that is not the date column. Every cell of the column
    must be a finite number: a missing cell or a non-number is a ScenarioError naming the
    file, the line and the column.
    """
    rows = _data_lines(path)
    if not rows:
        raise ScenarioError(f"data.csv: {path} is empty: expected a header row and values")
    header = [cell.strip() for cell in rows[0][1]]
    if date_column:
        date_index = _column_index(header, date_column, "data.date_column", path)
    if not column:
        candidates = [name for name in header if name != date_column]
        if len(candidates) != 1:
            raise ScenarioError(
                f"data.column: {path} has several columns ({', '.join(header)}); "
                f"name the one to forecast, e.g. --set data.column={candidates[-1]}"
            )
        column = candidates[0]
    index = _column_index(header, column, "data.column", path)
    values = np.empty(len(rows) - 1)
    dates = []
    for k, (number, cells) in enumerate(rows[1:]):
        cell = cells[index].strip() if index < len(cells) else ""
        if not cell:
            raise ScenarioError(
                f"data.csv: {path} line {number}: missing value in column {column!r}"
            )
        try:
            value = float(cell)
        except ValueError:
            raise ScenarioError(
                f"data.csv: {path} line {number}: column {column!r}: {cell!r} is not a number"
            ) from None
        if not math.isfinite(value):
            raise ScenarioError(
                f"data.csv: {path} line {number}: column {column!r}: {cell!r} is not a "
                "finite number (missing values must be filled in first)"
            )
        values[k] = value
        if date_column:
            dates.append(cells[date_index].strip() if date_index < len(cells) else "")
    return CsvSeries(values, tuple(dates) if date_column else None, column, path)


# ---- splits and windows -------------------------------------------------------------------
@dataclass(frozen=True)
class Splits:
    """Chronological: train [0, train_end), validation [train_end, val_end), test [val_end, n)."""

    n: int
    train_end: int
    val_end: int

    def bounds(self, name: str) -> tuple[int, int]:
        return {
            "train": (0, self.train_end),
            "val": (self.train_end, self.val_end),
            "test": (self.val_end, self.n),
        }[name]


def chronological_splits(n: int, val_fraction: float, test_fraction: float) -> Splits:
    """The last test_fraction of the steps is the test tail, the val_fraction before it the
    validation split, everything earlier the training split (nothing shuffled)."""
    test = int(round(n * test_fraction))
    val = int(round(n * val_fraction))
    return Splits(n, n - test - val, n - test)


def window_firsts(lo: int, hi: int, lookback: int, horizon: int) -> np.ndarray:
    """First-target indices of every window whose targets lie in [lo, hi) and whose inputs
    start at or after 0."""
    return np.arange(max(lo, lookback), hi - horizon + 1, dtype=np.int64)


def make_windows(values: np.ndarray, firsts: np.ndarray, lookback: int, horizon: int):
    """values [n], firsts [N] -> inputs [N, lookback], targets [N, horizon]."""
    inputs = values[firsts[:, None] + np.arange(-lookback, 0)[None, :]]
    targets = values[firsts[:, None] + np.arange(horizon)[None, :]]
    return inputs, targets


def min_rows(lookback: int, horizon: int, val_fraction: float, test_fraction: float) -> int:
    """The fewest rows for one window in each split (train holds a whole window; the
    validation and test splits each hold `horizon` targets)."""
    n = lookback + horizon
    while True:
        splits = chronological_splits(n, val_fraction, test_fraction)
        train = window_firsts(0, splits.train_end, lookback, horizon)
        val = window_firsts(splits.train_end, splits.val_end, lookback, horizon)
        test = window_firsts(splits.val_end, n, lookback, horizon)
        if len(train) and len(val) and len(test):
            return n
        n += 1


# ---- scaling ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scaler:
    """z = (x - mean) / std, fitted on training data only (never on validation or test)."""

    mean: float
    std: float

    @classmethod
    def fit(cls, values: np.ndarray, center: bool = True) -> Scaler:
        values = np.asarray(values, dtype=np.float64)
        mean = float(values.mean()) if center else 0.0
        std = float(np.sqrt(np.mean((values - mean) ** 2)))
        return cls(mean, std if std > 1e-12 else 1.0)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.mean) / self.std

    def inverse(self, z: np.ndarray) -> np.ndarray:
        return np.asarray(z, dtype=np.float64) * self.std + self.mean


# ---- baselines -------------------------------------------------------------------------------
def naive_forecast(values: np.ndarray, firsts: np.ndarray, horizon: int) -> np.ndarray:
    """The last observed value, for every step ahead: [N, horizon]."""
    return np.repeat(values[firsts - 1][:, None], horizon, axis=1)


def seasonal_naive_forecast(
    values: np.ndarray, firsts: np.ndarray, horizon: int, season: int
) -> np.ndarray:
    """The value one season before each target, taken from the observed past only: step k
    (0-based) of a window starting at `first` uses values[first + k - season * (k // season
    + 1)], so a forecast further ahead than a season repeats the last observed season."""
    k = np.arange(horizon)
    lag = season * (k // season + 1)
    return values[firsts[:, None] + (k - lag)[None, :]]


def mean_forecast(train_mean: float, count: int, horizon: int) -> np.ndarray:
    return np.full((count, horizon), train_mean)


# ---- injected anomalies -----------------------------------------------------------------------
@dataclass(frozen=True)
class Anomaly:
    kind: str
    start: int
    end: int  # exclusive


def inject_anomalies(
    values: np.ndarray,
    lo: int,
    hi: int,
    count: int,
    kinds: tuple[str, ...],
    size: float,
    length: int,
    gap: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, list[Anomaly]]:
    """Put `count` anomalies into values[lo:hi] (a copy), kinds taken in turn, each at least
    `gap` steps from the next so that one does not hide another.

    spike: one point moved by +-size.  level_shift: `length` points moved by +-size.
    frozen: `length` points stuck at the value where the sensor froze.
    """
    values = np.array(values, dtype=np.float64)
    slot = (hi - lo) // max(count, 1)
    if slot < length + gap:
        raise ValueError(
            f"{count} anomalies of length {length} with gaps of {gap} do not fit in {hi - lo} steps"
        )
    events = []
    for k in range(count):
        kind = kinds[k % len(kinds)]
        span = 1 if kind == "spike" else length
        start = lo + k * slot + gap // 2 + int(rng.integers(0, slot - span - gap + 1))
        sign = 1.0 if rng.random() < 0.5 else -1.0
        if kind == "spike":
            values[start] += sign * size
        elif kind == "level_shift":
            values[start : start + span] += sign * size
        elif kind == "frozen":
            values[start : start + span] = values[start]
        else:
            raise ValueError(f"unknown anomaly kind {kind!r}; known: {', '.join(ANOMALY_KINDS)}")
        events.append(Anomaly(kind, start, start + span))
    return values, events


def detection_scores(
    flagged: np.ndarray, offset: int, events: list[Anomaly], tolerance: int
) -> dict[str, float]:
    """Precision and recall of flags against the injected anomalies.

    flagged [m] is a bool per step, step j being series index offset + j. An anomaly is
    found (recall) if any step from its start to `tolerance` steps after its end is flagged:
    an odd value stays in the input window and may be noticed a little later. A flag is
    right (precision) if it lies within some anomaly's span so extended. Point scores (each
    anomalous step on its own, no tolerance) are returned too.
    """
    index = offset + np.flatnonzero(flagged)
    near = np.zeros(len(flagged), dtype=bool)
    inside = np.zeros(len(flagged), dtype=bool)
    found = 0
    for event in events:
        lo, hi = event.start - offset, event.end - offset
        near[max(lo, 0) : max(hi + tolerance, 0)] = True
        inside[max(lo, 0) : max(hi, 0)] = True
        found += bool(flagged[max(lo, 0) : max(hi + tolerance, 0)].any())
    flags = len(index)
    return {
        "precision": float(near[flagged].mean()) if flags else 0.0,
        "recall": found / len(events) if events else 0.0,
        "point_precision": float(inside[flagged].mean()) if flags else 0.0,
        "point_recall": float(flagged[inside].mean()) if inside.any() else 0.0,
        "flagged": int(flags),
        "anomalies": len(events),
        "found": int(found),
    }
