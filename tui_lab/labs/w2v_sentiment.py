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
from pathlib import Path

import numpy as np

from kernels import losses, optim
from kernels.word2vec import Trainer
from tui_lab.embeddings import KeyedVectors
from tui_lab.frames import Frame, Matrix, Scalars, Sequence, Series, Text
from tui_lab.interop import WEIGHTS
from tui_lab.labs._hooks import HookedLab
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


def check_scenario(scenario) -> None:
    words = set(scenario.get("view.sentence").split())
    known = set(sentiment.POSITIVE + sentiment.NEGATIVE + sentiment.NOUNS + sentiment.INTENSIFIERS)
    known |= {"the", "was", "not", "but"}
    unknown = sorted(words - known)
    if unknown:
        raise ScenarioError(
            f"{scenario.source}: view.sentence has words the task never uses: {unknown}"
        )


class W2VSentimentLab(HookedLab):
    kind = "w2v_sentiment"

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
        self.start_sequence(None)

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
    def start_sequence(self, new_input=None, keep_input: bool = False) -> None:
        if keep_input and getattr(self, "sentence", None):
            return
        text = new_input if new_input is not None else self.scenario.get("view.sentence")
        words = [w for w in str(text).lower().split() if w in self.vocab]
        if not words:
            raise ScenarioError(f"the sentence {text!r} has no word the model knows")
        self.sentence = words

    def sequence_length(self) -> int:
        return len(self.sentence)

    def compute_step(self, t: int) -> Frame:
        # Every prefix as one left-padded batch: row b is the sentence cut after word b.
        prefixes = [
            sentiment.Example(tuple(self.sentence[: b + 1]), 0, False) for b in range(t + 1)
        ]
        ids = self.encode(prefixes)
        history, hidden = np.zeros((len(VARIANTS), t + 1)), None
        for row, name in enumerate(VARIANTS):
            logits, out = self.logits(name, ids)
            shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
            history[row] = shifted[:, 1] / shifted.sum(axis=1)
            if name == "finetuned":
                hidden = out[-1, t]
        probs = {name: history[row, t] for row, name in enumerate(VARIANTS)}
        word = self.sentence[t]
        x = self.inputs("finetuned", ids)[-1, 0]
        panels = [
            Sequence("sentence", tuple(self.sentence), position=t),
            Matrix("x_t (fine-tuned word vector)", x[None, :], row_labels=(word,), units="dim"),
            Matrix("h_t (fine-tuned model)", hidden[None, :], row_labels=(f"t={t}",),
                   units="hidden"),
            Matrix("p(positive) after this word", np.asarray([[probs[n]] for n in VARIANTS]),
                   scale="unit", row_labels=VARIANTS, col_labels=("p+",), group="output"),
            Matrix("p(positive) word by word", history, scale="unit", row_labels=VARIANTS,
                   col_labels=tuple(self.sentence[: t + 1]), group="output",
                   caption="each classifier's verdict on the sentence read so far"),
            *self._training_panels(),
        ]  # fmt: skip
        return Frame(self._title(), t, len(self.sentence), panels, train_step=self.train_step)

    def initial_frame(self) -> Frame:
        panels = [Sequence("sentence", tuple(self.sentence), position=-1), *self._training_panels()]
        return Frame(self._title(), -1, len(self.sentence), panels, train_step=self.train_step)

    def _training_panels(self) -> list:
        phase = "word2vec" if self.train_step < self.word2vec_blocks else "classifiers"
        values = {"phase": phase, "update": f"{self.train_step}/{self.total_train_steps()}"}
        values.update({f"loss {n}": self.last_losses[n] for n in VARIANTS})
        panels = [Scalars("training", values)]
        if self.loss_history:
            panels.append(Series("loss", {"mean loss": np.asarray(self.loss_history[-2000:])}))
        panels.append(
            Text("about", "one-hot vs Word2Vec (frozen, fine-tuned) inputs to the same RNN")
        )
        return panels

    def _title(self) -> str:
        return f"Word2Vec → {self.scenario.get('model.cell').upper()} sentiment"


LAB = W2VSentimentLab
HEADLINE_METRICS = ("accuracy_finetuned", "accuracy_frozen", "accuracy_onehot")
