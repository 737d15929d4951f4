"""The Lab protocol that the screen and the headless runner talk to.

A lab owns a model, its optimizer and its data. It can *walk* an input (run the
model over all of it once, keeping O(T x state) arrays), show the *frame* at any
step t of a walk (built on demand from views into the walk), and be *trained*
(n optimizer updates). A Stepper (labs/stepper.py) holds the cursor.

Determinism: the data for training update k is a pure function of (seed, k),
so a run resumed from a checkpoint ends with the same weights as one that was
never interrupted.
"""

from __future__ import annotations

import json
import math
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tui_lab.frames import Frame

Progress = Callable[[int, dict], None]

GENERATE, QUERY, OWN_INPUT = "generate", "query", "own_input"

LOSS_TAIL = 10_000
"""Training losses kept in memory and in checkpoints: enough for the plots (they show
the last 2,000), and a checkpoint after 10 M updates costs what one after 10,000 does.
The whole history streams to metrics.jsonl (runner.py)."""


@dataclass(frozen=True)
class Walk:
    """The model run over one whole input. Subclasses add the arrays their frames read.

    input: what `Lab.walk` needs to walk the same input again (a text, a sample).
    length: time steps T (frames exist for t = -1 .. T - 1).
    steps_are_updates: each new step applies one training update to the live weights
    (counted in train_step, so a checkpoint resumes exactly). The Stepper then takes
    the updates of its own steps as its own, and after any other training starts the
    input over at t = -1 (walking it again would apply the shown updates twice).
    """

    input: object
    length: int
    steps_are_updates: bool = False


class Diverged(RuntimeError):
    """Training produced a NaN or Inf loss or gradient."""

    def __init__(self, step: int, loss: float):
        super().__init__(f"training diverged at update {step}: loss = {loss}")
        self.step = step
        self.loss = loss


