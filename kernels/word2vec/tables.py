"""Lookup tables Word2Vec training needs, built once per vocabulary.

- negative-sampling table: cumulative unigram^0.75 counts scaled to [0, 2^31 - 1], one entry
  per word (gensim's layout). A draw is a binary search for a uniform integer in it; the table is
  vocabulary-sized, so it stays in cache (word2vec.c's 1e8-entry table does not).
- subsampling thresholds: word2vec's keep probability
      p_keep(w) = (sqrt(f(w) / (s * N)) + 1) * (s * N) / f(w),   capped at 1,
  f(w) the word's count, N the corpus size, s the `sample` setting; stored as a 32-bit integer
  threshold: keep a token when a uniform 32-bit draw is below it.
- sigmoid and log-sigmoid tables over [-MAX_EXP, MAX_EXP] (word2vec.c's EXP_TABLE), used when
  the training kernels run with exact_sigmoid=False.
- chunk seeds: the RNG state of every chunk of sentences, a pure function of (seed, epoch, chunk).
"""

from __future__ import annotations

import numpy as np

CUM_DOMAIN = 2**31 - 1
MAX_EXP = 6.0
TABLE_SIZE = 1000


def negative_table(counts: np.ndarray, power: float = 0.75) -> np.ndarray:
    """counts: [V] word counts -> [V] uint32 cumulative table ending at 2^31 - 1."""
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(f"counts must be a non-empty 1-D array, got shape {counts.shape}")
    weights = counts**power
    cumulative = np.cumsum(weights) / weights.sum()
    table = np.round(cumulative * CUM_DOMAIN).astype(np.uint32)
    table[-1] = CUM_DOMAIN
    return table


def guide_table(cum_table: np.ndarray) -> np.ndarray:
    """[V] int32: for bucket b (uniform integers u with u * V // total == b), the first word i
    with cum_table[i] > the bucket's smallest u. A draw starts its search there."""
    V = cum_table.shape[0]
    total = int(cum_table[-1])
    smallest = (np.arange(V, dtype=np.int64) * total + V - 1) // V
    return np.searchsorted(cum_table.astype(np.int64), smallest, side="right").astype(np.int32)


def keep_thresholds(counts: np.ndarray, sample: float) -> np.ndarray:
    """counts: [V] -> [V] uint64 thresholds in [0, 2^32]; sample <= 0 keeps every token."""
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.full(counts.shape, 2**32, dtype=np.uint64)
    threshold_count = sample * counts.sum()
    keep = (np.sqrt(counts / threshold_count) + 1.0) * (threshold_count / counts)
    keep = np.minimum(keep, 1.0)
    return np.round(keep * 2.0**32).astype(np.uint64)


def sigmoid_tables() -> tuple[np.ndarray, np.ndarray]:
    """([TABLE_SIZE] sigmoid, [TABLE_SIZE] -log sigmoid) sampled at the bin centres'
    left edges over [-MAX_EXP, MAX_EXP), as word2vec.c's expTable."""
    x = (np.arange(TABLE_SIZE) / TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
    sig = 1.0 / (1.0 + np.exp(-x))
    neg_log_sig = np.logaddexp(0.0, -x)
    return sig, neg_log_sig


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _splitmix(z: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _MIX1
        z = (z ^ (z >> np.uint64(27))) * _MIX2
        return z ^ (z >> np.uint64(31))


def chunk_seeds(seed: int, epoch: int, chunks: np.ndarray) -> np.ndarray:
    """[n] chunk indices -> [n] uint64 RNG states (never 0), a pure function of (seed, epoch,
    chunk): the same chunk gets the same random draws however the work is split."""
    chunks = np.asarray(chunks, dtype=np.uint64)
    base = _splitmix(np.array([seed], dtype=np.uint64))
    base = _splitmix(base ^ np.uint64(epoch))
    states = _splitmix(base ^ chunks)
    states[states == 0] = 1
    return states
