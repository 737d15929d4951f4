"""Word2Vec: CBOW and skip-gram you can step through one update at a time, and train fast.

The notes' shallow network: the rows of W [V, D] are the word vectors, W' [V, D] the output
layer. Skip-gram predicts each context word from the centre's row; CBOW predicts the centre
from the mean of the context rows. Objectives: the full softmax over the vocabulary, or
negative sampling (the target against k words drawn from unigram^0.75).

- stepping: each step applies one update (one (centre, context) pair, or one CBOW centre) of
  a sentence to the live weights with the training code itself (the per-pair update: the
  lab trains with it unless model.shared_negatives, kernels.word2vec.Trainer's faster
  default for scripts, is on), counted in train_step, and
  shows h, the scores, the probabilities and the rows of W and W' before and after
  (UpdateWalk, tui_lab/labs/_word2vec_walk.py).
- train(n): n blocks of about train.block_words corpus tokens through the Hogwild kernel
  (kernels.word2vec); update k is block k % B of epoch k // B, so resuming is exact with one
  worker. With workers > 1 the threads race without locks (Hogwild), and runs differ a little.
- query("king - man + woman") / query("most_similar king") answer from the current vectors.

Data: data.corpus = "" trains on the grammar corpus (tui_lab.tasks.grammar_corpus), whose
analogy questions give analogy_accuracy; any UTF-8 text file works instead.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from kernels.word2vec import Trainer, backward, forward, update_pair
from tui_lab.embeddings import KeyedVectors, answer_query, read_analogy_questions
from tui_lab.frames import Frame
from tui_lab.interop import WEIGHTS
from tui_lab.labs import _word2vec_view as view
from tui_lab.labs._word2vec_walk import Example, UpdateRecord, UpdateWalk
from tui_lab.labs.base import OWN_INPUT, QUERY, Lab
from tui_lab.scenario import Field, ScenarioError
from tui_lab.tasks import grammar_corpus
from tui_lab.tasks.corpus import (
    check_text_file,
    corpus_from_sentences,
    load_corpus,
    tokenize,
)

SCHEMA = {
    "data": {
        "corpus": Field("path", "", doc="a UTF-8 text file; empty: the grammar corpus"),
        "sentences": Field("int", 20_000, min=10, max=10_000_000, doc="grammar corpus size"),
        "min_count": Field("int", 5, min=1, max=1_000_000, doc="drop rarer words"),
        "max_vocab": Field("int", 0, min=0, max=10_000_000, doc="keep the most frequent; 0 = all"),
        "lowercase": Field("bool", True),
        "questions": Field("path", "", doc="analogy questions (questions-words.txt format)"),
    },
    "model": {
        "architecture": Field("str", "skipgram", choices=("skipgram", "cbow")),
        "objective": Field("str", "negative", choices=("negative", "softmax")),
        "dim": Field("int", 50, min=1, max=1000),
        "window": Field("int", 5, min=1, max=50),
        "negative": Field("int", 5, min=1, max=50, doc="negatives per example"),
        "sample": Field("float", 1e-3, min=0.0, max=1.0, doc="subsampling; 0 = off"),
        "cbow_exact": Field("bool", False, doc="CBOW: context rows get dL/dh / C (exact)"),
        "exact_sigmoid": Field("bool", False, doc="exact sigmoid instead of the table"),
        "shared_negatives": Field(
            "bool",
            False,
            doc="train: negatives shared per window (fast); off = the pair update that steps show",
        ),
        "dtype": Field("str", "float32", choices=("float32", "float64")),
        "weights": WEIGHTS,
    },
    "train": {
        "epochs": Field("int", 5, min=1, max=10_000),
        "alpha": Field("float", 0.025, min=1e-6, max=1.0, live=True, doc="start learning rate"),
        "min_alpha": Field("float", 1e-4, min=0.0, max=1.0, live=True, doc="final rate"),
        "workers": Field("int", 2, min=1, max=256, live=True, doc="Hogwild threads"),
        "block_words": Field(
            "int",
            10_000,
            min=100,
            max=10_000_000,
            doc="tokens per update (raised to 4 longest sentences, so threads share the work)",
        ),
    },
    "view": {
        "watch": Field("str_list", [], doc="words whose neighbours are shown"),
        "plot": Field("str_list", [], doc="words in the 2-D projection"),
        "sentence": Field("str", "", doc="the sentence to step through; empty: from the corpus"),
        "show_dims": Field("int", 12, min=1, max=1000),
    },
}

MAX_SOFTMAX_VOCAB = 10_000
MAX_STEPPING_WORDS = 1000  # an own sentence (the corpus's are cut at 40 words)
MAX_WALK_MB = 256  # what one sentence's record of updates may take
SHOWN_NEAREST = 5  # the softmax's most likely words besides the target in the scores


def corpus_path(scenario) -> Path | None:
    """data.corpus resolved (see resolve_path); None for the grammar corpus."""
    text = scenario.get("data.corpus")
    return resolve_path(scenario, text) if text else None


def resolve_path(scenario, text: str) -> Path:
    """A path as given (absolute or from the working folder), else beside the scenario file."""
    path = Path(text).expanduser()
    if not path.is_absolute() and not path.exists() and scenario.path is not None:
        beside = scenario.path.parent / path
        if beside.exists():
            return beside
    return path


def check_scenario(scenario) -> None:
    for key in ("data.corpus", "data.questions"):
        if scenario.get(key):
            check_text_file(resolve_path(scenario, scenario.get(key)))


def load_data(scenario):
    """(vocabulary, encoded corpus, questions or None) for a scenario; ScenarioError if bad."""
    data = scenario.section("data")
    path = corpus_path(scenario)
    if path is None:
        sentences = grammar_corpus.generate(data["sentences"], scenario.seed)
        vocab, corpus = corpus_from_sentences(
            sentences, data["min_count"], data["max_vocab"], where="grammar corpus"
        )
        questions = grammar_corpus.analogy_questions()
    else:
        vocab, corpus = load_corpus(path, data["min_count"], data["max_vocab"], data["lowercase"])
        questions = None
    if data["questions"]:
        questions_path = resolve_path(scenario, data["questions"])
        check_text_file(questions_path)
        questions = read_analogy_questions(questions_path, data["lowercase"])
    if scenario.get("model.objective") == "softmax" and len(vocab) > MAX_SOFTMAX_VOCAB:
        raise ScenarioError(
            f"{scenario.source}: model.objective = 'softmax' scores every word per update; "
            f"the vocabulary has {len(vocab):,} words, at most {MAX_SOFTMAX_VOCAB:,} "
            f"(raise data.min_count, set data.max_vocab, or use 'negative')"
        )
    return vocab, corpus, questions


class Word2VecLab(Lab):
    kind = "word2vec"
    capabilities = frozenset({OWN_INPUT, QUERY})

    def __init__(self, scenario):
        super().__init__(scenario)
        self.vocab, self.corpus, self.questions = load_data(scenario)
        self.grammar = corpus_path(scenario) is None
        model, train = scenario.section("model"), scenario.section("train")
        longest = int(np.diff(self.corpus.sent_starts).max())
        self.softmax = model["objective"] == "softmax"
        self.trainer = Trainer(
            self.vocab.counts,
            self.corpus.ids,
            self.corpus.sent_starts,
            dim=model["dim"],
            window=model["window"],
            negative=0 if self.softmax else model["negative"],
            sg=model["architecture"] == "skipgram",
            sample=model["sample"],
            alpha=train["alpha"],
            min_alpha=train["min_alpha"],
            epochs=train["epochs"],
            seed=scenario.seed,
            dtype=np.dtype(model["dtype"]),
            cbow_exact=model["cbow_exact"],
            exact_sigmoid=model["exact_sigmoid"],
            shared_negatives=model["shared_negatives"],
            block_words=max(train["block_words"], 4 * longest),
            workers=train["workers"],
        )
        self.tokens_trained = 0
        self.train_seconds = 0.0
        self._kv: KeyedVectors | None = None
        self._kv_step = -1
        self._pca_basis: np.ndarray | None = None  # the last applied update's PCA axes
        self._draws = 0  # corpus sentences drawn for stepping so far
        self._compiled = False

    # ---- training ---------------------------------------------------------------
    def parameters(self) -> dict[str, np.ndarray]:
        return {"W_in": self.trainer.W_in, "W_out": self.trainer.W_out}

    def extra_state(self) -> dict[str, np.ndarray]:
        return {"speed": np.asarray([self.tokens_trained, self.train_seconds], dtype=np.float64)}

    def load_extra_state(self, state) -> None:
        if "speed" in state:
            self.tokens_trained = int(state["speed"][0])
            self.train_seconds = float(state["speed"][1])
        self._kv = None

    def total_train_steps(self) -> int:
        return self.trainer.total_blocks

    def train_one(self) -> float:
        if not self._compiled:  # keep JIT compile time out of words/s
            for _, task in self.warmup_tasks():
                task()
            self._compiled = True
        train = self.scenario.section("train")
        self.trainer.alpha, self.trainer.min_alpha = train["alpha"], train["min_alpha"]
        result = self.trainer.train_block(self.train_step, workers=train["workers"])
        self.tokens_trained += result["tokens"]
        self.train_seconds += result["seconds"]
        self._kv = None
        if result["examples"] == 0:  # everything subsampled away: no loss to report
            finite = [x for x in self.loss_history[-1:] if math.isfinite(x)]
            return finite[0] if finite else 0.0
        return result["loss"]

    def stats(self) -> dict:
        total = self.total_train_steps()
        recent = [x for x in self.loss_history[-50:] if math.isfinite(x)]
        speed = self.tokens_trained / self.train_seconds if self.train_seconds else 0.0
        return {
            "words_per_sec": speed,
            "loss": float(np.mean(recent)) if recent else float("nan"),
            "lr": self.trainer.learning_rate(min(self.train_step, total) / max(total, 1)),
            "epoch": min(self.train_step // max(self.trainer.blocks_per_epoch, 1) + 1,
                         self.trainer.epochs),
        }  # fmt: skip

    def evaluate(self) -> dict:
        stats = self.stats()
        metrics = {
            "words_per_sec": round(stats["words_per_sec"], 1),
            "loss": stats["loss"],
            "vocab_size": len(self.vocab),
            "corpus_tokens": int(self.corpus.ids.size),
            "epochs_done": round(self.train_step / max(self.trainer.blocks_per_epoch, 1), 3),
        }
        if self.questions is not None:
            kv = self.vectors()
            result = kv.evaluate_analogies(self.questions)
            metrics["analogy_accuracy"] = result["accuracy"]
            metrics["analogy_questions"] = result["covered"]
            if not self.scenario.get("data.corpus") and not self.scenario.get("data.questions"):
                metrics["analogy_by_relation"] = {
                    name: round(kv.evaluate_analogies(qs)["accuracy"], 4)
                    for name, qs in grammar_corpus.analogy_sections().items()
                }
            if all(word in kv for word in ("king", "man", "woman")):
                metrics["king - man + woman"] = kv.analogy("king", "man", "woman", 1)[0][0]
        return metrics

    def write_artifacts(self, out_dir: Path) -> list[str]:
        vectors = self.vectors()
        vectors.save_word2vec_format(Path(out_dir) / "vectors.txt")
        vectors.save_word2vec_format(Path(out_dir) / "vectors.bin", binary=True)  # gensim's binary
        return ["vectors.txt", "vectors.bin"]

    # ---- vectors and queries -------------------------------------------------------
    def vectors(self) -> KeyedVectors:
        """The current word vectors (rows of W), cached until the next update."""
        if self._kv is None or self._kv_step != self.train_step:
            self._kv = KeyedVectors(self.vocab.words, self.trainer.W_in.copy())
            self._kv_step = self.train_step
        return self._kv

    def query(self, text: str) -> str:
        """Answer "most_similar WORD [k]", "WORD", "a - b + c" or "a : b :: c : ?"."""
        return answer_query(self.vectors(), text)

    def watch_words(self) -> list[str]:
        chosen = self.scenario.get("view.watch") or (
            list(grammar_corpus.WATCH_WORDS) if self.grammar else []
        )
        known = [word for word in chosen if word in self.vocab]
        return known or list(self.vocab.words[: min(4, len(self.vocab))])

    def plot_words(self) -> list[str]:
        chosen = self.scenario.get("view.plot") or (
            list(grammar_corpus.PLOT_WORDS) if self.grammar else []
        )
        known = [word for word in chosen if word in self.vocab]
        return known or list(self.vocab.words[: min(16, len(self.vocab))])

    def _map_words(self) -> list[str]:
        """The words of the PCA map: plot_words, or none when there are fewer than three."""
        plot = self.plot_words()
        return plot if len(plot) >= 3 else []

    def projection(self, words, previous: np.ndarray | None = None):
        """(coordinates [len(words), 2], axes [2, D]): PCA of the words' unit vectors; the
        axes' signs follow `previous` (the last map's axes) so that points move instead of
        flipping."""
        kv = self.vectors()
        rows = np.asarray([kv.unit[kv.index[word]] for word in words])
        centred = rows - rows.mean(axis=0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        basis = vt[:2]
        if previous is not None and previous.shape == basis.shape:
            signs = np.sign(np.sum(basis * previous, axis=1))
            basis = basis * np.where(signs == 0, 1.0, signs)[:, None]
        return centred @ basis.T, basis

    # ---- stepping --------------------------------------------------------------------
    def walk(self, input=None) -> UpdateWalk:
        """Stepping mode: step t applies update t of a sentence to the live weights, counted
        in train_step (so resume stays exact). A step is then not a view of a fixed run: the
        walk records what each applied update showed, and starts over after other training.

        input: None for view.sentence or a fresh corpus sentence, the user's text, or an
        earlier walk's sentence ids (the same sentence again)."""
        if isinstance(input, np.ndarray):
            sentence = input
        elif input is not None:
            sentence = self._own_sentence(input)
        elif self.scenario.get("view.sentence"):
            sentence = self._own_sentence(self.scenario.get("view.sentence"))
        else:
            sentence = self._corpus_sentence(self._draws)
            self._draws += 1
        examples = tuple(self._examples(sentence))
        dims = min(self.scenario.get("view.show_dims"), self.trainer.W_in.shape[1])
        # the output words an update shows: the target and its negatives (training skips
        # those equal to the target), or (full softmax) the target and the likeliest others
        if self.softmax:
            shown = [1 + min(SHOWN_NEAREST, len(self.vocab) - 1)] * len(examples)
        else:
            shown = [1 + int(np.sum(e.negatives != e.target)) for e in examples]
        plot = self._map_words()
        sizes = (examples, shown, dims, len(self.vocab), plot, self.softmax)
        size = UpdateRecord.nbytes(*sizes, self.trainer.dtype.itemsize, len(self.watch_words()))
        if size > MAX_WALK_MB * 2**20:
            raise ValueError(
                f"this sentence makes {len(examples):,} updates; stepping keeps what each one "
                f"shows, at most {MAX_WALK_MB} MB (~{size / 2**20:,.0f} MB here)"
            )
        record = UpdateRecord.allocate(*sizes, self.trainer.dtype, self.loss_history)
        # Snapshot 0 follows the last map's axes without moving them: walking changes nothing.
        self._snapshot(record, 0, plot, self._pca_basis)
        return UpdateWalk(sentence, len(examples), True, sentence, examples, record)

    def frame(self, walk: UpdateWalk, t: int) -> Frame:
        """Step t: updates up to t that are not applied yet are applied first, in order."""
        while walk.record.count <= t:
            self._apply(walk)
        model = self.scenario.section("model")
        return view.frame(walk, t, self.vocab.words, model["architecture"], self.softmax,
                          model["dim"], self._map_words(), self.total_train_steps(),
                          self._title())  # fmt: skip

    def _apply(self, walk: UpdateWalk) -> None:
        """Apply the walk's next update to the live weights (the training code, exact
        sigmoid), count it, and record what it shows."""
        record = walk.record
        t = record.count
        step = walk.examples[t]
        W_in, W_out = self.trainer.W_in, self.trainer.W_out
        trace = forward(W_in, W_out, step.inputs, step.target, step.negatives)
        grads = backward(trace)
        shown = view.shown_scores(trace, step.target, self.softmax)
        scored = trace.scored[shown]
        dims = record.h.shape[1]
        read, rows = record.read(t), record.scored(t)
        record.in_before[read] = W_in[step.inputs, :dims]
        record.out_before[rows] = W_out[scored, :dims]
        total = max(self.total_train_steps(), 1)
        alpha = self.trainer.learning_rate(min(self.train_step, total) / total)
        loss = update_pair(W_in, W_out, step.inputs, step.target, step.negatives, alpha,
                           self.scenario.get("model.cbow_exact"), exact_sigmoid=True)  # fmt: skip
        record.in_after[read] = W_in[step.inputs, :dims]
        record.out_after[rows] = W_out[scored, :dims]
        record.h[t] = trace.h[:dims]
        record.scored_ids[rows] = scored
        record.table[rows] = np.stack(
            [trace.scores[shown], trace.probs[shown], trace.labels[shown],
             grads["scores"][shown]], axis=1,
        )  # fmt: skip
        if self.softmax:
            top = np.argsort(-trace.probs, kind="stable")[: record.top_ids.shape[1]]
            record.top_ids[t], record.top_probs[t] = top, trace.probs[top]
            record.probs[t] = trace.probs
        record.loss[t], record.alpha[t] = float(loss), alpha
        record.dh_norm[t] = float(np.linalg.norm(grads["h"]))
        # A stepped update is a training update: counted, so a checkpoint resumes exactly.
        self.train_step += 1
        self.record_loss(float(loss))
        self._kv = None
        self._pca_basis = self._snapshot(record, t + 1, self._map_words(), record.basis)
        record.count = t + 1

    def _snapshot(self, record: UpdateRecord, k: int, plot, previous) -> np.ndarray | None:
        """Record snapshot k of the training view (the current weights); its PCA axes."""
        stats = self.stats()
        record.train_step[k] = self.train_step
        record.words_per_sec[k], record.mean_loss[k] = stats["words_per_sec"], stats["loss"]
        record.lr[k], record.epoch[k] = stats["lr"], stats["epoch"]
        del record.neighbours[k:]
        record.neighbours.append(view.neighbour_text(self.vectors(), self.watch_words()))
        if plot:
            record.coords[k], record.basis = self.projection(plot, previous)
        return record.basis

    def _own_sentence(self, text) -> np.ndarray:
        lowercase = self.scenario.get("data.lowercase")
        ids = [self.vocab.index[w] for w in tokenize(str(text), lowercase) if w in self.vocab]
        if len(ids) < 2:
            raise ScenarioError(
                f"{self.scenario.source}: view.sentence {str(text)!r} needs at least two "
                "words of the vocabulary"
            )
        if len(ids) > MAX_STEPPING_WORDS:
            raise ValueError(
                f"the sentence has {len(ids):,} words of the vocabulary; stepping takes at "
                f"most {MAX_STEPPING_WORDS:,}"
            )
        return np.asarray(ids, dtype=np.int64)

    def _corpus_sentence(self, draw: int) -> np.ndarray:
        rng = np.random.default_rng([self.scenario.seed, 0x5E, draw])
        n = self.corpus.n_sentences
        for _ in range(100):  # a sentence with at least two words
            sentence = self.corpus.sentence(int(rng.integers(n)))
            if len(sentence) >= 2:
                return sentence[:40].astype(np.int64)
        return self.corpus.ids[:40].astype(np.int64)

    def _examples(self, sentence: np.ndarray) -> list[Example]:
        """The updates of one sentence, in training order (no subsampling, so every word is
        shown); reduced windows and negatives drawn from (seed, sentence)."""
        window = self.scenario.get("model.window")
        k = self.scenario.get("model.negative")
        rng = np.random.default_rng([self.scenario.seed, 0xE7, *sentence.tolist()[:8]])
        cum = self.trainer.cum_table.astype(np.int64)
        examples = []
        for i in range(len(sentence)):
            reduced = window - int(rng.integers(window))
            lo, hi = max(0, i - reduced), min(len(sentence), i + reduced + 1)
            context = [j for j in range(lo, hi) if j != i]
            if not context:
                continue

            def negatives():
                if self.softmax:
                    return None
                draws = rng.integers(0, cum[-1], size=k)
                return np.searchsorted(cum, draws, side="right").astype(np.int64)

            if self.scenario.get("model.architecture") == "skipgram":
                for j in context:
                    examples.append(
                        Example(
                            i,
                            int(sentence[i]),
                            j,
                            sentence[i : i + 1],
                            int(sentence[j]),
                            negatives(),
                            reduced,
                            lo,
                            hi,
                        )
                    )
            else:
                examples.append(
                    Example(
                        i,
                        int(sentence[i]),
                        None,
                        sentence[context],
                        int(sentence[i]),
                        negatives(),
                        reduced,
                        lo,
                        hi,
                    )
                )
        return examples  # fmt: skip

    def _title(self) -> str:
        model = self.scenario.section("model")
        objective = "full softmax" if self.softmax else f"{model['negative']} negatives"
        return f"Word2Vec {model['architecture']} · {objective} · D={model['dim']}"

    def warmup_tasks(self):
        def compile_training():
            tiny = Trainer(
                np.array([3, 2, 1]),
                np.array([0, 1, 2, 0, 1, 0]),
                np.array([0, 6]),
                dim=4,
                window=2,
                negative=0 if self.softmax else 2,
                sg=self.trainer.sg,
                sample=0.0,
                epochs=1,
                dtype=self.trainer.dtype,
                exact_sigmoid=self.trainer.exact_sigmoid,
            )
            tiny.train_block(0)  # fmt: skip

        def compile_step():
            W = np.zeros((3, 4), dtype=self.trainer.dtype)
            update_pair(W, W.copy(), [0, 1], 2, None if self.softmax else [1], 0.1)

        return [("word2vec training kernel", compile_training), ("word2vec update", compile_step)]


LAB = Word2VecLab
HEADLINE_METRICS = ("analogy_accuracy", "loss", "words_per_sec")