class Lab(ABC):
    """Base class. Subclasses set `kind` and implement the abstract methods.

    Stepping is not here: a Stepper (labs/stepper.py) holds the input, the Walk and the
    cursor, and asks `walk` and `frame`. Everything a Walk depends on besides the weights
    that training changes must bump `revision` (loaded weights, a live setting that
    changes what the frames show), so the Stepper knows to walk the input again.
    """

    kind = "base"
    capabilities: frozenset[str] = frozenset()
    """Abilities beyond stepping: GENERATE (generate() -> text), QUERY (query(text) ->
    answer), OWN_INPUT (walk accepts the user's text)."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.train_step = 0
        self.loss_history: list[float] = []
        self.revision = 0

    def changed(self) -> None:
        """Something a Walk depends on changed outside training (weights loaded, a live
        setting): the next frame walks the input again."""
        self.revision += 1

    # ---- stepping -------------------------------------------------------
    @abstractmethod
    def walk(self, input=None) -> Walk:
        """Run the model over one whole input: None for the lab's default (or a fresh
        sample), the user's text, or the `input` of an earlier Walk (the same input again,
        after training). O(T x state) arrays; no Frames."""

    @abstractmethod
    def frame(self, walk: Walk, t: int) -> Frame:
        """The snapshot at step t (-1 = before the first step), from views into `walk`."""

    # ---- training -------------------------------------------------------
    def train(
        self,
        n: int,
        progress: Progress | None = None,
        should_stop: Callable[[], bool] | None = None,
        report_every_s: float = 0.1,
    ) -> dict:
        """n optimizer updates. progress(i, metrics) at most every report_every_s seconds.

        Returns the metrics of the last update. Raises Diverged on NaN/Inf, leaving
        the weights of the diverged update in place (the runner keeps a good copy).
        """
        last_report = time.perf_counter()
        metrics: dict = {}
        recent: deque[float] = deque(maxlen=50)  # this call's last losses, for metrics
        done = 0
        for index in range(n):
            if should_stop is not None and should_stop():
                break
            loss = float(self.train_one())
            self.train_step += 1
            self.record_loss(loss)
            recent.append(loss)
            done = index + 1
            if not math.isfinite(loss):
                raise Diverged(self.train_step, loss)
            now = time.perf_counter()
            if progress is not None and (now - last_report >= report_every_s or index == n - 1):
                metrics = {"loss": float(np.mean(recent)), "train_step": self.train_step}
                progress(done, metrics)
                last_report = now
        if done:
            metrics = {"loss": float(np.mean(recent)), "train_step": self.train_step}
        return metrics

    def record_loss(self, loss: float) -> None:
        """Append to the bounded loss history (at most 2 x LOSS_TAIL, trimmed to LOSS_TAIL
        in one go, so appending stays O(1) amortized)."""
        self.loss_history.append(loss)
        if len(self.loss_history) > 2 * LOSS_TAIL:
            del self.loss_history[:-LOSS_TAIL]

    # ---- live settings ----------------------------------------------------
    def set_value(self, dotted: str, value) -> bool:
        """Change one scenario value (validated). True if applied live; False if the
        value changes the model's shape and the caller must build a new lab."""
        new = self.scenario.with_value(dotted, value)
        if not self.scenario.field(dotted).live:
            return False
        self.scenario = new
        self.on_live_change(dotted)
        return True

    def on_live_change(self, dotted: str) -> None:  # noqa: B027 (optional hook)
        """A live value changed (already in self.scenario): update derived state."""

    # ---- checkpoints --------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        # Copies: a snapshot must not change as training goes on.
        arrays = {f"param/{k}": np.array(v) for k, v in self.parameters().items()}
        arrays.update({f"optim/{k}": np.array(v) for k, v in self.optimizer_state().items()})
        arrays.update({f"extra/{k}": np.array(v) for k, v in self.extra_state().items()})
        arrays["loss_history"] = np.asarray(self.loss_history[-LOSS_TAIL:], dtype=np.float64)
        meta = {
            "kind": self.kind,
            "train_step": self.train_step,
            "scenario_toml": self.scenario.to_toml(),
            "scenario_source": self.scenario.source,
        }
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        return arrays

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        params = self.parameters()
        for key, value in arrays.items():
            if key.startswith("param/"):
                name = key[len("param/") :]
                if name not in params or params[name].shape != value.shape:
                    raise ValueError(f"checkpoint parameter {name!r} does not fit this model")
                params[name][...] = value
        self.load_optimizer_state(
            {k[len("optim/") :]: v for k, v in arrays.items() if k.startswith("optim/")}
        )
        self.load_extra_state(
            {k[len("extra/") :]: v for k, v in arrays.items() if k.startswith("extra/")}
        )
        meta = json.loads(bytes(arrays["meta"]).decode("utf-8"))
        self.train_step = int(meta["train_step"])
        self.loss_history = [float(x) for x in arrays["loss_history"][-LOSS_TAIL:]]
        self.changed()

    # ---- hooks for subclasses ------------------------------------------------
    @abstractmethod
    def parameters(self) -> dict[str, np.ndarray]:
        """name -> the live parameter array (updated in place by training)."""

    def optimizer_state(self) -> dict[str, np.ndarray]:
        return {}

    def load_optimizer_state(self, state: dict[str, np.ndarray]) -> None:  # noqa: B027
        """Optional: labs without optimizer state keep nothing."""

    def extra_state(self) -> dict[str, np.ndarray]:
        """Anything else a resumed run needs (counters, RNG states) as arrays."""
        return {}

    def load_extra_state(self, state: dict[str, np.ndarray]) -> None:  # noqa: B027
        """Optional: labs without extra state keep nothing."""

    @abstractmethod
    def total_train_steps(self) -> int:
        """How many updates a full headless run makes (from the scenario)."""

    @abstractmethod
    def train_one(self) -> float:
        """One optimizer update on the data for update self.train_step; returns its loss."""

    def evaluate(self) -> dict:
        """Metrics for summary.json (floats, ints, strings, or small dicts/lists of them)."""
        return {}

    def write_artifacts(self, out_dir: Path) -> list[str]:
        """Write kind-specific outputs (generated.txt, vectors.txt, ...) atomically."""
        return []

    def warmup_tasks(self) -> list[tuple[str, Callable[[], object]]]:
        """(label, call) pairs that JIT-compile this lab's kernels on tiny inputs,
        so the screen can show compile progress on the first start."""
        return []
