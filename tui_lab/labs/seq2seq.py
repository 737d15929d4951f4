"""Encoder-decoder with or without additive (Bahdanau) attention (tui_lab.seq2seq).

The task reverses (or sorts) a random string of `length` letters from an alphabet of
`vocab`. Stepping runs the encoder over the source one letter at a time (steps
0..S-1), then the decoder one output letter at a time (steps S..S+L-1, greedy, feeding
back its own guesses): with attention on, the attention matrix grows by one row per
decoder step, showing which source letters each output letter looked at.
"""

from __future__ import annotations

import numpy as np

from tui_lab.frames import Frame, Matrix, Scalars, Sequence, Series, TopK
from tui_lab.interop import WEIGHTS
from tui_lab.labs._hooks import HookedLab
from tui_lab.labs._training import make_optimizer
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


class Seq2SeqLab(HookedLab):
    kind = "seq2seq"

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
        self._samples = 0
        self.start_sequence(None)

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
    def start_sequence(self, new_input=None, keep_input: bool = False) -> None:
        if new_input is not None:
            text = str(new_input).strip()
            unknown = sorted(set(text) - set(self.letters))
            if not text or unknown:
                raise ValueError(f"type letters from {''.join(self.letters)}; got {text!r}")
            self.source = np.array([[self.letters.index(c)] for c in text])
        elif not keep_input or not hasattr(self, "source"):
            rng = np.random.default_rng([self.scenario.seed, 0, STEP_STREAM, self._samples])
            self._samples += 1
            self.source, _ = self._batch(rng, 1)
        self.targets = seq2seq_targets(self.task, self.source)
        logits, self.record = self.net.run(self.source, None, len(self.targets))
        self.probs = softmax(logits[:, 0].astype(np.float64))  # [L, V]
        self.output = logits[:, 0].argmax(axis=1)

    def sequence_length(self) -> int:
        return len(self.source) + len(self.targets)

    def _title(self) -> str:
        mode = "with attention" if self.net.attend else "no attention"
        return f"{self.scenario.name} - GRU {self.net.hidden}, {mode}"

    def _sequences(self, k: int) -> list:
        S = len(self.source)
        source = tuple(self.letters[c] for c in self.source[:, 0])
        shown = [self.letters[c] for c in self.output[: max(0, k - S + 1)]]
        shown += [""] * (len(self.targets) - len(shown))
        target = tuple(self.letters[c] for c in self.targets[:, 0])
        return [
            Sequence("source", source, k if k < S else -1),
            Sequence("output", tuple(shown), k - S if k >= S else -1, targets=target),
        ]

    def _frame(self, k: int, panels, status="") -> Frame:
        history = np.asarray(self.loss_history[-2000:], np.float64)
        panels = [*panels, Series("training loss", {"loss": history}, x_label="update")]
        loss = self.loss_history[-1] if self.loss_history else None
        return Frame(
            self._title(),
            k,
            self.sequence_length(),
            panels,
            train_step=self.train_step,
            loss=loss,
            status=status,
        )

    def initial_frame(self) -> Frame:
        return self._frame(-1, self._sequences(-1), "-> reads the source, then writes the output")

    def compute_step(self, k: int) -> Frame:
        S, H = len(self.source), self.net.hidden
        units = tuple(str(j) for j in range(H))
        panels = self._sequences(k)
        if k < S:
            letter = self.letters[self.source[k, 0]]
            panels.append(
                Matrix(
                    "encoder h_t",
                    self.record["enc"][k, 0],
                    "diverging",
                    ("h",),
                    units,
                    units="hidden",
                    caption=f"after reading {letter!r}",
                )
            )
            panels.append(Scalars("this step", {"encoder step": k, "reads": letter}))
            return self._frame(k, panels, "encoding")
        i = k - S
        panels.append(
            Matrix(
                "decoder s_i",
                self.record["states"][i, 0],
                "diverging",
                ("s",),
                units,
                units="hidden",
                caption=f"decoder state after output {i}",
            )
        )
        if self.net.attend:
            alpha = self.record["alpha"][: i + 1, 0]  # [i+1, S]: one row per output so far
            rows = tuple(f"{j}:{self.letters[c]}" for j, c in enumerate(self.output[: i + 1]))
            cols = tuple(self.letters[c] for c in self.source[:, 0])
            panels.append(
                Matrix(
                    "attention",
                    alpha,
                    "unit",
                    rows,
                    cols,
                    group="attention",
                    caption="row i: where output i looked in the source (sums to 1)",
                )
            )
            context = self.record["steps"][i][1].ctx[0]
            panels.append(
                Matrix("context c_i", context, "diverging", ("c",), units, units="hidden")
            )
        probs = self.probs[i]
        order = np.argsort(-probs)[:5]
        target = self.letters[self.targets[i, 0]]
        panels.append(TopK("prediction", tuple((self.letters[j], probs[j]) for j in order), target))
        panels.append(
            Scalars(
                "this step",
                {"decoder step": i, "wrote": self.letters[self.output[i]], "target": target},
            )
        )
        return self._frame(k, panels, "decoding")

    def warmup_tasks(self):
        def tiny():
            source, targets = self._batch(np.random.default_rng(0), 2)
            self.net.loss_and_grads(source, targets)

        return [("encoder-decoder forward + backward", tiny)]


LAB = Seq2SeqLab
HEADLINE_METRICS = ("accuracy", "sequence_accuracy", "loss")
