"""Supervised sequence tasks: the four RNN types, bidirectional and stacked nets, BPTT.

A recurrent classifier (tui_lab.seqnet.SequenceNet: RNN, LSTM or GRU layers, optionally
stacked and bidirectional, a linear head, softmax cross-entropy) learns one task of
tui_lab.tasks.sequence_tasks: one-to-one (xor), one-to-many (spell), many-to-one
(parity, sum_sign, first_symbol) or many-to-many tagging (running_parity, next_symbol).

Stepping walks one sequence forward (t = 0 .. T-1: the input, h_t of every layer and
direction, gates, the prediction) and then *backward*: steps T .. 2T-1 of the protocol
are BPTT steps t = T-1 down to 0 (Frame.phase "backward"), each showing dL/dh_t, the gate
gradients and dL/dW_hh accumulated so far, from tui_lab.bptt.

evaluate() reports accuracy and the gradient-norm ratio ||dL/dh_1|| / ||dL/dh_T|| at
initialisation and now: how much of the loss's signal reaches the first step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tui_lab import bptt
from tui_lab.frames import Frame
from tui_lab.interop import WEIGHTS
from tui_lab.labs import _sequence_view as view
from tui_lab.labs._state_panels import add_traces
from tui_lab.labs._training import make_optimizer
from tui_lab.labs.base import OWN_INPUT, Lab, Walk
from tui_lab.models import GATE_NAMES, Recurrent
from tui_lab.scenario import Field, ScenarioError
from tui_lab.seqnet import SequenceNet, clipped_step, gradient_ratio, softmax
from tui_lab.tasks.sequence_tasks import TASK_NAMES, Batch, make_task

SCHEMA = {
    "data": {
        "task": Field(
            "str", "parity", choices=TASK_NAMES, doc="see tui_lab/tasks/sequence_tasks.py"
        ),
        "length": Field("int", 10, min=1, max=1000, doc="T (xor: 1, spell: 6 always)"),
        "classes": Field("int", 2, min=2, max=26, doc="first_symbol: how many cue symbols"),
        "symbols": Field(
            "int", 4, min=0, max=26, doc="next_symbol: alphabet; first_symbol: extra distractors"
        ),
        "width": Field("int", 2, min=1, max=16, doc="xor: bits per input"),
        "eval_size": Field("int", 512, min=16, max=100_000, doc="held-out sequences for evaluate"),
    },
    "model": {
        "cell": Field("str", "rnn", choices=("rnn", "lstm", "gru")),
        "hidden": Field("int", 32, min=1, max=1024),
        "num_layers": Field("int", 1, min=1, max=4),
        "bidirectional": Field("bool", False),
        "nonlinearity": Field("str", "tanh", choices=("tanh", "relu"), doc="RNN cell only"),
        "init_scale": Field(
            "float", 1.0, min=0.0, max=100.0, doc="weight_hh = torch's init times this"
        ),
        "gate_bias": Field(
            "float", 0.0, min=-20.0, max=20.0, doc="added to the LSTM forget / GRU update bias"
        ),
        "weights": WEIGHTS,
    },
    "train": {
        "optimizer": Field("str", "adam", choices=("adam", "sgd", "rmsprop")),
        "lr": Field("float", 0.01, min=1e-7, max=10.0, live=True),
        "momentum": Field("float", 0.0, min=0.0, max=0.999, live=True, doc="SGD only"),
        "updates": Field("int", 2000, min=1, max=10_000_000),
        "batch_size": Field("int", 32, min=1, max=4096),
        "clip": Field("float", 1.0, min=0.0, max=1e6, live=True, doc="global-norm clip; 0 = off"),
    },
}

EVAL_STREAM = 1  # rng([seed, 0, EVAL_STREAM]) never equals a training rng([seed, k])
STEP_STREAM = 2
PROFILE_SIZE = 256  # sequences in the gradient-norm profile
RECENT_NORMS = 2000  # gradient norms kept for the plot and the checkpoint
MAX_STEPPING_SYMBOLS = 10_000
"""The longest typed input: a walk keeps O(T x hidden) arrays per layer and direction and
runs BPTT one step at a time in numpy, and a longer input is no longer something to
read a step at a time."""


def task_of(scenario):
    data = scenario.section("data")
    return make_task(data["task"], data["length"], data["classes"], data["symbols"], data["width"])


def check_scenario(scenario) -> None:
    data, model = scenario.section("data"), scenario.section("model")
    if data["task"] == "first_symbol" and data["classes"] + data["symbols"] > 26:
        raise ScenarioError(
            f"{scenario.source}: data.classes + data.symbols = "
            f"{data['classes'] + data['symbols']}: at most 26 symbols (letters)"
        )
    if data["task"] == "next_symbol" and data["symbols"] < 2:
        raise ScenarioError(f"{scenario.source}: data.symbols: next_symbol needs at least 2")
    if data["task"] in ("next_symbol", "running_parity", "parity") and data["length"] < 2:
        raise ScenarioError(f"{scenario.source}: data.length: {data['task']} needs T >= 2")
    if model["bidirectional"] and task_of(scenario).mode == "last":
        raise ScenarioError(
            f"{scenario.source}: model.bidirectional: {data['task']} is scored at the last step "
            "only, where the backward direction has read one symbol; use a tagging task"
        )


def build_net(scenario, cell: str | None = None, rng=None) -> SequenceNet:
    model, task = scenario.section("model"), task_of(scenario)
    return SequenceNet(
        cell or model["cell"],
        task.input_size,
        model["hidden"],
        task.n_classes,
        model["num_layers"],
        model["bidirectional"],
        model["nonlinearity"],
        model["init_scale"],
        model["gate_bias"],
        rng=rng if rng is not None else np.random.default_rng(scenario.seed),
    )


def accuracy(task, probs: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
    """(per-scored-step accuracy, whole-sequence accuracy). probs: [T, B, C]."""
    if task.mode == "last":
        right = probs[-1].argmax(axis=1) == targets
        return float(right.mean()), float(right.mean())
    scored = targets >= 0
    right = (probs.argmax(axis=2) == targets) | ~scored
    return float(right[scored].mean()), float(right.all(axis=0).mean())


@dataclass(frozen=True)
class SequenceWalk(Walk):
    """One sequence forward, then backward through time: length = 2 * steps, the forward
    steps t = 0..T-1, then the BPTT steps t = T-1 down to 0.

    input: the Batch of the sequence (codes [T, 1], x [T, 1, I], targets). parts: (layer,
    direction, panel suffix) of each of the P layers and directions. tokens, labels: the
    input symbols and each step's target ("" where none is scored); targets [T]: the class
    scored at each step, -1 where none is; x [T, I]; probs [T, C]; loss: the sequence's.
    states [T, P, 2, H] (h, then c for an LSTM; zeros otherwise), gates [T, P, G, H], in
    original time order. grads: each part's step-by-step BPTT (bptt.StepwiseGrads, d_h
    [T, 1, H] ...), d_h_norms and (LSTM) d_c_norms [P, T]: ||dL/dh_t||, ||dL/dc_t||.
    traces: the strip's traces, name -> [T, H] views. All arrays read-only."""

    steps: int = 0
    cell: str = "rnn"
    parts: tuple[tuple[int, int, str], ...] = ()
    tokens: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    targets: np.ndarray | None = None
    x: np.ndarray | None = None
    probs: np.ndarray | None = None
    loss: float = 0.0
    states: np.ndarray | None = None
    gates: np.ndarray | None = None
    grads: tuple[bptt.StepwiseGrads, ...] = ()
    d_h_norms: np.ndarray | None = None
    d_c_norms: np.ndarray | None = None
    traces: dict = field(default_factory=dict)


