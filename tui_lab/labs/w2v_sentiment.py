"""Word2Vec feeding an RNN: many-to-one sentiment, with and without pretrained vectors.

The notes' recipe, measured. First Word2Vec (skip-gram, negative sampling) learns word
vectors from unlabelled text (tui_lab.tasks.sentiment.unlabelled_corpus plus the training
sentences without their labels). Then three classifiers of the same shape, a recurrent layer
and a linear head on its last hidden state, learn positive/negative from labelled sentences
with negation, intensifiers and "but" clauses:

- onehot:    the words as one-hot vectors (the input weights are learnt from the labels only);
- frozen:    the words as their Word2Vec vectors, kept fixed;
- finetuned: the Word2Vec vectors as a starting point, updated with the classifier.

The test set holds adjectives the labelled training set never shows; evaluate() reports the
accuracy of each variant on all test sentences and on those with a held-out adjective.

With data.vectors = "path" (word2vec text or binary, e.g. from gensim) the frozen and
fine-tuned variants start from those pre-trained vectors instead, and there is no Word2Vec
phase (B = 0); every word of the task must be in the file.

Updates 0 .. B-1 are Word2Vec blocks; after that each update is one batch for all three
classifiers (data a pure function of (seed, update)). Stepping reads a sentence word by word
through the three classifiers and shows p(positive) after each word.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kernels import losses, optim
from kernels.word2vec import Trainer
from tui_lab.embeddings import KeyedVectors
from tui_lab.frames import Frame, Matrix, Scalars, Sequence, Series, Text
from tui_lab.interop import WEIGHTS
from tui_lab.labs._state_panels import collect_states
from tui_lab.labs.base import OWN_INPUT, Lab, Walk
from tui_lab.models import Linear, Recurrent, prefixed
from tui_lab.scenario import Field, ScenarioError
from tui_lab.tasks import sentiment
from tui_lab.tasks.corpus import corpus_from_sentences

SCHEMA = {
    "data": {
        "train_sentences": Field("int", 2000, min=10, max=1_000_000),
        "test_sentences": Field("int", 1000, min=10, max=1_000_000),
        "unlabelled_sentences": Field("int", 6000, min=0, max=10_000_000),
        "vectors": Field(
            "path",
            "",
            doc="pre-trained word vectors (word2vec text or binary, as gensim's "
            "save_word2vec_format writes) instead of training Word2Vec; [embedding] is unused",
        ),
    },
    "embedding": {
        "dim": Field("int", 24, min=2, max=512),
        "window": Field("int", 4, min=1, max=20),
        "negative": Field("int", 5, min=1, max=50),
        "epochs": Field("int", 10, min=1, max=1000),
        "alpha": Field("float", 0.025, min=1e-5, max=1.0),
    },
    "model": {
        "cell": Field("str", "lstm", choices=("rnn", "lstm", "gru")),
        "hidden": Field("int", 32, min=1, max=1024),
        "weights": WEIGHTS,
    },
    "train": {
        "lr": Field("float", 0.01, min=1e-6, max=1.0, live=True, doc="Adam"),
        "epochs": Field("int", 8, min=1, max=10_000),
        "batch_size": Field("int", 32, min=1, max=4096),
        "clip": Field("float", 5.0, min=0.0, max=1e6, live=True, doc="global norm; 0 = off"),
    },
    "view": {
        "sentence": Field("str", "the food was not very good but the staff was superb"),
    },
}

VARIANTS = ("onehot", "frozen", "finetuned")
PAD = -1
MAX_STEPPING_WORDS = 10_000
"""The longest sentence one can step through (the walk keeps O(T x hidden) arrays)."""


def check_scenario(scenario) -> None:
    words = set(scenario.get("view.sentence").split())
    known = set(sentiment.POSITIVE + sentiment.NEGATIVE + sentiment.NOUNS + sentiment.INTENSIFIERS)
    known |= {"the", "was", "not", "but"}
    unknown = sorted(words - known)
    if unknown:
        raise ScenarioError(
            f"{scenario.source}: view.sentence has words the task never uses: {unknown}"
        )


@dataclass(frozen=True)
class W2VSentimentWalk(Walk):
    """One sentence read word by word by the three classifiers, each from a zero state.

    input: the sentence as given; tokens: its T words the vocabulary knows (the others are
    dropped). vectors [T, D]: the fine-tuned classifier's inputs (its embedding rows of the
    words); states [T, 1, 2, H] (h, and c for an LSTM) and gates [T, 1, G, H] of the
    fine-tuned classifier after each word (_state_panels.collect_states); p_positive
    [3, T]: each variant's p(positive) after words 0..t (rows in VARIANTS order).
    Memory: O(T (D + 2H + GH)) floats; sentences over MAX_STEPPING_WORDS are refused."""

    tokens: tuple[str, ...] = ()
    vectors: np.ndarray | None = None
    states: np.ndarray | None = None
    gates: np.ndarray | None = None
    p_positive: np.ndarray | None = None


class W2VSentimentLab(Lab):
    kind = "w2v_sentiment"
    capabilities = frozenset({OWN_INPUT})

    def __init__(self, scenario):
        super().__init__(scenario)
        data, emb, model = (scenario.section(s) for s in ("data", "embedding", "model"))
        seed = scenario.seed
        self.train_set = sentiment.labelled(data["train_sentences"], seed, held_out=False)
        self.test_set = sentiment.labelled(data["test_sentences"], seed, held_out=True)
        text = sentiment.unlabelled_corpus(data["unlabelled_sentences"], seed)
        text += [list(example.words) for example in self.train_set]
        self.vocab, corpus = corpus_from_sentences(text, min_count=1, where="sentiment corpus")
        missing = {w for e in self.test_set for w in e.words if w not in self.vocab}
        if missing:
            raise ScenarioError(
                f"{scenario.source}: data.unlabelled_sentences = {data['unlabelled_sentences']}"
                f" is too few: test words {sorted(missing)[:5]} never occur in the Word2Vec text"
            )
        if data["vectors"]:
            self.word2vec = None  # pre-trained vectors: no Word2Vec phase
            self.word_vectors = self._pretrained_vectors(scenario)
            self.word2vec_blocks = 0
        else:
            self.word2vec = Trainer(
                self.vocab.counts, corpus.ids, corpus.sent_starts, dim=emb["dim"],
                window=emb["window"], negative=emb["negative"], sg=True, sample=0.0,
                alpha=emb["alpha"], epochs=emb["epochs"], seed=seed, workers=1,
                block_words=10_000,
            )  # fmt: skip
            self.word_vectors = self.word2vec.W_in  # [V, D], trained in place
            self.word2vec_blocks = self.word2vec.total_blocks
        V, D, H = len(self.vocab), self.word_vectors.shape[1], model["hidden"]
        rng = np.random.default_rng([seed, 0x51])
        self.finetuned_embedding = np.zeros((V, D), np.float32)
        self.models = {}
        for name in VARIANTS:
            size = V if name == "onehot" else D
            self.models[name] = (Recurrent(model["cell"], size, H, rng=rng), Linear(H, 2, rng=rng))
        self._params = {"w2v.W_in": self.word_vectors}
        if self.word2vec is not None:
            self._params["w2v.W_out"] = self.word2vec.W_out
        self._params["finetuned.embedding"] = self.finetuned_embedding
        self.optimizers = {}
        for name, (rnn, head) in self.models.items():
            params = {**prefixed(f"{name}.rnn", rnn.parameters()),
                      **prefixed(f"{name}.head", head.parameters())}  # fmt: skip
            if name == "finetuned":
                params["finetuned.embedding"] = self.finetuned_embedding
            self._params.update(params)
            self.optimizers[name] = optim.Adam(params, lr=scenario.get("train.lr"))
        self.last_losses = dict.fromkeys(VARIANTS, math.nan)

    def _pretrained_vectors(self, scenario) -> np.ndarray:
        """data.vectors -> [V, D] float32 rows in this lab's vocabulary order."""
        value = scenario.get("data.vectors")
        path = Path(value).expanduser()
        if not path.is_absolute() and scenario.path is not None:
            beside = scenario.path.parent / path
            path = beside if beside.exists() else path
        where = f"{scenario.source}: data.vectors: {path}"
        try:
            vectors = KeyedVectors.load_word2vec_format(path)
        except FileNotFoundError:
            raise ScenarioError(f"{where}: no such file") from None
        except (ValueError, OSError) as error:
            raise ScenarioError(f"{where}: not word2vec text or binary: {error}") from None
        absent = [word for word in self.vocab.words if word not in vectors]
        if absent:
            raise ScenarioError(
                f"{where}: lacks {len(absent)} of the task's {len(self.vocab)} words, "
                f"e.g. {absent[:5]}"
            )
        rows = [vectors.index[word] for word in self.vocab.words]
        return np.ascontiguousarray(vectors.vectors[rows], dtype=np.float32)

    # ---- encoding ---------------------------------------------------------------------
    def encode(self, examples) -> np.ndarray:
        """[T, B] word ids, left-padded with PAD so every sentence ends at the last step."""
        T = max(len(e.words) for e in examples)
        ids = np.full((T, len(examples)), PAD, dtype=np.int64)
        for b, example in enumerate(examples):
            ids[T - len(example.words) :, b] = [self.vocab.index[w] for w in example.words]
        return ids

    def inputs(self, name: str, ids: np.ndarray) -> np.ndarray:
        """[T, B] ids -> [T, B, I] float32 inputs of a variant (PAD -> zeros)."""
        if name == "onehot":
            table = np.eye(len(self.vocab), dtype=np.float32)
        elif name == "frozen":
            table = self.word_vectors
        else:
            table = self.finetuned_embedding
        x = table[np.maximum(ids, 0)].astype(np.float32)
        x[ids == PAD] = 0.0
        return x

    def logits(self, name: str, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(logits [B, 2], out [T, B, H]) of a variant."""
        rnn, head = self.models[name]
        out, _ = rnn.forward(self.inputs(name, ids))
        return head.forward(out[-1]), out

    # ---- training ---------------------------------------------------------------------
    def parameters(self) -> dict[str, np.ndarray]:
        return self._params

    def optimizer_state(self) -> dict[str, np.ndarray]:
        return {
            f"{n}/{k}": v for n, o in self.optimizers.items() for k, v in o.state_dict().items()
        }

    def load_optimizer_state(self, state) -> None:
        for name, optimizer in self.optimizers.items():
            mine = {k[len(name) + 1 :]: v for k, v in state.items() if k.startswith(name + "/")}
            if mine:
                optimizer.load_state_dict(mine)

    def on_live_change(self, dotted: str) -> None:
        if dotted == "train.lr":
            for optimizer in self.optimizers.values():
                optimizer.lr = self.scenario.get("train.lr")

    def batches_per_epoch(self) -> int:
        return math.ceil(len(self.train_set) / self.scenario.get("train.batch_size"))

    def total_train_steps(self) -> int:
        return self.word2vec_blocks + self.scenario.get("train.epochs") * self.batches_per_epoch()

    def train_one(self) -> float:
        k = self.train_step
        if k < self.word2vec_blocks:
            result = self.word2vec.train_block(k)
            return result["loss"] if result["examples"] else 0.0
        k -= self.word2vec_blocks
        if k == 0:  # fine-tuning starts from the finished Word2Vec vectors
            self.finetuned_embedding[...] = self.word_vectors
        epoch, position = divmod(k, self.batches_per_epoch())
        size = self.scenario.get("train.batch_size")
        order = np.random.default_rng([self.scenario.seed, 0xBA, epoch]).permutation(
            len(self.train_set)
        )
        batch = [self.train_set[i] for i in order[position * size : (position + 1) * size]]
        ids = self.encode(batch)
        targets = np.asarray([e.label for e in batch], dtype=np.int64)
        for name in VARIANTS:
            self.last_losses[name] = self._update(name, ids, targets)
        return float(np.mean(list(self.last_losses.values())))

    def _update(self, name, ids, targets) -> float:
        rnn, head = self.models[name]
        logits, out = self.logits(name, ids)
        loss, d_logits = losses.softmax_cross_entropy(logits, targets)
        head_grads = head.backward(d_logits)
        d_out = np.zeros_like(out)
        d_out[-1] = head_grads["input"]
        rnn_grads = rnn.backward(d_out)
        grads = {f"{name}.rnn.{k}": rnn_grads[k] for k in rnn.parameters()}
        grads[f"{name}.head.weight"] = head_grads["weight"]
        grads[f"{name}.head.bias"] = head_grads["bias"]
        if name == "finetuned":
            d_embedding = np.zeros_like(self.finetuned_embedding)
            mask = ids != PAD
            np.add.at(d_embedding, ids[mask], rnn_grads["input"][mask])
            grads["finetuned.embedding"] = d_embedding
        clip = self.scenario.get("train.clip")
        norm = optim.clip_global_norm(list(grads.values()), clip if clip > 0 else math.inf)
        if not math.isfinite(norm):
            return math.nan
        self.optimizers[name].step(grads)
        return float(loss)

    # ---- evaluation ------------------------------------------------------------------
    def accuracies(self, examples) -> dict[str, float]:
        ids = self.encode(examples)
        labels = np.asarray([e.label for e in examples])
        return {
            name: float(np.mean(self.logits(name, ids)[0].argmax(axis=1) == labels))
            for name in VARIANTS
        }

    def evaluate(self) -> dict:
        overall = self.accuracies(self.test_set)
        held = [e for e in self.test_set if e.held_out]
        held_acc = self.accuracies(held) if held else dict.fromkeys(VARIANTS, float("nan"))
        metrics = {f"accuracy_{name}": round(acc, 4) for name, acc in overall.items()}
        metrics.update({f"heldout_accuracy_{n}": round(a, 4) for n, a in held_acc.items()})
        metrics["train_accuracy_finetuned"] = round(
            self.accuracies(self.train_set[:500])["finetuned"], 4
        )
        metrics["test_sentences"] = len(self.test_set)
        metrics["heldout_sentences"] = len(held)
        metrics["vocab_size"] = len(self.vocab)
        finite = [x for x in self.loss_history[-20:] if math.isfinite(x)]
        metrics["loss"] = float(np.mean(finite)) if finite else float("nan")
        return metrics

    # ---- stepping --------------------------------------------------------------------
    def walk(self, input=None) -> W2VSentimentWalk:
        """Read a sentence (the user's, or view.sentence) through the three classifiers:
        one model call per variant over the whole sentence."""
        text = input if input is not None else self.scenario.get("view.sentence")
        words = tuple(w for w in str(text).lower().split() if w in self.vocab)
        if not words:
            raise ScenarioError(f"the sentence {text!r} has no word the model knows")
        if len(words) > MAX_STEPPING_WORDS:
            raise ValueError(
                f"the sentence has {len(words):,} known words; stepping takes at most "
                f"{MAX_STEPPING_WORDS:,}"
            )
        ids = np.asarray([[self.vocab.index[w]] for w in words], dtype=np.int64)  # [T, 1]
        p_positive = np.zeros((len(VARIANTS), len(words)))
        for row, name in enumerate(VARIANTS):
            rnn, head = self.models[name]
            out, _ = rnn.forward(self.inputs(name, ids))
            logits = head.forward(out[:, 0])
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            p_positive[row] = shifted[:, 1] / shifted.sum(axis=1)
            if name == "finetuned":
                states, gates = collect_states(rnn, slice(None), 0)
        vectors = self.inputs("finetuned", ids)[:, 0]
        for array in (vectors, states, gates, p_positive):
            array.setflags(write=False)
        return W2VSentimentWalk(
            text, len(words), tokens=words, vectors=vectors, states=states, gates=gates,
            p_positive=p_positive,
        )  # fmt: skip

    def frame(self, walk: W2VSentimentWalk, t: int) -> Frame:
        training = training_panels(
            self.train_step, self.total_train_steps(), self.word2vec_blocks, self.last_losses,
            self.loss_history,
        )  # fmt: skip
        panels = [*step_panels(walk, t), *training]
        return Frame(self._title(), t, walk.length, panels, train_step=self.train_step)

    def _title(self) -> str:
        return f"Word2Vec → {self.scenario.get('model.cell').upper()} sentiment"

    def warmup_tasks(self):
        def compile_cell():
            rnn = Recurrent(self.scenario.get("model.cell"), 3, 2)
            rnn.forward(np.zeros((2, 1, 3), np.float32))
            rnn.backward(np.ones((2, 1, 2), np.float32))

        return [(f"{self.scenario.get('model.cell')} forward + backward", compile_cell)]


def step_panels(walk: W2VSentimentWalk, t: int) -> list:
    """The sentence, and at t >= 0 word t's vector, the fine-tuned h_t and each
    classifier's p(positive) after it and word by word (views into the walk)."""
    if t < 0:
        return [Sequence("sentence", walk.tokens, position=-1)]
    word = walk.tokens[t]
    history = walk.p_positive[:, : t + 1]
    return [
        Sequence("sentence", walk.tokens, position=t),
        Matrix("x_t (fine-tuned word vector)", walk.vectors[t][None, :], row_labels=(word,),
               units="dim"),
        Matrix("h_t (fine-tuned model)", walk.states[t, 0, 0][None, :], row_labels=(f"t={t}",),
               units="hidden"),
        Matrix("p(positive) after this word", history[:, -1:], scale="unit",
               row_labels=VARIANTS, col_labels=("p+",), group="output"),
        Matrix("p(positive) word by word", history, scale="unit", row_labels=VARIANTS,
               col_labels=walk.tokens[: t + 1], group="output",
               caption="each classifier's verdict on the sentence read so far"),
    ]  # fmt: skip


def training_panels(train_step, total, word2vec_blocks, last_losses, loss_history) -> list:
    phase = "word2vec" if train_step < word2vec_blocks else "classifiers"
    values = {"phase": phase, "update": f"{train_step}/{total}"}
    values.update({f"loss {n}": last_losses[n] for n in VARIANTS})
    panels = [Scalars("training", values)]
    if loss_history:
        panels.append(Series("loss", {"mean loss": np.asarray(loss_history[-2000:])}))
    panels.append(Text("about", "one-hot vs Word2Vec (frozen, fine-tuned) inputs to the same RNN"))
    return panels


LAB = W2VSentimentLab
HEADLINE_METRICS = ("accuracy_finetuned", "accuracy_frozen", "accuracy_onehot")
