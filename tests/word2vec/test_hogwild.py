"""The Hogwild training kernel: an exact Python re-run of its loop, determinism, tables."""

import numpy as np
import pytest
from numba import njit

from kernels.word2vec import Trainer
from kernels.word2vec.hogwild import _draw_word
from kernels.word2vec.tables import (
    chunk_seeds,
    guide_table,
    keep_thresholds,
    negative_table,
)

from .test_update import reference_update

MASK48 = (1 << 48) - 1


class LCG:
    """word2vec.c's generator, as the kernel uses it."""

    def __init__(self, state):
        self.state = int(state)

    def bits32(self):
        self.state = (self.state * 25214903917 + 11) & MASK48
        return (self.state >> 16) & 0xFFFFFFFF

    def below(self, n):
        return (self.bits32() * n) >> 32


def sequential_update(W_in, W_out, inputs, target, negatives, alpha, cbow_exact):
    """word2vec.c's order: the outputs one after another, each row updated right after its
    own score, so a word drawn twice sees its first update (reference_update assumes distinct
    outputs, which a vocabulary of 8 words does not give)."""
    if negatives is None:
        return reference_update(W_in, W_out, inputs, target, None, alpha, cbow_exact)
    W_in, W_out = W_in.copy(), W_out.copy()
    h = W_in[inputs].mean(axis=0)
    neu1e = np.zeros_like(h)
    loss = 0.0
    for o, label in [(target, 1.0)] + [(n, 0.0) for n in negatives if n != target]:
        f = W_out[o] @ h
        p = 1.0 / (1.0 + np.exp(-f))
        loss += -np.log(p) if label else -np.log(1.0 - p)
        g = (label - p) * alpha
        neu1e += g * W_out[o]
        W_out[o] += g * h
    for i in inputs:
        W_in[i] += neu1e / len(inputs) if cbow_exact else neu1e
    return loss, W_in, W_out


def python_training_run(trainer: Trainer, W_in, W_out):
    """The kernel's loop in plain Python with reference_update (exact sigmoid), one worker."""
    cum = trainer.cum_table.astype(np.int64)
    total_loss, examples = 0.0, 0
    for update in range(trainer.total_blocks):
        epoch, block = divmod(update, trainer.blocks_per_epoch)
        c0, c1 = trainer.block_chunks[block], trainer.block_chunks[block + 1]
        seeds = chunk_seeds(trainer.seed, epoch, np.arange(c0, c1))
        for chunk, seed in zip(range(c0, c1), seeds, strict=True):
            rng = LCG(seed)
            for s in range(trainer.chunk_sents[chunk], trainer.chunk_sents[chunk + 1]):
                start, stop = trainer.sent_starts[s], trainer.sent_starts[s + 1]
                progress = (epoch * trainer.words_total + start) / (
                    trainer.epochs * trainer.words_total
                )
                alpha = max(
                    trainer.min_alpha,
                    trainer.alpha - (trainer.alpha - trainer.min_alpha) * progress,
                )
                kept = [int(w) for w in trainer.ids[start:stop] if rng.bits32() < trainer.keep[w]]
                for i in range(len(kept)):
                    reduced = trainer.window - rng.below(trainer.window)
                    window = [
                        j
                        for j in range(max(0, i - reduced), min(len(kept), i + reduced + 1))
                        if j != i
                    ]

                    if trainer.sg:
                        pairs = [([kept[i]], kept[j]) for j in window]
                    else:
                        pairs = [([kept[j] for j in window], kept[i])] if window else []
                    for inputs, target in pairs:
                        negs = None
                        if trainer.negative:
                            draws = [rng.below(int(cum[-1])) for _ in range(trainer.negative)]
                            negs = [int(np.searchsorted(cum, d, side="right")) for d in draws]
                        loss, W_in, W_out = sequential_update(
                            W_in, W_out, inputs, target, negs, alpha, trainer.cbow_exact
                        )
                        total_loss += loss
                        examples += 1
    return W_in, W_out, total_loss / examples  # fmt: skip


def tiny_trainer(sg, negative, seed=3, **kwargs):
    """A tiny Trainer; one pair at a time unless shared_negatives=True (test_shared.py)."""
    rng = np.random.default_rng(1)
    counts = np.array([30, 20, 12, 9, 6, 4, 3, 2])
    ids = rng.choice(8, size=60, p=counts / counts.sum()).astype(np.int32)
    starts = np.array([0, 9, 25, 31, 44, 60])
    options = dict(dim=6, window=3, negative=negative, sg=sg, sample=0.05, alpha=0.1,
                   epochs=2, seed=seed, dtype=np.float64, exact_sigmoid=True,
                   chunk_words=12, block_words=20, workers=1,
                   shared_negatives=False)  # fmt: skip
    options.update(kwargs)
    return Trainer(counts, ids, starts, **options)


