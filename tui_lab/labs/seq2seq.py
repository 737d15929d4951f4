"""Encoder-decoder with or without additive (Bahdanau) attention (tui_lab.seq2seq).

The task reverses (or sorts) a random string of `length` letters from an alphabet of
`vocab`. Stepping runs the encoder over the source one letter at a time (steps
0..S-1), then the decoder one output letter at a time (steps S..S+L-1, greedy, feeding
back its own guesses): with attention on, the attention matrix grows by one row per
decoder step, showing which source letters each output letter looked at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_lab.frames import Frame, Matrix, Scalars, Sequence, Series, TopK
from tui_lab.interop import WEIGHTS
from tui_lab.labs._training import make_optimizer
from tui_lab.labs.base import OWN_INPUT, Lab, Walk
from tui_lab.scenario import Field
from tui_lab.seq2seq import Seq2Seq
from tui_lab.seqnet import clipped_step, softmax
from tui_lab.tasks.sequence_tasks import LETTERS, SEQ2SEQ_TASKS, seq2seq_batch, seq2seq_targets

SCHEMA = {
    "data": {
        "task": Field("str", "reverse", choices=SEQ2SEQ_TASKS),
        "length": Field("int", 8, min=1, max=200, doc="source (and target) length"),
        "vocab": Field("int", 8, min=2, max=26, doc="letters in the alphabet"),
        "eval_size": Field("int", 512, min=16, max=100_000),
    },
    "model": {
        "hidden": Field("int", 64, min=1, max=1024),
        "attention": Field("bool", True, doc="additive attention over the encoder states"),
        "attention_size": Field("int", 0, min=0, max=1024, doc="A; 0 = hidden"),
        "weights": WEIGHTS,
    },
    "train": {
        "optimizer": Field("str", "adam", choices=("adam", "sgd", "rmsprop")),
        "lr": Field("float", 0.003, min=1e-7, max=10.0, live=True),
        "momentum": Field("float", 0.0, min=0.0, max=0.999, live=True, doc="SGD only"),
        "updates": Field("int", 2000, min=1, max=10_000_000),
        "batch_size": Field("int", 32, min=1, max=4096),
        "clip": Field("float", 1.0, min=0.0, max=1e6, live=True, doc="global-norm clip; 0 = off"),
    },
}

EVAL_STREAM, STEP_STREAM = 1, 2
MAX_SOURCE_LETTERS = 1000
"""The longest typed source: the attention matrix a walk keeps is [L, S] (L = S here)."""


@dataclass(frozen=True)
class Seq2SeqWalk(Walk):
    """The encoder over one source (steps 0..S-1), then the greedy decoder (steps
    S..S+L-1). input: the source codes [S, 1]. source, targets, output: the letters read,
    the right answer and the decoder's own [L]; rows: "i:letter" per output, the attention
    matrix's row labels. probs [L, V]; enc [S, H] encoder states; states [L, H] decoder
    states; alpha [L, S] attention weights and context [L, H] (None without attention).
    All arrays read-only."""

    source: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()
    output: tuple[str, ...] = ()
    rows: tuple[str, ...] = ()
    probs: np.ndarray | None = None
    enc: np.ndarray | None = None
    states: np.ndarray | None = None
    alpha: np.ndarray | None = None
    context: np.ndarray | None = None


class Seq2SeqLab(Lab):
    kind = "seq2seq"
    capabilities = frozenset({OWN_INPUT})

    def __init__(self, scenario):
        super().__init__(scenario)
        data, model = scenario.section("data"), scenario.section("model")
        self.task, self.length, self.vocab = data["task"], data["length"], data["vocab"]
        self.letters = tuple(LETTERS[: self.vocab])
        self.net = Seq2Seq(
            self.vocab,
            model["hidden"],
            model["attention"],
            model["attention_size"],
            rng=np.random.default_rng(scenario.seed),
        )
        self.optimizer = make_optimizer(self.net.params, scenario.section("train"))
        rng = np.random.default_rng([scenario.seed, 0, EVAL_STREAM])
        self.eval_source, self.eval_targets = self._batch(rng, data["eval_size"])
        self._samples = 0  # stepping samples drawn so far: each walk(None) draws the next

    def _batch(self, rng, size):
        return seq2seq_batch(self.task, rng, size, self.length, self.vocab)

    # ---- training ---------------------------------------------------------------------
    def parameters(self):
        return self.net.params

    def optimizer_state(self):
        return self.optimizer.state_dict()

    def load_optimizer_state(self, state) -> None:
        if state:
            self.optimizer.load_state_dict(state)

    def on_live_change(self, dotted: str) -> None:
        if dotted == "train.lr":
            self.optimizer.lr = self.scenario.get("train.lr")
        if dotted == "train.momentum" and hasattr(self.optimizer, "momentum"):
            self.optimizer.momentum = self.scenario.get("train.momentum")

    def total_train_steps(self) -> int:
        return self.scenario.get("train.updates")

    def train_one(self) -> float:
        rng = np.random.default_rng([self.scenario.seed, self.train_step])
        source, targets = self._batch(rng, self.scenario.get("train.batch_size"))
        loss, grads = self.net.loss_and_grads(source, targets)
        norm = clipped_step(self.optimizer, grads, self.scenario.get("train.clip"))
        return loss if np.isfinite(norm) else float("nan")

    def evaluate(self) -> dict:
        codes, record = self.net.decode(self.eval_source, self.length)
        right = codes == self.eval_targets
        loss, _ = self.net.loss_and_grads(self.eval_source, self.eval_targets)
        metrics = {
            "accuracy": float(right.mean()),
            "sequence_accuracy": float(right.all(axis=0).mean()),
            "loss": float(loss),
            "chance": round(1.0 / self.vocab, 4),
            "task": self.task,
            "length": self.length,
            "attention": bool(self.net.attend),
            "parameters": int(sum(p.size for p in self.net.params.values())),
        }
        if self.net.attend and self.task == "reverse":
            # Output i copies source letter S-1-i. The encoder reads left to right, so
            # h_{S-1-i} and its successor h_{S-i} both hold that letter: the weight on those
            # two (the anti-diagonal band) is 1.0 for a perfectly aligned attention.
            alpha = record["alpha"]  # [L, B, S]
            S, steps = self.length, np.arange(self.length)
            mirror = alpha[steps, :, S - 1 - steps].sum()
            after = alpha[steps[1:], :, S - steps[1:]].sum()
            metrics["attention_on_mirror"] = float((mirror + after) / (S * alpha.shape[1]))
        return metrics

    # ---- stepping: encoder steps, then decoder steps ------------------------------------
    def walk(self, input=None) -> Seq2SeqWalk:
        """The encoder and the greedy decoder over one source: a fresh sample (None), the
        user's letters (a str), or the source codes [S, 1] of an earlier walk."""
        source = self._source(input)
        targets = seq2seq_targets(self.task, source)
        logits, record = self.net.run(source, None, len(targets), keep=False)
        probs = softmax(logits[:, 0].astype(np.float64))  # [L, V]
        output = logits[:, 0].argmax(axis=1)
        letters = self.letters
        arrays = {
            "probs": probs,
            "enc": record["enc"][:, 0].astype(np.float64),
            "states": record["states"][:, 0].astype(np.float64),
        }
        if self.net.attend:
            arrays["alpha"] = record["alpha"][:, 0].astype(np.float64)
            arrays["context"] = record["ctx"][:, 0].astype(np.float64)
        for array in arrays.values():
            array.setflags(write=False)
        return Seq2SeqWalk(
            source,
            len(source) + len(targets),
            source=tuple(letters[c] for c in source[:, 0]),
            targets=tuple(letters[c] for c in targets[:, 0]),
            output=tuple(letters[c] for c in output),
            rows=tuple(f"{i}:{letters[c]}" for i, c in enumerate(output)),
            **arrays,
        )

    def _source(self, input) -> np.ndarray:
        if isinstance(input, np.ndarray):
            return input
        if input is None:
            rng = np.random.default_rng([self.scenario.seed, 0, STEP_STREAM, self._samples])
            self._samples += 1
            source, _ = self._batch(rng, 1)
        else:
            text = str(input).strip()
            unknown = sorted(set(text) - set(self.letters))
            if not text or unknown:
                raise ValueError(f"type letters from {''.join(self.letters)}; got {text!r}")
            if len(text) > MAX_SOURCE_LETTERS:
                raise ValueError(
                    f"the input has {len(text):,} letters; stepping takes at most "
                    f"{MAX_SOURCE_LETTERS:,}"
                )
            source = np.array([[self.letters.index(c)] for c in text])
        source.setflags(write=False)
        return source

    def _title(self) -> str:
        mode = "with attention" if self.net.attend else "no attention"
        return f"{self.scenario.name} - GRU {self.net.hidden}, {mode}"

    def _sequences(self, walk: Seq2SeqWalk, k: int) -> list:
        S = len(walk.source)
        shown = walk.output[: max(0, k - S + 1)]
        shown += ("",) * (len(walk.targets) - len(shown))
        return [
            Sequence("source", walk.source, k if k < S else -1),
            Sequence("output", shown, k - S if k >= S else -1, targets=walk.targets),
        ]

    def frame(self, walk: Seq2SeqWalk, k: int) -> Frame:
        """k < S: encoder step k; k >= S: decoder step i = k - S."""
        S = len(walk.source)
        panels = self._sequences(walk, k)
        if k < 0:
            status = "-> reads the source, then writes the output"
        elif k < S:
            panels += self._encoder_panels(walk, k)
            status = "encoding"
        else:
            panels += self._decoder_panels(walk, k - S)
            status = "decoding"
        history = np.asarray(self.loss_history[-2000:], np.float64)
        panels.append(Series("training loss", {"loss": history}, x_label="update"))
        loss = self.loss_history[-1] if self.loss_history else None
        return Frame(
            self._title(),
            k,
            walk.length,
            panels,
            train_step=self.train_step,
            loss=loss,
            status=status,
        )

    @staticmethod
    def _encoder_panels(walk: Seq2SeqWalk, k: int) -> list:
        units = tuple(str(j) for j in range(walk.enc.shape[1]))
        letter = walk.source[k]
        return [
            Matrix(
                "encoder h_t",
                walk.enc[k],
                "diverging",
                ("h",),
                units,
                units="hidden",
                caption=f"after reading {letter!r}",
            ),
            Scalars("this step", {"encoder step": k, "reads": letter}),
        ]

    def _decoder_panels(self, walk: Seq2SeqWalk, i: int) -> list:
        units = tuple(str(j) for j in range(walk.states.shape[1]))
        panels: list = [
            Matrix(
                "decoder s_i",
                walk.states[i],
                "diverging",
                ("s",),
                units,
                units="hidden",
                caption=f"decoder state after output {i}",
            )
        ]
        if walk.alpha is not None:
            panels.append(
                Matrix(
                    "attention",
                    walk.alpha[: i + 1],  # [i+1, S]: one row per output so far
                    "unit",
                    walk.rows[: i + 1],
                    walk.source,
                    group="attention",
                    caption="row i: where output i looked in the source (sums to 1)",
                )
            )
            panels.append(
                Matrix("context c_i", walk.context[i], "diverging", ("c",), units, units="hidden")
            )
        probs = walk.probs[i]
        order = np.argsort(-probs)[:5]
        target = walk.targets[i]
        panels.append(TopK("prediction", tuple((self.letters[j], probs[j]) for j in order), target))
        panels.append(
            Scalars("this step", {"decoder step": i, "wrote": walk.output[i], "target": target})
        )
        return panels

    def warmup_tasks(self):
        def tiny():
            source, targets = self._batch(np.random.default_rng(0), 2)
            self.net.loss_and_grads(source, targets)

        return [("encoder-decoder forward + backward", tiny)]


LAB = Seq2SeqLab
HEADLINE_METRICS = ("accuracy", "sequence_accuracy", "loss")
