"""Neural Turing Machine lab: an LSTM (or feed-forward) controller with a memory matrix it
reads and writes through soft attention (Graves, Wayne and Danihelka 2014), on the
paper's bit-vector tasks.

Stepping shows one episode: the input, target and output bits, the memory M_t, each head's
weighting of this step and its history (time across, slot down, as in the paper's figures),
the four addressing stages (content, interpolated, shifted, sharpened) side by side, erase and
add vectors, read vectors and each head's beta, g, gamma and shift. Training (BPTT over whole
episodes) updates the cost curve. model.controller_only = true drops the heads and memory: a
plain LSTM on the same task (the paper's baseline).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from kernels import optim
from kernels.ntm import NTMShape, backward, forward, init_params, views
from kernels.ntm.layout import CONTROLLERS, INIT_SCHEMES, grown_logits, with_slots
from tui_lab.frames import Frame
from tui_lab.interop import WEIGHTS
from tui_lab.labs import _ntm_view as view
from tui_lab.labs._training import decayed_lr
from tui_lab.labs.base import OWN_INPUT, Lab, Walk
from tui_lab.scenario import Field, ScenarioError
from tui_lab.tasks import ntm_tasks
from tui_lab.tasks.ntm_tasks import (
    Episodes,
    TaskSpec,
    batch_for_update,
    eval_batches,
    make_batch,
)

SCHEMA = {
    "data": {
        "task": Field("str", "copy", choices=ntm_tasks.TASKS),
        "bits": Field("int", 8, min=1, max=64, doc="bits per vector"),
        "min_length": Field("int", 1, min=1, max=1000, doc="copy, repeat copy: shortest sequence"),
        "max_length": Field("int", 20, min=1, max=1000, doc="copy, repeat copy: longest sequence"),
        "min_repeats": Field("int", 1, min=1, max=100, doc="repeat copy"),
        "max_repeats": Field("int", 10, min=1, max=100, doc="repeat copy"),
        "min_items": Field("int", 2, min=2, max=100, doc="associative recall"),
        "max_items": Field("int", 6, min=2, max=100, doc="associative recall"),
        "item_length": Field("int", 3, min=1, max=20, doc="associative recall: vectors per item"),
        "sort_inputs": Field("int", 20, min=1, max=1000, doc="priority sort: vectors in"),
        "sort_outputs": Field("int", 16, min=1, max=1000, doc="priority sort: vectors out"),
        "eval_episodes": Field("int", 320, min=1, max=100_000, doc="fresh episodes per metric"),
        "eval_lengths": Field(
            "int_list",
            [20, 40, 80, 120],
            min=1,
            max=1000,
            doc="copy, repeat copy: lengths for wrong_bits_by_length (generalisation)",
        ),
        "eval_slots": Field(
            "int",
            0,
            min=0,
            max=4096,
            doc="memory rows for the metrics, the held-out choice and the episodes you step "
            "through; 0 = model.slots. More: the trained model on a larger memory (no weight "
            "depends on N; the new slots start unweighted), to copy sequences longer than "
            "the training memory holds",
        ),
        "eval_repeats": Field(
            "int_list",
            [],
            min=1,
            max=100,
            doc="repeat copy: repeat counts for wrong_bits_by_repeats (lengths as trained)",
        ),
    },
    "model": {
        "controller_only": Field("bool", False, doc="no memory: a plain LSTM baseline"),
        "controller": Field(
            "str", "lstm", choices=CONTROLLERS, doc="lstm, or feedforward: h = tanh(W u + b)"
        ),
        "hidden": Field("int", 100, min=1, max=4096, doc="controller units"),
        "slots": Field("int", 128, min=2, max=4096, doc="memory rows N"),
        "width": Field("int", 20, min=1, max=1024, doc="memory row width W"),
        "read_heads": Field("int", 1, min=0, max=16),
        "write_heads": Field("int", 1, min=0, max=16),
        "shift_range": Field("int", 1, min=0, max=16, doc="shifts -s..s"),
        "dtype": Field("str", "float32", choices=("float32", "float64")),
        "init": Field(
            "str",
            "auto",
            choices=("auto", *INIT_SCHEMES),
            doc="ntm (pytorch-ntm's wide init), pytorch (PyTorch's defaults); "
            "auto = ntm with memory, pytorch for controller_only",
        ),
        "weights": WEIGHTS,
    },
    "train": {
        "updates": Field("int", 20_000, min=0, max=10_000_000, doc="optimizer updates"),
        "batch": Field("int", 1, min=1, max=1024, doc="episodes per update"),
        "parallel": Field("bool", True, doc="episodes of a batch in parallel threads"),
        "optimizer": Field("str", "rmsprop_graves", choices=("rmsprop_graves", "adam")),
        "lr": Field("float", 1e-4, min=1e-7, max=1.0, live=True),
        "lr_final": Field(
            "float",
            0.0,
            min=0.0,
            max=1.0,
            live=True,
            doc="0 = constant lr; else lr falls geometrically to this at the last update",
        ),
        "lr_decay_start": Field(
            "float",
            0.0,
            min=0.0,
            max=0.999,
            live=True,
            doc="fraction of train.updates run at train.lr before the fall to lr_final",
        ),
        "momentum": Field("float", 0.9, min=0.0, max=0.999, live=True, doc="RMSProp"),
        "decay": Field("float", 0.95, min=0.0, max=0.9999, live=True, doc="RMSProp"),
        "clip_value": Field(
            "float", 10.0, min=0.0, max=1e6, live=True, doc="element-wise gradient clip; 0 = off"
        ),
        "clip_norm": Field(
            "float", 50.0, min=0.0, max=1e9, live=True, doc="global-norm gradient clip; 0 = off"
        ),
        "select_every": Field(
            "int",
            0,
            min=0,
            max=10_000_000,
            doc="every k updates score the weights on held-out episodes (select_lengths) and "
            "end the run with the best seen; 0 = off: the run ends with its last weights",
        ),
        "select_lengths": Field(
            "int_list",
            list(range(25, 36)),
            min=1,
            max=1000,
            doc="copy, repeat copy: sequence lengths of the held-out episodes select_every "
            "scores (other tasks: the training distribution)",
        ),
        "select_episodes": Field(
            "int", 4, min=1, max=1000, doc="held-out episodes per select length"
        ),
    },
}

BITS_PER_NAT = 1.0 / math.log(2.0)
VIEW_STREAM = 2**31 - 2  # seeds the episodes shown when stepping (never trained on)
SELECT_STREAM = 2**31 - 3  # seeds the held-out episodes train.select_every scores
EVAL_BATCH = 32
MAX_STEPPING_LENGTH = 1000  # an own input's sequence length: data.max_length's own limit
MAX_WALK_MB = 256
"""The most memory one stepped episode may take (its forward trace, which the walk holds):
the length a user asks for is refused beyond it, not run until the machine runs out."""


def task_spec(scenario) -> TaskSpec:
    data = scenario.section("data")
    fields = {k: data[k] for k in TaskSpec.__dataclass_fields__ if k in data}
    return TaskSpec(**fields)


def model_shape(scenario) -> NTMShape:
    spec = task_spec(scenario)
    m = scenario.section("model")
    heads = (0, 0) if m["controller_only"] else (m["read_heads"], m["write_heads"])
    return NTMShape(
        spec.input_width,
        spec.output_width,
        m["hidden"],
        m["slots"],
        m["width"],
        heads[0],
        heads[1],
        m["shift_range"],
        m["controller"],
    )


def evaluation_slots(scenario) -> int:
    """Memory rows the metrics and stepped episodes use (data.eval_slots, 0 = model.slots)."""
    return scenario.get("data.eval_slots") or scenario.get("model.slots")


def init_scheme(scenario) -> str:
    m = scenario.section("model")
    if m["init"] != "auto":
        return m["init"]
    return "pytorch" if m["controller_only"] else "ntm"


def check_scenario(scenario) -> None:
    data, model = scenario.section("data"), scenario.section("model")
    where = scenario.source
    for low, high in (
        ("min_length", "max_length"),
        ("min_repeats", "max_repeats"),
        ("min_items", "max_items"),
    ):
        if data[low] > data[high]:
            raise ScenarioError(
                f"{where}: data.{low} = {data[low]} is above data.{high} = {data[high]}"
            )
    if data["sort_outputs"] > data["sort_inputs"]:
        raise ScenarioError(
            f"{where}: data.sort_outputs = {data['sort_outputs']} is above "
            f"data.sort_inputs = {data['sort_inputs']}"
        )
    if 0 < data["eval_slots"] < model["slots"]:
        raise ScenarioError(
            f"{where}: data.eval_slots = {data['eval_slots']} is below model.slots = "
            f"{model['slots']} (0 = the training memory; more = a larger one)"
        )
    if 2 * model["shift_range"] + 1 > model["slots"]:
        raise ScenarioError(
            f"{where}: model.shift_range = {model['shift_range']} needs at least "
            f"{2 * model['shift_range'] + 1} memory slots (model.slots)"
        )


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class NTMWalk(Walk):
    """One episode run through the model: T steps, every array read-only (views into the
    forward trace, no copies).

    input: the episode (Episodes of one), walked again as it is after training.
    inputs [T, X] bits in; targets [T, Y] bits to write (zero on unscored steps); mask [T]
    1 on scored steps; outputs [T, Y] sigmoid outputs; wrong_bits [T, Y] 1 where a scored
    output bit is on the wrong side of 0.5; wrong [T] wrong bits up to and including step t.
    hidden [T+1, H] controller output (row 0: the initial state).
    memory [T+1, N, W]: row t + 1 after step t, row 0 the initial memory. w0 [heads, N]
    the initial weightings; stages [T, heads, 4, N] the content, interpolated, shifted and
    sharpened weightings of each step; weightings [T, heads, N] the sharpened one (w_t);
    heads [T, P] activated head parameters (key, beta, g, gamma, shift; erase, add);
    reads [T+1, R, W] read vectors (row 0: read0). history_rows [S] the slots the weighting
    histories show; all_inside: every slot a head weights most at some step is among them;
    step_labels: "0" .. "T-1", the histories' column labels (made once, not per frame).

    Memory: the forward trace of one episode, O(T (N W Wh + 5 heads N + H + P)) values of
    the model's dtype: a copy episode of 120 vectors (T = 241) with 128 x 20 memory and
    two heads holds ~4 MB in float32, ~8 MB in float64. Walks over MAX_WALK_MB are refused.
    """

    inputs: np.ndarray | None = None
    targets: np.ndarray | None = None
    mask: np.ndarray | None = None
    outputs: np.ndarray | None = None
    wrong_bits: np.ndarray | None = None
    wrong: np.ndarray | None = None
    hidden: np.ndarray | None = None
    memory: np.ndarray | None = None
    w0: np.ndarray | None = None
    stages: np.ndarray | None = None
    weightings: np.ndarray | None = None
    heads: np.ndarray | None = None
    reads: np.ndarray | None = None
    history_rows: np.ndarray | None = None
    all_inside: bool = True
    step_labels: tuple[str, ...] = ()


def trace_bytes(shape: NTMShape, steps: int, itemsize: int) -> int:
    """Bytes of the forward trace of one episode of `steps` steps (what a walk holds)."""
    N, W, H = shape.slots, shape.width, shape.hidden
    per_step = (
        shape.write_heads * N * W  # the memory before each write
        + shape.heads * 5 * N  # the addressing stages
        + shape.read_heads * W
        + 2 * H
        + shape.gate_rows
        + shape.head_rows
        + shape.controller_inputs
        + shape.outputs
    )
    return (steps * per_step + N * W + 2 * H + shape.read_heads * W) * itemsize


class NTMLab(Lab):
    kind = "ntm"
    capabilities = frozenset({OWN_INPUT})

    def __init__(self, scenario):
        super().__init__(scenario)
        check_scenario(scenario)  # again: values from --set are not cross-checked on parse
        self.spec = task_spec(scenario)
        self.shape = model_shape(scenario)
        self.dtype = np.dtype(scenario.get("model.dtype"))
        rng = np.random.default_rng([scenario.seed, 1])
        self.flat = init_params(self.shape, rng, self.dtype, init_scheme(scenario))
        # the feed-forward controller's zero-size entries (no weight_hh, h0, c0) stay out of
        # the optimizer and the checkpoint
        self._params = {k: v for k, v in views(self.shape, self.flat).items() if v.size}
        self.optimizer = self._make_optimizer()
        self.view_count = 0  # episodes drawn for stepping so far: the next fresh one is new
        # train.select_every: the best weights seen on the held-out episodes, their score
        # (wrong bits, cost bits) summed over those episodes, and the update they are from
        self._held_out: list[Episodes] | None = None
        self._best_flat: np.ndarray | None = None
        self._best_score = (math.inf, math.inf)
        self._best_update = -1

    # ---- model and training ---------------------------------------------------------
    def _make_optimizer(self):
        train = self.scenario.section("train")
        if train["optimizer"] == "adam":
            return optim.Adam(self._params, lr=train["lr"])
        return optim.RMSPropGraves(
            self._params, lr=train["lr"], decay=train["decay"], momentum=train["momentum"]
        )

    def learning_rate(self, update: int) -> float:
        return decayed_lr(self.scenario.section("train"), update)

    def on_live_change(self, dotted: str) -> None:
        train = self.scenario.section("train")
        self.optimizer.lr = self.learning_rate(self.train_step)
        if isinstance(self.optimizer, optim.RMSPropGraves):
            self.optimizer.momentum = train["momentum"]
            self.optimizer.decay = train["decay"]

    def parameters(self) -> dict[str, np.ndarray]:
        return self._params

    def optimizer_state(self) -> dict[str, np.ndarray]:
        return self.optimizer.state_dict()

    def load_optimizer_state(self, state) -> None:
        if state:
            self.optimizer.load_state_dict(state)

    def total_train_steps(self) -> int:
        return self.scenario.get("train.updates")

    def run(self, episodes, threaded=None, model=None):
        """Forward trace of a batch of episodes with the training model, or with `model`
        = (shape, flat) (evaluation_model())."""
        if threaded is None:
            threaded = self.scenario.get("train.parallel")
        shape, flat = model or (self.shape, self.flat)
        return forward(shape, flat, episodes.inputs, episodes.lengths, threaded)

    @property
    def eval_shape(self) -> NTMShape:
        """The model's shape on the evaluation memory (data.eval_slots)."""
        return replace(self.shape, slots=evaluation_slots(self.scenario))

    def evaluation_model(self) -> tuple[NTMShape, np.ndarray]:
        """(shape, flat) of the current weights on the evaluation memory: the training
        model itself when data.eval_slots is 0 or model.slots, else a grown copy."""
        return with_slots(self.shape, self.flat, evaluation_slots(self.scenario))

    def train_one(self) -> float:
        """One update on batch k = self.train_step; returns the cost in bits per sequence."""
        train = self.scenario.section("train")
        B = train["batch"]
        episodes = batch_for_update(self.spec, self.scenario.seed, self.train_step, B)
        trace = self.run(episodes)
        losses, grads = backward(
            trace, episodes.targets, episodes.mask, BITS_PER_NAT / B, train["parallel"]
        )
        flat = grads.pop("flat")
        cost = float(losses.mean() * BITS_PER_NAT)
        if not (math.isfinite(cost) and np.isfinite(flat).all()):
            return float("nan")
        if train["clip_norm"] > 0:
            optim.clip_global_norm([flat], train["clip_norm"])
        if train["clip_value"] > 0:
            optim.clip_elementwise(flat, train["clip_value"])
        self.optimizer.lr = self.learning_rate(self.train_step)
        self.optimizer.step(grads)
        self._select(self.train_step + 1)
        return cost

    # ---- choosing the final weights on held-out lengths ---------------------------------
    def held_out_episodes(self) -> list[Episodes]:
        """The fixed episodes train.select_every scores: for copy and repeat copy
        select_episodes of each length in select_lengths (longer than trained on, so the
        choice favours weights that generalise), else select_episodes x len(select_lengths)
        of the training distribution. Drawn once from their own stream: never trained on,
        not the evaluation's episodes."""
        if self._held_out is None:
            train = self.scenario.section("train")
            n, lengths = train["select_episodes"], train["select_lengths"]
            rng = np.random.default_rng([self.scenario.seed, SELECT_STREAM])
            if self.spec.task in ("copy", "repeat_copy"):
                specs = [self.spec.with_length(length) for length in lengths]
                self._held_out = [make_batch(spec, rng, n) for spec in specs]
            else:
                self._held_out = [make_batch(self.spec, rng, n * len(lengths))]
        return self._held_out

    def held_out_score(self) -> tuple[float, float]:
        """(wrong bits, cost bits) of the current weights summed over the held-out episodes."""
        wrong = cost = 0.0
        model = self.evaluation_model()
        for episodes in self.held_out_episodes():
            w, c = self._score_batch(episodes, model)
            wrong, cost = wrong + w, cost + c
        return wrong, cost

    def _select(self, updates_done: int) -> None:
        """With train.select_every = k: after every k-th update (and the last) score the
        weights on the held-out episodes and keep a copy if they beat the best so far (fewer
        wrong bits; on a tie, lower cost); after the last update (train.updates) put the best
        in place, so the run's final model is the one chosen on held-out lengths."""
        every, total = self.scenario.get("train.select_every"), self.total_train_steps()
        if every <= 0 or updates_done > total:
            return
        if updates_done % every == 0 or updates_done == total:
            score = self.held_out_score()
            if score < self._best_score:
                self._best_score, self._best_update = score, updates_done
                self._best_flat = self.flat.copy()
        if updates_done == total and self._best_flat is not None:
            self.flat[...] = self._best_flat

    def selection(self) -> dict:
        """What train.select_every chose: the update the final weights are from and their
        held-out score; {} when selection is off or has not scored yet."""
        if self._best_update < 0:
            return {}
        wrong, cost = self._best_score
        count = sum(len(episodes.lengths) for episodes in self.held_out_episodes())
        return {
            "selected_update": self._best_update,
            "select_wrong_bits": round(wrong / count, 4),
            "select_cost_bits": round(cost / count, 4),
        }

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """As Lab's, and a checkpoint of a smaller memory fits a larger one (model.slots =
        more, e.g. to copy 200 vectors with a model trained with 128 slots): only the initial
        weighting's logits [heads, N] depend on N; the new slots get logits 30 below the
        lowest, so the initial weighting is the trained one (new slots ~1e-13 of the
        largest), and zero optimizer state. The held-out selection's copy is dropped then."""
        key = "param/weight0_logits"
        grown = key in arrays and 0 < arrays[key].shape[-1] < self.shape.slots
        if grown:
            arrays = dict(arrays)
            extra = self.shape.slots - arrays[key].shape[-1]
            for name, value in arrays.items():
                if name == key:
                    arrays[name] = grown_logits(value, self.shape.slots)
                elif name.startswith("optim/") and name.endswith(".weight0_logits"):
                    arrays[name] = np.pad(value, ((0, 0), (0, extra)))
            arrays = {k: v for k, v in arrays.items() if not k.startswith("extra/select_")}
        super().load_state_arrays(arrays)

    def extra_state(self) -> dict[str, np.ndarray]:
        if self._best_flat is None:
            return {}
        score = np.array([*self._best_score, self._best_update], dtype=np.float64)
        return {"select_best_flat": self._best_flat, "select_best": score}

    def load_extra_state(self, state) -> None:
        if "select_best_flat" in state:
            self._best_flat = np.array(state["select_best_flat"], dtype=self.dtype)
            wrong, cost, update = (float(v) for v in state["select_best"])
            self._best_score, self._best_update = (wrong, cost), int(update)

    def score(self, spec: TaskSpec, total: int) -> tuple[float, float]:
        """(mean wrong bits, mean cost in bits) per sequence over `total` fresh episodes."""
        wrong = cost = 0.0
        model = self.evaluation_model()
        for episodes in eval_batches(spec, self.scenario.seed, total, EVAL_BATCH):
            w, c = self._score_batch(episodes, model)
            wrong, cost = wrong + w, cost + c
        return wrong / total, cost / total

    def _score_batch(self, episodes: Episodes, model) -> tuple[float, float]:
        """(wrong bits, cost bits) summed over a batch of episodes, model = (shape, flat)."""
        trace = self.run(episodes, threaded=True, model=model)
        logits = trace.logits.transpose(1, 0, 2).astype(np.float64)
        targets, mask = episodes.targets, episodes.mask[:, :, None]
        wrong = float((((logits > 0) != (targets > 0.5)) * mask).sum())
        bce = np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))
        return wrong, float((bce * mask).sum()) * BITS_PER_NAT

    def _score_variants(self, metrics, suffix, specs, trained_max, total) -> None:
        """metrics["wrong_bits_" + suffix] and ["cost_bits_" + suffix]: {str(k): value} for
        each variant spec; variants past the trained range get a tenth of the episodes (they
        are long), at least 32."""
        wrong, cost = {}, {}
        for key, spec in specs.items():
            n = max(32, total // 10) if key > trained_max else total
            w, c = self.score(spec, n)
            wrong[str(key)] = round(w, 4)
            cost[str(key)] = round(c, 4)
        metrics["wrong_bits_" + suffix] = wrong
        metrics["cost_bits_" + suffix] = cost

    def evaluate(self) -> dict:
        """wrong_bits: mean wrong bits per sequence (threshold 0.5) on fresh episodes of the
        training distribution; cost_bits: BCE in bits per sequence; for copy and repeat copy
        also wrong_bits_by_length (and cost_bits_by_length) at data.eval_lengths, for repeat
        copy wrong_bits_by_repeats at data.eval_repeats."""
        total = self.scenario.get("data.eval_episodes")
        wrong, cost = self.score(self.spec, total)
        metrics = {
            "wrong_bits": round(wrong, 4),
            "cost_bits": round(cost, 4),
            "eval_episodes": total,
            "train_sequences": self.train_step * self.scenario.get("train.batch"),
            "parameters": self.shape.size,
            **self.selection(),
        }
        if self.spec.task in ("copy", "repeat_copy"):
            lengths = self.scenario.get("data.eval_lengths")
            specs = {n: self.spec.with_length(n) for n in lengths}
            self._score_variants(metrics, "by_length", specs, self.spec.max_length, total)
        if self.spec.task == "repeat_copy" and self.scenario.get("data.eval_repeats"):
            repeats = self.scenario.get("data.eval_repeats")
            specs = {n: self.spec.with_repeats(n) for n in repeats}
            self._score_variants(metrics, "by_repeats", specs, self.spec.max_repeats, total)
        return metrics

    # ---- stepping ---------------------------------------------------------------------
    def walk(self, input=None) -> NTMWalk:
        """Run one episode: a fresh one (None), one of the sequence length a user gives (a
        whole number; copy and repeat copy use it), or an earlier walk's episode again."""
        if isinstance(input, Episodes):
            episode = input
        else:
            spec = self.spec if input is None else self.spec.with_length(_length(input))
            rng = np.random.default_rng([self.scenario.seed, VIEW_STREAM, self.view_count])
            episode = make_batch(spec, rng, 1)
            self.view_count += 1
        T = int(episode.lengths[0])
        shape, flat = self.evaluation_model()
        size = trace_bytes(shape, T, self.dtype.itemsize)
        if size > MAX_WALK_MB * 2**20:
            raise ValueError(
                f"an episode of {T:,} steps needs {size / 2**20:,.0f} MB to step through with "
                f"this model's {shape.slots} x {shape.width} memory; stepping takes "
                f"at most {MAX_WALK_MB} MB"
            )
        trace = self.run(episode, threaded=False, model=(shape, flat))
        return _walk_of(episode, trace, shape)

    def frame(self, walk: NTMWalk, t: int) -> Frame:
        shape = self.eval_shape
        name = view.title(self.scenario.name, shape, self.spec.task)
        return view.frame(walk, t, shape, name, self.loss_history, self.train_step)

    def warmup_tasks(self):
        def tiny(dtype):
            def run():
                shape = NTMShape(3, 2, 2, 4, 2)
                flat = init_params(shape, np.random.default_rng(0), dtype)
                x = np.zeros((2, 2, 3), dtype)
                for threaded in (False, True):
                    trace = forward(shape, flat, x, None, threaded)
                    backward(trace, np.zeros((2, 2, 2)), np.ones((2, 2)), 1.0, threaded)

            return run

        return [(f"NTM forward + backward ({self.dtype.name})", tiny(self.dtype))]


def _length(text) -> int:
    """A user's sequence length: a whole number in 1..MAX_STEPPING_LENGTH."""
    try:
        length = int(text)
    except (TypeError, ValueError):
        raise ValueError(
            f"the NTM steps through an episode of a sequence length you give: a whole number, "
            f"not {text!r}"
        ) from None
    if length < 1:
        raise ValueError(f"sequence length must be >= 1, got {length}")
    if length > MAX_STEPPING_LENGTH:
        raise ValueError(
            f"sequence length {length:,}: stepping takes at most {MAX_STEPPING_LENGTH:,}"
        )
    return length


def _walk_of(episode: Episodes, trace, shape: NTMShape) -> NTMWalk:
    """The walk of a one-episode forward trace: read-only views, nothing copied but the
    outputs (sigmoid) and the running count of wrong bits."""
    T = int(episode.lengths[0])
    mask = episode.mask[:T, 0]
    targets = episode.targets[:T, 0] * mask[:, None]
    outputs = _sigmoid(trace.logits[0, :T].astype(np.float64))
    wrong_bits = ((outputs > 0.5) != (episode.targets[:T, 0] > 0.5)) * mask[:, None]
    addr = trace.addr[0, :T]
    N, W = shape.slots, shape.width
    Wh = shape.write_heads
    # mems [T*Wh + 1, N, W]: row t*Wh + q is the memory before write head q of step t, so
    # every Wh-th row is the memory after a whole step; with no write head it never changes.
    if Wh:
        memory = trace.mems[0, : T * Wh + 1 : Wh]
    else:
        memory = np.broadcast_to(trace.mems[0, :1], (T + 1, N, W))
    weightings = addr[:, :, 4]
    rows, inside = view.history_slots(weightings, N) if shape.heads else (np.arange(0), True)
    arrays = {
        "inputs": episode.inputs[:T, 0],
        "targets": targets,
        "mask": mask,
        "outputs": outputs,
        "wrong_bits": wrong_bits.astype(np.float64),
        "wrong": np.cumsum(wrong_bits.sum(axis=1)),
        "hidden": trace.hs[0, : T + 1],
        "memory": memory,
        "w0": trace.w0,
        "stages": addr[:, :, 1:5],
        "weightings": weightings,
        "heads": trace.act[0, :T],
        "reads": trace.reads[0, : T + 1],
        "history_rows": rows,
    }
    for name, array in arrays.items():
        if array.flags.writeable:
            arrays[name] = array.view()
            arrays[name].setflags(write=False)
    labels = tuple(str(step) for step in range(T))
    return NTMWalk(episode, T, all_inside=inside, step_labels=labels, **arrays)


LAB = NTMLab
HEADLINE_METRICS = ("wrong_bits", "cost_bits")
