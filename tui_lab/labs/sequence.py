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

import numpy as np

from tui_lab import bptt
from tui_lab.interop import WEIGHTS
from tui_lab.labs._hooks import HookedLab
from tui_lab.labs._sequence_frames import backward_frame, forward_frame, initial_frame
from tui_lab.labs._training import make_optimizer
from tui_lab.models import Recurrent
from tui_lab.scenario import Field, ScenarioError
from tui_lab.seqnet import SequenceNet, clipped_step, gradient_ratio
from tui_lab.tasks.sequence_tasks import TASK_NAMES, make_task

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


class SequenceLab(HookedLab):
    kind = "sequence"

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
        self._samples = 0
        self.start_sequence(None)

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
    def start_sequence(self, new_input=None, keep_input: bool = False) -> None:
        if new_input is not None:
            codes = self.task.parse(str(new_input))
            if (
                self.task.name not in ("xor", "spell")
                and len(codes) < 2
                and self.task.mode == "all"
            ):
                raise ValueError("type at least 2 symbols")
            self.sample = self.task.encode(codes)
        elif not keep_input or not hasattr(self, "sample"):
            rng = np.random.default_rng([self.scenario.seed, 0, STEP_STREAM, self._samples])
            self._samples += 1
            self.sample = self.task.batch(rng, 1)
        self._precompute()

    def _precompute(self) -> None:
        """Forward and step-by-step BPTT over the stepping sequence; frames index into these."""
        sample = self.sample
        self.step_probs = self.net.predict(sample.x)[:, 0]  # [T, C]
        loss, grads, d_out = self.net.loss_and_grads(sample.x, sample.targets, self.task.mode)
        self.step_loss = loss
        self.step_grads = grads
        self.step_traces = [list(traces) for traces in self.net.rnn.traces]
        self.bptt = bptt.recurrent_stepwise(self.net.rnn, d_out)

    def T(self) -> int:
        return self.sample.x.shape[0]

    def sequence_length(self) -> int:
        return 2 * self.T()

    def initial_frame(self):
        return initial_frame(self)

    def compute_step(self, k: int):
        T = self.T()
        if k < T:
            return forward_frame(self, k)
        return backward_frame(self, T - 1 - (k - T))

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


LAB = SequenceLab
HEADLINE_METRICS = ("accuracy", "loss", "grad_ratio_final")