class SequenceLab(Lab):
    kind = "sequence"
    capabilities = frozenset({OWN_INPUT})

    def __init__(self, scenario):
        super().__init__(scenario)
        self.task = task_of(scenario)
        self.net = build_net(scenario)
        self.optimizer = make_optimizer(self.net.params, scenario.section("train"))
        self.grad_norms: list[float] = []  # before clipping, the last RECENT_NORMS updates
        self.grad_norm_max = 0.0  # the largest finite one of the whole run
        self.eval_batch = self.task.batch(
            np.random.default_rng([scenario.seed, 0, EVAL_STREAM]), scenario.get("data.eval_size")
        )
        self.init_profile = self.gradient_profile()
        self.init_cell_profile = self.cell_gradient_profile()
        self._samples = 0  # stepping samples drawn so far: each walk(None) draws the next

    # ---- training ---------------------------------------------------------------
    def parameters(self):
        return self.net.params

    def optimizer_state(self):
        return self.optimizer.state_dict()

    def load_optimizer_state(self, state) -> None:
        if state:
            self.optimizer.load_state_dict(state)

    def extra_state(self):
        return {
            "grad_norms": np.asarray(self.grad_norms, np.float64),
            "grad_norm_max": np.asarray(self.grad_norm_max, np.float64),
        }

    def load_extra_state(self, state) -> None:
        if "grad_norms" in state:
            self.grad_norms = [float(v) for v in state["grad_norms"]]
            self.grad_norm_max = float(state["grad_norm_max"])

    def on_live_change(self, dotted: str) -> None:
        if dotted == "train.lr":
            self.optimizer.lr = self.scenario.get("train.lr")
        if dotted == "train.momentum" and hasattr(self.optimizer, "momentum"):
            self.optimizer.momentum = self.scenario.get("train.momentum")

    def total_train_steps(self) -> int:
        return self.scenario.get("train.updates")

    def train_batch(self, update: int):
        """The data of update k: a pure function of (seed, k)."""
        rng = np.random.default_rng([self.scenario.seed, update])
        return self.task.batch(rng, self.scenario.get("train.batch_size"))

    def train_one(self) -> float:
        batch = self.train_batch(self.train_step)
        # an exploding run overflows to Inf/NaN on purpose: the NaN below reports it
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grads, _ = self.net.loss_and_grads(batch.x, batch.targets, self.task.mode)
        norm = clipped_step(self.optimizer, grads, self.scenario.get("train.clip"))
        self.grad_norms = self.grad_norms[-(RECENT_NORMS - 1) :] + [float(norm)]
        if np.isfinite(norm):
            self.grad_norm_max = max(self.grad_norm_max, float(norm))
        return loss if np.isfinite(norm) else float("nan")

    # ---- evaluation --------------------------------------------------------------
    def gradient_profile(self) -> np.ndarray:
        """||dL/dh_t|| per step [T] over the first PROFILE_SIZE held-out sequences."""
        batch = self.eval_batch
        n = min(PROFILE_SIZE, batch.x.shape[1])
        targets = batch.targets[:n] if self.task.mode == "last" else batch.targets[:, :n]
        return self.net.gradient_profile(batch.x[:, :n], targets, self.task.mode)

    def cell_gradient_profile(self) -> np.ndarray | None:
        """LSTM: ||dL/dc_t|| per step [T] (top layer, forward direction), the path the cell
        state's memory takes; None for RNN and GRU."""
        if self.net.cell != "lstm":
            return None
        batch = self.eval_batch
        n = min(PROFILE_SIZE, batch.x.shape[1])
        targets = batch.targets[:n] if self.task.mode == "last" else batch.targets[:, :n]
        _, _, d_out = self.net.loss_and_grads(batch.x[:, :n], targets, self.task.mode)
        H = self.net.rnn.hidden_size
        steps = bptt.stepwise_backward("lstm", self.net.rnn.traces[-1][0], d_out[:, :, :H])
        return np.sqrt((steps.d_c**2).sum(axis=(1, 2)))

    def evaluate(self) -> dict:
        batch = self.eval_batch
        probs = self.net.predict(batch.x)
        acc, seq_acc = accuracy(self.task, probs, batch.targets)
        loss, grads, _ = self.net.loss_and_grads(batch.x, batch.targets, self.task.mode)
        profile = self.gradient_profile()
        model = self.scenario.section("model")
        metrics = {
            "accuracy": acc,
            "chance": round(self.task.chance, 4),
            "loss": float(loss),
            "task": self.task.name,
            "T": self.task.length,
            "cell": model["cell"],
            "grad_ratio_init": gradient_ratio(self.init_profile),
            "grad_ratio_final": gradient_ratio(profile),
            "weight_hh_l0_grad_norm": float(np.linalg.norm(grads["weight_hh_l0"])),
            "grad_norm_max": self.grad_norm_max,
            "parameters": int(sum(p.size for p in self.net.params.values())),
        }
        if self.task.mode == "all":
            metrics["sequence_accuracy"] = seq_acc
        if self.net.cell == "lstm":
            metrics["cell_grad_ratio_init"] = gradient_ratio(self.init_cell_profile)
            metrics["cell_grad_ratio_final"] = gradient_ratio(self.cell_gradient_profile())
        return metrics

    # ---- stepping ---------------------------------------------------------------
    def walk(self, input=None) -> SequenceWalk:
        """Forward and step-by-step BPTT over one sequence: a fresh sample (None), the
        user's symbols (a str), or the Batch of an earlier walk."""
        return self._walk(self._sample(input))

    def _sample(self, input) -> Batch:
        if isinstance(input, Batch):
            return input
        if input is None:
            rng = np.random.default_rng([self.scenario.seed, 0, STEP_STREAM, self._samples])
            self._samples += 1
            return _read_only(self.task.batch(rng, 1))
        codes = self.task.parse(str(input))
        if self.task.name not in ("xor", "spell") and len(codes) < 2 and self.task.mode == "all":
            raise ValueError("type at least 2 symbols")
        if len(codes) > MAX_STEPPING_SYMBOLS:
            raise ValueError(
                f"the input has {len(codes):,} symbols; stepping takes at most "
                f"{MAX_STEPPING_SYMBOLS:,}"
            )
        return _read_only(self.task.encode(codes))

    def _walk(self, sample: Batch) -> SequenceWalk:
        net, task, rnn = self.net, self.task, self.net.rnn
        logits, loss, d_out = net.loss_and_d_out(sample.x, sample.targets, task.mode)
        step_grads = bptt.recurrent_stepwise(rnn, d_out)
        parts = view.parts(rnn.num_layers, rnn.directions)
        T, H, names = sample.x.shape[0], rnn.hidden_size, GATE_NAMES[net.cell]
        states = np.zeros((T, len(parts), 2, H))
        gates = np.zeros((T, len(parts), max(len(names), 1), H))
        for p, (layer, direction, _) in enumerate(parts):
            trace = rnn.traces[layer][direction]
            order = slice(None, None, -1 if direction else 1)  # back to original time order
            states[:, p, 0] = trace.out[order, 0]
            if net.cell == "lstm":
                states[:, p, 1] = trace.c[order, 0]
            if names:
                gates[:, p] = trace.gates[order, 0].reshape(T, len(names), H)
        grads = tuple(step_grads[(layer, direction)] for layer, direction, _ in parts)
        d_h_norms = np.array([np.sqrt((g.d_h[:, 0] ** 2).sum(axis=1)) for g in grads])
        d_c_norms = None
        if net.cell == "lstm":
            d_c_norms = np.array([np.sqrt((g.d_c[:, 0] ** 2).sum(axis=1)) for g in grads])
        probs = softmax(logits[:, 0].astype(np.float64))
        frozen = [states, gates, probs, d_h_norms, d_c_norms]
        for g in grads:
            frozen += [g.d_h, g.d_gates, g.d_c, g.d_input, g.weight_hh.sums]
        for array in frozen:
            if array is not None:
                array.setflags(write=False)  # before the views below, so they are read-only
        traces: dict = {}
        for p, (layer, direction, _) in enumerate(parts):
            key = view.key(layer, direction)
            add_traces(traces, net.cell, key, states[:, p], gates[:, p])
            traces[f"dh{key}"] = grads[p].d_h[:, 0]
        targets = np.full(T, -1)
        if task.mode == "last":
            targets[-1] = sample.targets[0]
        else:
            targets[:] = sample.targets[:, 0]
        labels = tuple(task.class_labels[c] if c >= 0 else "" for c in targets)
        return SequenceWalk(
            sample, 2 * T, steps=T, cell=net.cell, parts=parts,
            tokens=tuple(task.token(int(c)) for c in sample.codes[:, 0]), labels=labels,
            targets=targets, x=sample.x[:, 0], probs=probs, loss=float(loss), states=states,
            gates=gates, grads=grads, d_h_norms=d_h_norms, d_c_norms=d_c_norms, traces=traces,
        )  # fmt: skip

    def frame(self, walk: SequenceWalk, t: int) -> Frame:
        """t < T: forward step t; T <= t < 2T: BPTT step 2T-1-t (from T-1 down to 0)."""
        T = walk.steps
        history = view.loss_series(self.loss_history)
        phase, status, shown = "forward", "", t
        if t < 0:
            panels = [view.sequence_panel(walk, -1), history]
            status, shown = view.START_STATUS, -1
        elif t < T:
            weight_hh = self.net.rnn.params["weight_hh_l0"]
            panels = view.forward_panels(walk, t, self.task, weight_hh)
            panels += [history, view.norm_series(self.grad_norms)]
        else:
            shown = 2 * T - 1 - t
            panels = [
                *view.backward_panels(walk, shown),
                history,
                view.norm_series(self.grad_norms),
            ]
            phase, status = "backward", f"backward through time: step {shown} of {T - 1}..0"
        loss = self.loss_history[-1] if self.loss_history else None
        return Frame(
            self.title(),
            shown,
            T,
            panels,
            phase=phase,
            train_step=self.train_step,
            loss=loss,
            status=status,
        )

    def title(self) -> str:
        model = self.scenario.section("model")
        shape = f"{model['cell'].upper()} {model['hidden']}"
        if model["num_layers"] > 1:
            shape += f" x{model['num_layers']} layers"
        if model["bidirectional"]:
            shape = "bidirectional " + shape
        return f"{self.scenario.name} - {shape}"

    def warmup_tasks(self):
        cell = self.net.cell

        def tiny():
            model = Recurrent(cell, 3, 2)
            model.forward(np.zeros((2, 1, 3), np.float32))
            model.backward(np.ones((2, 1, 2), np.float32))

        return [(f"{cell} forward + backward", tiny), ("one training update", self._warm)]

    def _warm(self) -> None:
        batch = self.task.batch(np.random.default_rng(0), 2)
        self.net.loss_and_grads(batch.x, batch.targets, self.task.mode)


def _read_only(batch: Batch) -> Batch:
    """A stepping sample: walked again after every update, so nothing may change it."""
    for array in (batch.codes, batch.x, batch.targets):
        array.setflags(write=False)
    return batch


LAB = SequenceLab
HEADLINE_METRICS = ("accuracy", "loss", "grad_ratio_final")
