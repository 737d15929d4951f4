"""Trainer: owns W, W', the tables and an encoded corpus; trains it block by block.

The corpus is ids [N] (int32 word ids) cut into sentences by sent_starts [S + 1]. Sentences
are grouped into chunks (the unit of parallel work and of random streams) of at most
chunk_words tokens, and chunks into blocks of about block_words tokens (the unit of one call,
so a caller can report progress between calls). Training update k is block k % B of epoch
k // B; its random draws depend only on (seed, epoch, chunk), so with workers=1 any split of
the run into calls gives the same weights. With workers > 1 threads race on shared rows
(Hogwild) and runs differ slightly.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np

from kernels.word2vec.hogwild import train_range
from kernels.word2vec.tables import (
    chunk_seeds,
    guide_table,
    keep_thresholds,
    negative_table,
    sigmoid_tables,
)

RANGES_PER_THREAD = 8  # a block's pieces per thread: enough for the fast threads to take more


def group_offsets(lengths: np.ndarray, limit: int) -> np.ndarray:
    """Greedy grouping of consecutive items (lengths [n]) into groups of total <= limit (at
    least one item each). Returns [G + 1] item offsets."""
    offsets = [0]
    total = 0
    for index, length in enumerate(lengths.tolist()):
        if total and total + length > limit:
            offsets.append(index)
            total = 0
        total += length
    if offsets[-1] != len(lengths):
        offsets.append(len(lengths))
    return np.asarray(offsets, dtype=np.int64)


class Trainer:
    """Word2Vec model + training schedule.

    counts: [V] word counts (vocabulary order); ids: [N] word ids; sent_starts: [S + 1].
    negative = 0 means the full softmax (vocabularies up to ~10k words).
    shared_negatives (the default): each window as one small dense product
    (kernels.word2vec.shared): skip-gram trains the window's context words against the
    centre and one set of k negatives at once; CBOW's example (already one window) reads and
    updates its output rows in the same layout. The vectors are as good as gensim's (within
    0.02 on WordSim-353, 0.01 on the analogies: scripts/bench_vs_gensim.py); by wall time
    skip-gram runs 2.7-3.7x gensim's speed, CBOW 1.4-2x. False: one (centre, context) pair
    at a time, word2vec.c's order (the update the stepping screen shows,
    kernels.word2vec.update_pair). The full softmax (negative = 0) is unaffected.
    Initialisation as gensim 4: W uniform in [-1/D, 1/D), W' zeros (word2vec.c draws W from
    half that range; on the benchmark corpus gensim's range gave better analogies).
    """

    def __init__(
        self,
        counts,
        ids,
        sent_starts,
        *,
        dim=100,
        window=5,
        negative=5,
        sg=True,
        sample=1e-3,
        alpha=0.025,
        min_alpha=1e-4,
        epochs=5,
        seed=0,
        dtype=np.float32,
        cbow_exact=False,
        exact_sigmoid=False,
        chunk_words=1_000,
        block_words=100_000,
        workers=1,
        shared_negatives=True,
    ):
        self.counts = np.asarray(counts, dtype=np.int64)
        self.ids = np.ascontiguousarray(ids, dtype=np.int32)
        self.sent_starts = np.ascontiguousarray(sent_starts, dtype=np.int64)
        V = self.counts.shape[0]
        if V == 0:
            raise ValueError("the vocabulary is empty")
        if self.ids.size and (self.ids.min() < 0 or self.ids.max() >= V):
            raise ValueError("ids hold word ids outside the vocabulary")
        if window < 1 or dim < 1 or negative < 0 or epochs < 1:
            raise ValueError("window, dim and epochs must be >= 1 and negative >= 0")
        self.dim, self.window, self.negative, self.sg = (
            int(dim),
            int(window),
            int(negative),
            bool(sg),
        )
        self.alpha, self.min_alpha, self.epochs, self.seed = (
            alpha,
            min_alpha,
            int(epochs),
            int(seed),
        )
        self.cbow_exact, self.exact_sigmoid, self.workers = cbow_exact, exact_sigmoid, workers
        if not isinstance(shared_negatives, bool | np.bool_):
            raise ValueError(f"shared_negatives must be True or False, got {shared_negatives!r}")
        self.shared_negatives = bool(shared_negatives)
        self.dtype = np.dtype(dtype)
        rng = np.random.default_rng([self.seed, 0x77])
        self.W_in = ((rng.random((V, self.dim)) * 2.0 - 1.0) / self.dim).astype(self.dtype)
        self.W_out = np.zeros((V, self.dim), dtype=self.dtype)
        self.cum_table = negative_table(self.counts)
        self.guide = guide_table(self.cum_table)
        self.keep = keep_thresholds(self.counts, sample)
        self.sig_table, self.nls_table = sigmoid_tables()
        lengths = np.diff(self.sent_starts)
        self.max_sentence = int(lengths.max()) if lengths.size else 1
        self.chunk_sents = group_offsets(lengths, chunk_words)
        chunk_lengths = np.diff(self.sent_starts[self.chunk_sents])
        self.block_chunks = group_offsets(chunk_lengths, block_words)
        self.words_total = int(self.ids.size)

    @property
    def vocab_size(self) -> int:
        return self.counts.shape[0]

    @property
    def blocks_per_epoch(self) -> int:
        return self.block_chunks.shape[0] - 1

    @property
    def total_blocks(self) -> int:
        return self.epochs * self.blocks_per_epoch

    def block_tokens(self, update: int) -> int:
        """Corpus tokens (before subsampling) in training update `update`."""
        block = update % self.blocks_per_epoch
        c0, c1 = self.block_chunks[block], self.block_chunks[block + 1]
        s0, s1 = self.chunk_sents[c0], self.chunk_sents[c1]
        return int(self.sent_starts[s1] - self.sent_starts[s0])

    def _balance(self, c0: int, c1: int, threads: int) -> np.ndarray:
        """[threads + 1] offsets (relative to c0) splitting chunks c0..c1-1 into contiguous
        ranges of about equal token counts (threads: the number of ranges)."""
        tokens = np.diff(self.sent_starts[self.chunk_sents[c0 : c1 + 1]])
        if threads == 1 or tokens.size <= 1:
            return np.asarray([0, c1 - c0], dtype=np.int64)
        cumulative = np.cumsum(tokens)
        marks = cumulative[-1] * np.arange(1, threads) / threads
        cuts = np.searchsorted(cumulative, marks, side="left") + 1
        return np.concatenate([[0], np.minimum(cuts, c1 - c0), [c1 - c0]]).astype(np.int64)

    def learning_rate(self, progress: float) -> float:
        """The rate at a fraction `progress` of the run (linear decay, floor min_alpha)."""
        return max(self.min_alpha, self.alpha - (self.alpha - self.min_alpha) * progress)

    def train_block(self, update: int, workers: int | None = None) -> dict:
        """Train update `update` (block update % B of epoch update // B).

        Returns {"loss": mean loss per example (NaN if none), "examples", "words" (kept after
        subsampling), "tokens" (before), "seconds"}."""
        epoch, block = divmod(update, self.blocks_per_epoch)
        c0, c1 = int(self.block_chunks[block]), int(self.block_chunks[block + 1])
        seeds = chunk_seeds(self.seed, epoch, np.arange(c0, c1))
        n = c1 - c0
        loss_out = np.zeros(n)
        pairs_out = np.zeros(n, np.int64)
        words_out = np.zeros(n, np.int64)
        threads = max(1, min(int(workers or self.workers), numba.config.NUMBA_NUM_THREADS))
        ranges = self._balance(c0, c1, 1 if threads == 1 else threads * RANGES_PER_THREAD)
        arguments = (
            self.W_in, self.W_out, self.ids, self.sent_starts, self.chunk_sents, c0, seeds,
            self.alpha, self.min_alpha, float(epoch * self.words_total),
            float(max(1, self.epochs * self.words_total)), self.keep, self.cum_table, self.guide,
            self.window, self.negative, self.sg, self.shared_negatives and self.negative > 0,
            self.negative == 0, self.cbow_exact, self.exact_sigmoid, self.sig_table,
            self.nls_table, self.max_sentence, loss_out, pairs_out, words_out,
        )  # fmt: skip
        start = time.perf_counter()
        if threads == 1:
            train_range(*arguments[:5], 0, c1 - c0, *arguments[5:])
        else:
            _run_ranges(ranges, threads, arguments)
        seconds = time.perf_counter() - start
        examples = int(pairs_out.sum())
        return {
            "loss": float(loss_out.sum() / examples) if examples else float("nan"),
            "examples": examples,
            "words": int(words_out.sum()),
            "tokens": self.block_tokens(update),
            "seconds": seconds,
        }


def _run_ranges(ranges: np.ndarray, threads: int, arguments: tuple) -> None:
    """train_range over ranges[i] .. ranges[i + 1] for every i, on `threads` threads that each
    take the next range when done with one (errors re-raised here)."""
    lock = threading.Lock()
    next_range = iter(range(len(ranges) - 1))

    def work() -> None:
        while True:
            with lock:
                i = next(next_range, None)
            if i is None:
                return
            train_range(*arguments[:5], int(ranges[i]), int(ranges[i + 1]), *arguments[5:])

    with ThreadPoolExecutor(threads) as pool:
        for done in [pool.submit(work) for _ in range(threads)]:
            done.result()
