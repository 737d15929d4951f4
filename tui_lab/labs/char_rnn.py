"""Char-RNN: a recurrent net reads characters and predicts the next one.

The notes' text generator: windows of `seq_length` characters, each one-hot
encoded, a recurrent layer (RNN, LSTM or GRU), a linear head with softmax over
the character vocabulary, cross-entropy, Adam. Two training targets:

- "last": the character after the window (the notes' many-to-one example);
  stepping and generation then read a sliding window from a zero state, as
  the model was trained.
- "all": the next character at every position (many-to-many); stepping and
  generation carry the state along the text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from kernels import losses
from tui_lab.files import atomic_write_text
from tui_lab.frames import Frame, Matrix, Scalars, Sequence, Series, Text, TopK
from tui_lab.interop import WEIGHTS
from tui_lab.labs._state_panels import recurrent_panels, state_traces
from tui_lab.labs._training import EpochTraining, make_optimizer
from tui_lab.labs.base import GENERATE, OWN_INPUT, Lab, Walk
from tui_lab.models import GATE_NAMES, Linear, Recurrent, prefixed
from tui_lab.scenario import Field, ScenarioError

SCHEMA = {
    "data": {
        "text": Field("str", "", doc="the training text (or use data.path)"),
        "path": Field(
            "path",
            "",
            doc="a UTF-8 text file instead of data.text (bundled:NAME ships with tui-lab)",
        ),
        "seq_length": Field("int", 3, min=1, max=1000, doc="characters per training window"),
        "stride": Field("int", 1, min=1, max=1000, doc="characters between window starts"),
        "holdout": Field(
            "float",
            0.0,
            min=0.0,
            max=0.5,
            doc="fraction at the end of the text kept for evaluation",
        ),
        "target": Field(
            "str", "last", choices=("last", "all"), doc="predict after the window, or at every step"
        ),
    },
    "model": {
        "cell": Field("str", "rnn", choices=("rnn", "lstm", "gru")),
        "hidden": Field("int", 50, min=1, max=2048),
        "num_layers": Field("int", 1, min=1, max=4),
        "nonlinearity": Field("str", "tanh", choices=("tanh", "relu"), doc="RNN cell only"),
        "weights": WEIGHTS,
    },
    "train": {
        "optimizer": Field("str", "adam", choices=("adam", "sgd", "rmsprop")),
        "lr": Field("float", 0.001, min=1e-7, max=10.0, live=True),
        "momentum": Field("float", 0.0, min=0.0, max=0.999, live=True, doc="SGD only"),
        "epochs": Field("int", 100, min=1, max=100_000),
        "batch_size": Field("int", 32, min=1, max=65536),
        "clip": Field("float", 0.0, min=0.0, max=1e6, live=True, doc="global-norm clip; 0 = off"),
    },
    "generate": {
        "start": Field("str", "", doc="the seed text for generation and for stepping"),
        "length": Field("int", 50, min=0, max=100_000),
        "greedy": Field("bool", True, live=True, doc="argmax; false samples with temperature"),
        "temperature": Field("float", 1.0, min=0.01, max=100.0, live=True),
    },
}

BUNDLED = "bundled:"  # data.path = "bundled:NAME" is a text shipped in tui_lab/data/
MAX_UPDATES = 50_000_000
MAX_PARAMETERS = 200_000_000
WALK_BATCH = 256  # windows per model call when walking an input in window mode
MAX_STEPPING_CHARS = 20_000
"""The longest text one can step through: the walk keeps O(T x hidden) arrays and takes
one model call per character, and a longer text is no longer something to read a
character at a time."""


def _read_text(scenario) -> str:
    data = scenario.section("data")
    if data["path"]:
        path = Path(data["path"])
        if data["path"].startswith(BUNDLED):
            path = Path(str(resources.files("tui_lab") / "data" / data["path"][len(BUNDLED) :]))
        elif not path.is_absolute() and scenario.path is not None:
            path = scenario.path.parent / path
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScenarioError(f"{scenario.source}: data.path: no such file {path}") from None
        except UnicodeDecodeError:
            raise ScenarioError(f"{scenario.source}: data.path: {path} is not UTF-8 text") from None
    return data["text"]


def check_scenario(scenario) -> None:
    text = _read_text(scenario)
    seq_length = scenario.get("data.seq_length")
    if not text:
        raise ScenarioError(f"{scenario.source}: data.text is empty: expected a training text")
    if len(text) <= seq_length:
        raise ScenarioError(
            f"{scenario.source}: data.seq_length = {seq_length} needs a text longer than that "
            f"(the text has {len(text)} characters)"
        )
    unknown = sorted(set(scenario.get("generate.start")) - set(text))
    if unknown:
        raise ScenarioError(
            f"{scenario.source}: generate.start has characters not in the text: {unknown}"
        )
    train_chars = len(text) - int(len(text) * scenario.get("data.holdout"))
    if train_chars <= seq_length:
        raise ScenarioError(
            f"{scenario.source}: data.holdout leaves {train_chars} characters to train on; "
            f"data.seq_length = {seq_length} needs more"
        )
    windows = (train_chars - seq_length - 1) // scenario.get("data.stride") + 1
    updates = scenario.get("train.epochs") * math.ceil(windows / scenario.get("train.batch_size"))
    if updates > MAX_UPDATES:
        raise ScenarioError(
            f"{scenario.source}: train.epochs: {updates:,} updates would run for days; "
            f"at most {MAX_UPDATES:,} (epochs x batches per epoch)"
        )
    hidden, layers = scenario.get("model.hidden"), scenario.get("model.num_layers")
    size = 4 * hidden * (len(set(text)) + hidden * (layers + 1))
    if size > MAX_PARAMETERS:
        raise ScenarioError(
            f"{scenario.source}: model.hidden = {hidden} with {layers} layers needs ~{size:,} "
            f"parameters; at most {MAX_PARAMETERS:,}"
        )


@dataclass(frozen=True)
class CharWalk(Walk):
    """input: the text (T characters). states: [T, L, 2, H] (h, then c for an LSTM),
    gates: [T, L, G, H], probs: [T, V] p(next char); all read-only. traces: name ->
    [T, H] views of states and gates for the input strip; tokens and targets: the
    characters and the next characters, shared by every frame."""

    states: np.ndarray | None = None
    gates: np.ndarray | None = None
    probs: np.ndarray | None = None
    traces: dict = field(default_factory=dict)
    tokens: tuple[str, ...] = ()
    targets: tuple[str, ...] = ()


class CharRNNLab(EpochTraining, Lab):
    kind = "char_rnn"
    capabilities = frozenset({GENERATE, OWN_INPUT})

    def __init__(self, scenario):
        super().__init__(scenario)
        self.text = _read_text(scenario)
        self.chars = sorted(set(self.text))
        self.index = {char: i for i, char in enumerate(self.chars)}
        data, model = scenario.section("data"), scenario.section("model")
        self.seq_length = data["seq_length"]
        self.target = data["target"]
        encoded = np.array([self.index[char] for char in self.text], dtype=np.int64)
        cut = len(encoded) - int(len(encoded) * data["holdout"])
        self.inputs, self.targets = _windows(encoded[:cut], self.seq_length, data["stride"])
        # Held-out windows start after the training text, so none of their targets was seen.
        self.holdout_inputs, self.holdout_targets = _windows(
            encoded[max(cut - self.seq_length, 0) :], self.seq_length, self.seq_length
        )
        if cut == len(encoded):
            self.holdout_inputs = self.holdout_inputs[:0]
        rng = np.random.default_rng(scenario.seed)
        vocab = len(self.chars)
        self.rnn = Recurrent(
            model["cell"],
            vocab,
            model["hidden"],
            model["num_layers"],
            nonlinearity=model["nonlinearity"],
            rng=rng,
        )
        self.head = Linear(model["hidden"], vocab, rng=rng)
        self._params = {**self.rnn.parameters(), **prefixed("head", self.head.parameters())}
        self.optimizer = make_optimizer(self._params, scenario.section("train"))
        self.generated = ""

    # ---- training ---------------------------------------------------------------
    def train_size(self) -> int:
        return len(self.inputs)

    def parameters(self) -> dict[str, np.ndarray]:
        return self._params

    def one_hot(self, codes: np.ndarray) -> np.ndarray:
        """codes: [T, B] ints -> [T, B, V] float32."""
        return np.eye(len(self.chars), dtype=np.float32)[codes]

    def loss_and_grads(self, batch: np.ndarray):
        """Cross-entropy of a batch of window indices and its gradients by parameter name."""
        x = self.one_hot(self.inputs[batch].T)  # [T, B, V]
        targets = self.targets[batch].T  # [T, B]
        out, _ = self.rnn.forward(x)
        T, B, H = out.shape
        d_out = np.zeros_like(out)
        if self.target == "last":
            logits = self.head.forward(out[-1])
            loss, d_logits = losses.softmax_cross_entropy(logits, targets[-1])
            head_grads = self.head.backward(d_logits)
            d_out[-1] = head_grads["input"]
        else:
            logits = self.head.forward(out.reshape(T * B, H))
            loss, d_logits = losses.softmax_cross_entropy(logits, targets.reshape(-1))
            head_grads = self.head.backward(d_logits)
            d_out[...] = head_grads["input"].reshape(T, B, H)
        grads = self.rnn.backward(d_out)
        grads = {name: grads[name] for name in self.rnn.parameters()}
        grads["head.weight"], grads["head.bias"] = head_grads["weight"], head_grads["bias"]
        return loss, grads

    # ---- prediction -------------------------------------------------------------
    def predict_windows(self, codes: np.ndarray) -> np.ndarray:
        """codes: [N, L] windows -> probabilities [N, L, V] at every position."""
        out, _ = self.rnn.forward(self.one_hot(codes.T))
        T, B, H = out.shape
        logits = self.head.forward(out.reshape(T * B, H)).reshape(T, B, -1)
        return _softmax(logits.astype(np.float64)).transpose(1, 0, 2)

    def score(self, inputs: np.ndarray, targets: np.ndarray) -> tuple[float, float]:
        """(accuracy, mean cross-entropy in nats) of the trained target positions."""
        probs = self.predict_windows(inputs)
        if self.target == "last":
            probs, targets = probs[:, -1], targets[:, -1]
        else:
            probs, targets = probs.reshape(-1, probs.shape[-1]), targets.reshape(-1)
        picked = probs[np.arange(len(targets)), targets]
        accuracy = float(np.mean(probs.argmax(axis=1) == targets))
        return accuracy, float(-np.mean(np.log(np.maximum(picked, 1e-12))))

    def evaluate(self) -> dict:
        accuracy, loss = self.score(self.inputs, self.targets)
        metrics = {"accuracy": accuracy, "loss": loss}
        if len(self.holdout_inputs):
            metrics["holdout_accuracy"], metrics["holdout_loss"] = self.score(
                self.holdout_inputs, self.holdout_targets
            )
        self.generated = self.generate()
        metrics.update(
            generated=self.generated, vocab_size=len(self.chars), windows=len(self.inputs)
        )
        return metrics

    def next_distribution(self, text: str, state=None):
        """p(next char | text) [V], and the recurrent state after reading it (stream mode)."""
        codes = np.array([[self.index[char] for char in text]], dtype=np.int64)
        if self.target == "last":
            codes = codes[:, -self.seq_length :]
            state = None
        out, state = self.rnn.forward(self.one_hot(codes.T), state)
        logits = self.head.forward(out[-1])
        return _softmax(logits.astype(np.float64))[0], state

    def generate(self, start: str | None = None, length: int | None = None) -> str:
        """Greedy (argmax) or temperature sampling, from generate.start."""
        settings = self.scenario.section("generate")
        text = settings["start"] if start is None else start
        text = text or self.text[: self.seq_length]
        length = settings["length"] if length is None else length
        rng = np.random.default_rng([self.scenario.seed, self.train_step, 7])
        probs, state = self.next_distribution(text)
        for _ in range(length):
            if settings["greedy"]:
                code = int(np.argmax(probs))
            else:
                logits = np.log(np.maximum(probs, 1e-12)) / settings["temperature"]
                code = int(rng.choice(len(probs), p=_softmax(logits)))
            text += self.chars[code]
            if self.target == "last":
                probs, state = self.next_distribution(text)
            else:
                probs, state = self.next_distribution(self.chars[code], state)
        self.generated = text
        return text

    def write_artifacts(self, out_dir: Path) -> list[str]:
        atomic_write_text(out_dir / "generated.txt", (self.generated or self.generate()) + "\n")
        return ["generated.txt"]

    # ---- stepping ---------------------------------------------------------------
    def walk(self, input=None) -> CharWalk:
        """Run the model over a text once: the user's (input), or generate.start.

        Window mode: step t sees the window ending at t from a zero state. Stream mode:
        the state is carried along the text."""
        text = self._stepping_text(input)
        T, H, L = len(text), self.rnn.hidden_size, self.rnn.num_layers
        gate_names = GATE_NAMES[self.rnn.cell]
        states = np.zeros((T, L, 2, H))  # h, c (zeros but for the LSTM)
        gates = np.zeros((T, L, max(len(gate_names), 1), H))
        probs = np.zeros((T, len(self.chars)))
        codes = np.array([self.index[char] for char in text], dtype=np.int64)
        if self.target == "last":
            # The windows shorter than seq_length one at a time, then the full ones in
            # batches (one model call per batch, not per character).
            short = min(self.seq_length - 1, T)
            for t in range(short):
                self._read_windows(codes[None, : t + 1], t, states, gates, probs)
            full = np.lib.stride_tricks.sliding_window_view(codes, self.seq_length)
            for start in range(0, len(full), WALK_BATCH):
                batch = full[start : start + WALK_BATCH]
                self._read_windows(batch, short + start, states, gates, probs)
        else:
            self._read_windows(codes[None, :], 0, states, gates, probs, every_step=True)
        for array in (states, gates, probs):
            array.setflags(write=False)
        return CharWalk(
            text, T, states=states, gates=gates, probs=probs,
            traces=state_traces(self.rnn, states, gates),
            tokens=tuple(text), targets=(*text[1:], "?"),
        )  # fmt: skip

    def _read_windows(self, windows, first, states, gates, probs, every_step=False) -> None:
        """Run the model over windows [N, W] from a zero state; write what steps first ..
        first + N - 1 show into states [T, L, 2, H], gates [T, L, G, H], probs [T, V].
        every_step: one window (N = 1) whose every position is a step (stream mode)."""
        out, _ = self.rnn.forward(self.one_hot(windows.T))  # out: [W, N, H]
        names = GATE_NAMES[self.rnn.cell]
        H = self.rnn.hidden_size
        pick = (slice(None), 0) if every_step else (-1, slice(None))  # -> [steps, ...]
        steps = slice(first, first + (windows.shape[1] if every_step else len(windows)))
        logits = self.head.forward(out[pick])
        probs[steps] = _softmax(logits.astype(np.float64))
        for layer, traces in enumerate(self.rnn.traces):
            trace = traces[0]
            states[steps, layer, 0] = trace.out[pick]
            if self.rnn.cell == "lstm":
                states[steps, layer, 1] = trace.c[pick]
            if names:
                gates[steps, layer] = trace.gates[pick].reshape(-1, len(names), H)

    def _stepping_text(self, text) -> str:
        if text is None:
            return self.scenario.get("generate.start") or self.text[: max(self.seq_length, 12)]
        if not text:
            raise ValueError("the input text is empty")
        unknown = sorted(set(text) - set(self.chars))
        if unknown:
            raise ValueError(f"characters not in this model's vocabulary: {unknown}")
        if len(text) > MAX_STEPPING_CHARS:
            raise ValueError(
                f"the input has {len(text):,} characters; stepping takes at most "
                f"{MAX_STEPPING_CHARS:,}"
            )
        return text

    def _sequence_panel(self, walk: CharWalk, t: int) -> Sequence:
        return Sequence("input", walk.tokens, t, traces=walk.traces, targets=walk.targets)

    def _common_panels(self) -> list:
        history = np.asarray(self.loss_history[-2000:], dtype=np.float64)
        panels = [Series("training loss", {"loss": history}, x_label="update")]
        if self.generated:
            panels.append(Text("generated", self.generated))
        return panels

    def _title(self) -> str:
        model = self.scenario.section("model")
        return f"{self.scenario.name} - {model['cell'].upper()} {model['hidden']}"

    def frame(self, walk: CharWalk, t: int) -> Frame:
        loss = self.loss_history[-1] if self.loss_history else None
        if t < 0:
            panels = [self._sequence_panel(walk, -1), *self._common_panels()]
            return Frame(self._title(), -1, walk.length, panels, train_step=self.train_step,
                         loss=loss, status="press -> to read the first character")  # fmt: skip
        text = walk.input
        char = text[t]
        x_t = np.zeros(len(self.chars))
        x_t[self.index[char]] = 1.0
        labels = tuple(_show(c) for c in self.chars)
        panels: list = [self._sequence_panel(walk, t)]
        panels.append(
            Matrix(
                "x_t",
                x_t,
                "unit",
                ("x",),
                labels,
                caption=f"one-hot of {_show(char)!r}",
                group="input",
            )
        )
        panels.extend(recurrent_panels(self.rnn, walk.states[t], walk.gates[t]))
        probs = walk.probs[t]
        order = np.argsort(-probs)[:5]
        actual = text[t + 1] if t + 1 < len(text) else None
        panels.append(
            TopK(
                "next character",
                tuple((_show(self.chars[i]), probs[i]) for i in order),
                target=_show(actual) if actual is not None else None,
            )
        )
        panels.append(
            Matrix(
                "p(next)",
                probs,
                "unit",
                ("p",),
                labels,
                group="output",
                caption="softmax over the vocabulary",
            )
        )
        scalars = {"char": _show(char), "cell": self.rnn.cell, "hidden": self.rnn.hidden_size}
        if actual is not None:
            scalars["-log p(actual next)"] = round(
                float(-np.log(max(probs[self.index[actual]], 1e-12))), 4
            )
        panels.append(Scalars("this step", scalars))
        weight = self.rnn.params["weight_hh_l0"]
        panels.append(
            Matrix(
                "weight_hh_l0",
                weight,
                "diverging",
                None,
                None,
                group="weights",
                caption=f"recurrent weights [{weight.shape[0]} x {weight.shape[1]}]",
            )
        )
        panels.extend(self._common_panels())
        return Frame(self._title(), t, walk.length, panels, train_step=self.train_step, loss=loss)

    def warmup_tasks(self):
        def tiny(cell):
            def run():
                model = Recurrent(cell, 3, 2, dtype=np.float32)
                model.forward(np.zeros((2, 1, 3), np.float32))
                model.backward(np.ones((2, 1, 2), np.float32))

            return run

        cell = self.rnn.cell
        return [
            (f"{cell} forward + backward", tiny(cell)),
            ("optimizer and loss", lambda: self.loss_and_grads(np.arange(1))),
        ]


def _windows(encoded: np.ndarray, length: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """encoded: [N] -> (inputs [W, length], targets [W, length]), targets shifted by one."""
    starts = np.arange(0, max(len(encoded) - length, 0), stride)
    windows = encoded[starts[:, None] + np.arange(length + 1)[None, :]]
    return windows[:, :-1], windows[:, 1:]


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    return exp / exp.sum(axis=-1, keepdims=True)


def _show(char: str) -> str:
    return {" ": "␣", "\n": "⏎", "\t": "⇥"}.get(char, char)


LAB = CharRNNLab
HEADLINE_METRICS = ("accuracy", "holdout_accuracy", "loss")
