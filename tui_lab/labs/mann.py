"""One-shot learning with a memory-augmented neural network (Santoro et al. 2016).

An LSTM controller reads a memory by content (cosine similarity, softmax) and writes with
least-recently-used access: to the slot it read last step or to the least-used slot, through
a learned gate (kernels/mann). Episodes of stroke glyphs (tui_lab/tasks/glyphs.py): a few
classes never seen before, labels shuffled per episode and given one step late; the network
must bind each new glyph to its label the first time it is told, and recall it at the next
presentation. Metrics: accuracy at the 1st, 2nd, 3rd, 5th and 10th presentation of a class,
on held-out classes. model.controller_only = true drops the memory: a plain LSTM of the same
size (the paper's baseline), which must keep the bindings in its cell state.

Stepping walks one held-out episode (a new one at each reset).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from kernels import optim
from kernels.mann import MANNShape, backward, forward, init_params, views
from tui_lab.frames import Frame
from tui_lab.interop import WEIGHTS
from tui_lab.labs import _mann_view as view
from tui_lab.labs._training import decayed_lr
from tui_lab.labs.base import Lab, Walk
from tui_lab.scenario import Field, ScenarioError
from tui_lab.tasks.glyphs import GlyphSpec, batch_for_update, eval_episodes, make_episodes

SCHEMA = {
    "data": {
        "size": Field("int", 20, min=8, max=64, doc="samples are size x size pixels"),
        "classes": Field("int", 5, min=2, max=50, doc="classes (and labels) per episode"),
        "presentations": Field("int", 10, min=1, max=100, doc="samples of each class"),
        "train_glyphs": Field("int", 1200, min=2, max=1_000_000, doc="x 4 rotations"),
        "test_glyphs": Field("int", 400, min=2, max=1_000_000, doc="held out, x 4 rotations"),
        "min_strokes": Field("int", 2, min=1, max=10),
        "max_strokes": Field("int", 4, min=1, max=10),
        "jitter": Field("float", 0.03, min=0.0, max=0.5, doc="control-point noise (unit box)"),
        "tilt": Field("float", 8.0, min=0.0, max=45.0, doc="degrees either way per sample"),
        "shift": Field("float", 1.5, min=0.0, max=10.0, doc="pixels either way per sample"),
        "noise": Field("float", 0.05, min=0.0, max=1.0, doc="pixel noise (std)"),
        "alphabet_seed": Field("int", 0, min=0, max=2**32 - 1, doc="which glyphs exist"),
        "eval_episodes": Field("int", 500, min=1, max=100_000, doc="held-out episodes"),
    },
    "model": {
        "controller_only": Field("bool", False, doc="no memory: a plain LSTM baseline"),
        "hidden": Field("int", 200, min=1, max=4096, doc="LSTM units"),
        "slots": Field("int", 128, min=1, max=4096, doc="memory rows N"),
        "width": Field("int", 40, min=1, max=1024, doc="memory row width M"),
        "heads": Field("int", 4, min=1, max=16, doc="read heads, each also writing"),
        "key_strength": Field(
            "bool", True, doc="learned beta on the cosine (false: the paper's softmax(K))"
        ),
        "gamma": Field("float", 0.95, min=0.0, max=1.0, doc="usage decay"),
        "dtype": Field("str", "float32", choices=("float32", "float64")),
        "weights": WEIGHTS,
    },
    "train": {
        "updates": Field("int", 10_000, min=0, max=10_000_000, doc="optimizer updates"),
        "batch": Field("int", 16, min=1, max=1024, doc="episodes per update"),
        "parallel": Field("bool", True, doc="episodes of a batch in parallel threads"),
        "optimizer": Field("str", "adam", choices=("adam", "rmsprop_graves")),
        "lr": Field("float", 1e-3, min=1e-7, max=1.0, live=True),
        "lr_final": Field(
            "float", 0.0, min=0.0, max=1.0, live=True,
            doc="0 = constant lr; else lr falls geometrically to this at the last update",
        ),
        "lr_decay_start": Field(
            "float", 0.0, min=0.0, max=0.999, live=True,
            doc="fraction of train.updates run at train.lr before the fall to lr_final",
        ),
        "clip_norm": Field(
            "float", 10.0, min=0.0, max=1e9, live=True, doc="global-norm gradient clip; 0 = off"
        ),
    },
}  # fmt: skip

VIEW_STREAM = 11  # seeds the held-out episodes shown when stepping
EVAL_BATCH = 50
PRESENTATIONS_REPORTED = (1, 2, 3, 5, 10)
READ_CAPTION = "softmax of the cosine with each key, after the write"
WRITE_CAPTION = "sigma w_read(t-1) + (1 - sigma) one-hot(least used)"


def glyph_spec(scenario) -> GlyphSpec:
    data = scenario.section("data")
    return GlyphSpec(**{k: data[k] for k in GlyphSpec.__dataclass_fields__ if k in data})


def model_shape(scenario) -> MANNShape:
    spec = glyph_spec(scenario)
    m = scenario.section("model")
    heads = 0 if m["controller_only"] else m["heads"]
    return MANNShape(
        spec.input_width, spec.classes, m["hidden"], m["slots"], m["width"], heads,
        m["key_strength"],
    )  # fmt: skip


def check_scenario(scenario) -> None:
    data, model = scenario.section("data"), scenario.section("model")
    where = scenario.source
    if data["min_strokes"] > data["max_strokes"]:
        raise ScenarioError(
            f"{where}: data.min_strokes = {data['min_strokes']} is above "
            f"data.max_strokes = {data['max_strokes']}"
        )
    for split in ("train", "test"):
        if 4 * data[f"{split}_glyphs"] < data["classes"]:
            raise ScenarioError(
                f"{where}: data.{split}_glyphs = {data[f'{split}_glyphs']} make "
                f"{4 * data[f'{split}_glyphs']} classes; an episode needs data.classes = "
                f"{data['classes']}"
            )
    if not model["controller_only"] and model["heads"] > model["slots"]:
        raise ScenarioError(
            f"{where}: model.heads = {model['heads']} need as many least-used slots; "
            f"model.slots = {model['slots']}"
        )


@dataclass(frozen=True)
class MANNWalk(Walk):
    """One held-out episode run through the network. input: the episode's number in the
    viewing stream. All arrays read-only, float64 but the integer ones:

    samples [T, S, S], labels, guesses, presentation, classes [T], label_in [T, Y] (the
    one-hot label arriving with step t), probs [T, Y], hidden [T+1, H]; with memory:
    memory [T+1, N, M], usage [T+1, N], w_read [T+1, R, N] (index 0 = before the first
    step), w_write [T, R, N], least_used [T, R] (the slots of smallest u_{t-1}; [t, 0] is
    zeroed and written), sigma [T, R] (write gates); so_far [T, P]: accuracy at each
    presentation over steps 0..t (NaN where there was none yet)."""

    samples: np.ndarray | None = None
    labels: np.ndarray | None = None
    guesses: np.ndarray | None = None
    presentation: np.ndarray | None = None
    classes: np.ndarray | None = None
    label_in: np.ndarray | None = None
    probs: np.ndarray | None = None
    hidden: np.ndarray | None = None
    memory: np.ndarray | None = None
    usage: np.ndarray | None = None
    w_read: np.ndarray | None = None
    w_write: np.ndarray | None = None
    least_used: np.ndarray | None = None
    sigma: np.ndarray | None = None
    so_far: np.ndarray | None = None


def _frozen(array, dtype=np.float64) -> np.ndarray:
    out = np.array(array, dtype=dtype)
    out.setflags(write=False)
    return out


def accuracy_so_far(correct: np.ndarray, presentation: np.ndarray, P: int) -> np.ndarray:
    """correct, presentation [T] -> [T, P]: accuracy at presentation p over steps 0..t."""
    T = correct.shape[0]
    hits = np.zeros((T, P))
    seen = np.zeros((T, P))
    hits[np.arange(T), presentation - 1] = correct
    seen[np.arange(T), presentation - 1] = 1.0
    hits, seen = hits.cumsum(0), seen.cumsum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(seen > 0, hits / seen, np.nan)


class MANNLab(Lab):
    kind = "mann"

    def __init__(self, scenario):
        super().__init__(scenario)
        check_scenario(scenario)  # again: values from --set are not cross-checked on parse
        self.spec = glyph_spec(scenario)
        self.shape = model_shape(scenario)
        self.dtype = np.dtype(scenario.get("model.dtype"))
        self.flat = init_params(self.shape, np.random.default_rng([scenario.seed, 1]), self.dtype)
        self._params = {k: v for k, v in views(self.shape, self.flat).items() if v.size}
        self.optimizer = self._make_optimizer()
        self.held_out_curve: np.ndarray | None = None  # set by evaluate(), shown in frames
        self._train_trace = None  # the last update's forward pass, its arrays reused
        self._next_view = 0

    # ---- model and training ---------------------------------------------------------
    def _make_optimizer(self):
        train = self.scenario.section("train")
        if train["optimizer"] == "adam":
            return optim.Adam(self._params, lr=train["lr"])
        return optim.RMSPropGraves(self._params, lr=train["lr"])

    def learning_rate(self, update: int) -> float:
        return decayed_lr(self.scenario.section("train"), update)

    def on_live_change(self, dotted: str) -> None:
        self.optimizer.lr = self.learning_rate(self.train_step)

    def parameters(self) -> dict[str, np.ndarray]:
        return self._params

    def optimizer_state(self) -> dict[str, np.ndarray]:
        return self.optimizer.state_dict()

    def load_optimizer_state(self, state) -> None:
        if state:
            self.optimizer.load_state_dict(state)

    def total_train_steps(self) -> int:
        return self.scenario.get("train.updates")

    def run(self, episodes, threaded=None, reuse=None):
        if threaded is None:
            threaded = self.scenario.get("train.parallel")
        gamma = self.scenario.get("model.gamma")
        return forward(self.shape, self.flat, episodes.inputs, gamma, threaded, reuse)

    def train_one(self) -> float:
        """One update on the B episodes of update k = self.train_step; returns the mean
        cross-entropy per step in nats."""
        train = self.scenario.section("train")
        B = train["batch"]
        episodes = batch_for_update(self.spec, self.scenario.seed, self.train_step, B)
        # the last update's trace arrays, overwritten (kernels/mann/api.forward's reuse)
        trace = self._train_trace = self.run(episodes, reuse=self._train_trace)
        steps = B * self.spec.length
        losses, grads = backward(trace, episodes.labels, None, 1.0 / steps, train["parallel"])
        flat = grads.pop("flat")
        loss = float(losses.sum() / steps)
        if not (math.isfinite(loss) and np.isfinite(flat).all()):
            return float("nan")
        if train["clip_norm"] > 0:
            optim.clip_global_norm([flat], train["clip_norm"])
        self.optimizer.lr = self.learning_rate(self.train_step)
        self.optimizer.step(grads)
        return loss

    def score(self, split: str, total: int) -> tuple[np.ndarray, float]:
        """(accuracy at each presentation [P], mean cross-entropy per step in nats) over
        `total` evaluation episodes of `split`'s classes."""
        P = self.spec.presentations
        hits, seen = np.zeros(P), np.zeros(P)
        loss = 0.0
        for first in range(0, total, EVAL_BATCH):
            episodes = eval_episodes(self.spec, split, first, min(EVAL_BATCH, total - first))
            trace = self.run(episodes, threaded=True)
            logits = trace.logits.transpose(1, 0, 2).astype(np.float64)  # [T, B, Y]
            correct = logits.argmax(-1) == episodes.labels
            index = episodes.presentation.ravel() - 1
            hits += np.bincount(index, correct.ravel(), minlength=P)
            seen += np.bincount(index, minlength=P)
            z = logits - logits.max(-1, keepdims=True)
            log_p = z - np.log(np.exp(z).sum(-1, keepdims=True))
            loss += float(-np.take_along_axis(log_p, episodes.labels[..., None], -1).sum())
        return hits / seen, loss / (total * self.spec.length)

    def evaluate(self) -> dict:
        """accuracy_1st .. accuracy_10th: the fraction of right guesses at the n-th
        presentation of a class, on data.eval_episodes episodes of held-out classes (the
        same episodes for every seed); accuracy_by_presentation: all of them; loss: mean
        cross-entropy per step (nats); train_classes_accuracy_by_presentation: the same on
        training classes (a fifth of the episodes), to tell memorised classes from
        one-shot learning."""
        total = self.scenario.get("data.eval_episodes")
        curve, loss = self.score("test", total)
        train_curve, _ = self.score("train", max(EVAL_BATCH, total // 5))
        self.held_out_curve = curve
        metrics = {
            f"accuracy_{view.ordinal(n)}": round(float(curve[n - 1]), 4)
            for n in PRESENTATIONS_REPORTED
            if n <= self.spec.presentations
        }
        metrics.update(
            accuracy_by_presentation=[round(float(a), 4) for a in curve],
            train_classes_accuracy_by_presentation=[round(float(a), 4) for a in train_curve],
            loss=round(loss, 4),
            eval_episodes=total,
            train_episodes=self.train_step * self.scenario.get("train.batch"),
            parameters=self.shape.size,
            chance=round(1.0 / self.spec.classes, 4),
        )
        return metrics

    # ---- stepping ---------------------------------------------------------------------
    def walk(self, input=None) -> MANNWalk:
        """input: the number of a held-out episode in the viewing stream (None: the next
        one, so a reset shows a new episode)."""
        if input is None:
            input, self._next_view = self._next_view, self._next_view + 1
        index = int(input)
        if index < 0:
            raise ValueError(f"episode number must be >= 0, got {index}")
        rng = np.random.default_rng([self.spec.alphabet_seed, VIEW_STREAM, index])
        ep = make_episodes(self.spec, "test", rng, 1)
        trace = self.run(ep, threaded=False)
        probs = trace.probs[:, 0]
        guesses = probs.argmax(-1)
        labels = ep.labels[:, 0]
        presentation = ep.presentation[:, 0]
        arrays = dict(
            samples=_frozen(ep.samples[:, 0]),
            labels=_frozen(labels, np.int64),
            guesses=_frozen(guesses, np.int64),
            presentation=_frozen(presentation, np.int64),
            classes=_frozen(ep.classes[:, 0], np.int64),
            label_in=_frozen(ep.inputs[:, 0, self.spec.pixels :]),
            probs=_frozen(probs),
            hidden=_frozen(trace.hs[0]),
            so_far=_frozen(
                accuracy_so_far(guesses == labels, presentation, self.spec.presentations)
            ),
        )
        if self.shape.heads:
            M, block = self.shape.width, self.shape.block
            arrays.update(
                memory=_frozen(trace.mems[0]),
                usage=_frozen(trace.usage[0]),
                w_read=_frozen(trace.w_read[0]),
                w_write=_frozen(trace.w_write[0]),
                least_used=_frozen(trace.least_used[0], np.int64),
                sigma=_frozen(trace.act[0].reshape(-1, self.shape.heads, block)[:, :, 2 * M]),
            )
        return MANNWalk(index, self.spec.length, **arrays)

    def _title(self) -> str:
        model = "LSTM" if not self.shape.heads else "MANN"
        return f"{self.scenario.name} - {model}, {self.spec.classes}-way, held-out classes"

    def frame(self, walk: MANNWalk, t: int) -> Frame:
        loss = self.loss_history[-1] if self.loss_history else None
        panels: list = [view.episode_strip(walk.labels, walk.guesses, walk.presentation, t)]
        P = self.spec.presentations
        memory = walk.memory is not None
        if t >= 0:
            label, guess = int(walk.labels[t]), int(walk.guesses[t])
            n = int(walk.presentation[t])
            caption = f"class {int(walk.classes[t])} (held out), its {view.ordinal(n)} sample"
            panels.append(view.sample_panel(walk.samples[t], caption))
            panels.append(view.label_in_panel(walk.label_in[t], t))
            panels.append(view.guess_panel(walk.probs[t], label))
            slot = int(walk.least_used[t, 0]) if memory else None
            sigma = walk.sigma[t] if memory else np.zeros(0)
            panels.append(view.step_scalars(label, guess, n, sigma, slot))
        if memory:
            if t >= 0:
                slot = int(walk.least_used[t, 0])
                when = f"after step {t}: slot {slot} was zeroed, then written"
                panels.append(view.memory_panel(walk.memory[t + 1], slot, when))
                panels.append(view.usage_panel(walk.usage[t + 1], slot, slot))
                read, write = walk.w_read[t + 1], walk.w_write[t]
                panels.append(view.weights_panel("read weights", read, slot, READ_CAPTION))
                panels.append(view.weights_panel("write weights", write, slot, WRITE_CAPTION))
            else:
                panels.append(view.memory_panel(walk.memory[0], 0, "before the first step"))
                panels.append(view.usage_panel(walk.usage[0], 0, 0))
        so_far = walk.so_far[t] if t >= 0 else np.full(P, np.nan)
        panels.append(view.accuracy_panel(so_far, self.held_out_curve))
        panels.append(view.loss_panel(self.loss_history))
        status = "press -> to show the first sample" if t < 0 else ""
        return Frame(
            self._title(), t, walk.length, panels, train_step=self.train_step, loss=loss,
            status=status,
        )  # fmt: skip

    def warmup_tasks(self):
        def tiny():
            shape = MANNShape(3, 2, 2, 4, 2, 1)
            flat = init_params(shape, np.random.default_rng(0), self.dtype)
            x = np.zeros((2, 2, 3), self.dtype)
            for threaded in (False, True):
                trace = forward(shape, flat, x, threaded=threaded)
                backward(trace, np.zeros((2, 2), np.int64), None, 1.0, threaded)

        def glyphs():
            make_episodes(self.spec, "test", np.random.default_rng(0), 1)

        return [
            (f"MANN forward + backward ({self.dtype.name})", tiny),
            ("glyph renderer", glyphs),
        ]


LAB = MANNLab
HEADLINE_METRICS = ("accuracy_1st", "accuracy_2nd", "accuracy_5th")