@pytest.mark.parametrize(
    "sg,negative,cbow_exact",
    [(True, 3, False), (False, 3, False), (False, 3, True), (True, 0, False), (False, 0, False)],
    ids=["sg-neg", "cbow-neg", "cbow-neg-exact", "sg-softmax", "cbow-softmax"],
)
def test_kernel_equals_python_rerun_of_its_loop(sg, negative, cbow_exact):
    trainer = tiny_trainer(sg, negative, cbow_exact=cbow_exact)
    assert trainer.blocks_per_epoch > 1 and len(trainer.chunk_sents) > 3
    assert (trainer.keep < 2**32).any()  # subsampling really drops tokens here
    want_in, want_out, _ = python_training_run(trainer, trainer.W_in.copy(), trainer.W_out.copy())
    losses = [trainer.train_block(k) for k in range(trainer.total_blocks)]
    assert all(np.isfinite(r["loss"]) for r in losses)
    np.testing.assert_allclose(trainer.W_in, want_in, rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(trainer.W_out, want_out, rtol=1e-6, atol=1e-10)


def test_one_worker_is_deterministic_and_block_size_does_not_matter():
    runs = []
    for block_words in (20, 20, 1000):
        trainer = tiny_trainer(True, 3, exact_sigmoid=False, block_words=block_words)
        for k in range(trainer.total_blocks):
            trainer.train_block(k)
        runs.append(trainer.W_in.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    np.testing.assert_array_equal(runs[0], runs[2])
    other = tiny_trainer(True, 3, seed=4, exact_sigmoid=False)
    for k in range(other.total_blocks):
        other.train_block(k)
    assert not np.allclose(other.W_in, runs[0])


def test_threads_split_chunks_by_token_count():
    trainer = tiny_trainer(True, 3, block_words=10_000)
    split = trainer._balance(0, len(trainer.chunk_sents) - 1, 2)
    assert split[0] == 0 and split[-1] == len(trainer.chunk_sents) - 1 and len(split) == 3
    two = trainer.train_block(0, workers=2)
    assert two["examples"] > 0 and np.isfinite(two["loss"])


def test_keep_thresholds_follow_word2vec_formula():
    counts = np.array([1000, 100, 10, 1])
    sample = 1e-2
    t = sample * counts.sum()
    want = np.minimum((np.sqrt(counts / t) + 1) * t / counts, 1.0)
    np.testing.assert_allclose(keep_thresholds(counts, sample) / 2.0**32, want, atol=1e-9)
    assert (keep_thresholds(counts, 0.0) == 2**32).all()


@njit
def _draws(cum, guide, n, seed):
    state = np.empty(1, np.uint64)
    state[0] = seed
    out = np.empty(n, np.int64)
    for i in range(n):
        out[i] = _draw_word(cum, guide, np.int64(cum[-1]), state)
    return out


def test_negative_draws_follow_unigram_to_the_three_quarters():
    counts = np.array([5000, 800, 300, 40, 7, 1, 1, 90, 2000])
    cum = negative_table(counts)
    draws = _draws(cum, guide_table(cum), 200_000, np.uint64(12345))
    freq = np.bincount(draws, minlength=len(counts)) / len(draws)
    want = counts**0.75 / (counts**0.75).sum()
    np.testing.assert_allclose(freq, want, atol=0.004)


def test_guide_table_search_equals_binary_search():
    rng = np.random.default_rng(0)
    cum = negative_table(rng.integers(1, 1000, size=300))
    guide = guide_table(cum)
    values = rng.integers(0, int(cum[-1]), size=20_000)
    total = int(cum[-1])
    for value in values[:2000]:
        i = guide[(int(value) * len(guide)) // total]
        while cum[i] <= value:
            i += 1
        assert i == np.searchsorted(cum, value, side="right")


def test_chunk_seeds_depend_on_seed_epoch_and_chunk():
    a = chunk_seeds(0, 0, np.arange(4))
    assert len(set(a.tolist())) == 4
    np.testing.assert_array_equal(a[2:], chunk_seeds(0, 0, np.arange(2, 4)))
    assert not np.array_equal(a, chunk_seeds(0, 1, np.arange(4)))
    assert not np.array_equal(a, chunk_seeds(1, 0, np.arange(4)))


def test_loss_falls_while_training():
    trainer = tiny_trainer(True, 3, epochs=30, alpha=0.05)
    losses = [trainer.train_block(k)["loss"] for k in range(trainer.total_blocks)]
    per_epoch = np.asarray(losses).reshape(30, -1).mean(axis=1)
    # a random corpus: only the unigram statistics can be learnt, ~15% below the start
    assert per_epoch[-5:].mean() < 0.9 * per_epoch[:3].mean()
