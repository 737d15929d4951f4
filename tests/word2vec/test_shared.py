"""Shared negatives per window (kernels.word2vec.shared): one update against the equations,
the training loop re-run in Python, determinism."""

import numpy as np
import pytest

from kernels.word2vec.shared import update_window

from .test_hogwild import LCG, tiny_trainer
from .test_update import reference_update, weights


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_window(W_in, W_out, contexts, centre, negatives, alpha):
    """The module docstring's equations in plain numpy, float64: S = X Y^T, G = alpha (labels -
    sigma(S)), W[ctx] += G Y, W'[out] += G^T X, from the rows before the step. A negative equal
    to the centre is left out; repeated words get every row's update."""
    W_in, W_out = W_in.astype(np.float64), W_out.astype(np.float64)
    outputs = [centre] + [n for n in negatives if n != centre]
    labels = np.array([1.0] + [0.0] * (len(outputs) - 1))
    X, Y = W_in[contexts], W_out[outputs]
    S = X @ Y.T
    loss = -np.log(sigmoid(S[:, 0])).sum() - np.log(sigmoid(-S[:, 1:])).sum()
    G = alpha * (labels - sigmoid(S))
    new_in, new_out = W_in.copy(), W_out.copy()
    np.add.at(new_in, contexts, G @ Y)
    np.add.at(new_out, outputs, G.T @ X)
    return loss, new_in, new_out


CASES = [
    ("distinct", [1, 4, 9, 0, 7], 6, [2, 11, 3]),
    ("repeats", [1, 4, 1, 6, 4], 6, [2, 2, 6, 1]),  # context twice, negative twice, = centre
    ("one context, no negatives", [5], 3, []),
    ("seven contexts, four negatives", [0, 1, 2, 3, 4, 5, 7], 8, [9, 10, 11, 0]),
]


@pytest.mark.parametrize("name,contexts,centre,negatives", CASES, ids=[c[0] for c in CASES])
def test_window_update_matches_equations_float64(name, contexts, centre, negatives):
    W_in, W_out = weights()
    want_loss, want_in, want_out = reference_window(W_in, W_out, contexts, centre, negatives, 0.1)
    loss = update_window(W_in, W_out, contexts, centre, negatives, 0.1)
    assert loss == pytest.approx(want_loss, rel=1e-12)
    np.testing.assert_allclose(W_in, want_in, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(W_out, want_out, rtol=1e-12, atol=1e-14)


def test_window_update_float32_close_to_float64():
    W_in, W_out = weights(dtype=np.float32)
    _, want_in, want_out = reference_window(W_in, W_out, [1, 4, 9, 0, 7], 6, [2, 11, 3], 0.1)
    update_window(W_in, W_out, [1, 4, 9, 0, 7], 6, [2, 11, 3], 0.1)
    assert W_in.dtype == np.float32
    np.testing.assert_allclose(W_in, want_in, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(W_out, want_out, rtol=1e-4, atol=1e-5)


def test_window_of_one_context_is_the_pair_update_the_other_way_round():
    """m = 1: the context's row predicts the centre against the negatives, which is the pair
    update with the roles named the other way (kernels.word2vec.update_pair)."""
    from kernels.word2vec import update_pair

    W_in, W_out = weights()
    a_in, a_out = W_in.copy(), W_out.copy()
    loss = update_window(W_in, W_out, [4], 6, [2, 11], 0.1)
    want = update_pair(a_in, a_out, [4], 6, [2, 11], 0.1)
    assert loss == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(W_in, a_in, rtol=1e-12)
    np.testing.assert_allclose(W_out, a_out, rtol=1e-12)


CBOW_CASES = [
    ("distinct", [1, 4, 9, 0], 6, [2, 11, 7, 3]),
    ("repeats", [1, 4, 1], 6, [2, 2, 6, 4]),  # a context twice, a negative twice, = centre
    ("one context", [5], 3, [0]),
]


@pytest.mark.parametrize("cbow_exact", [False, True])
@pytest.mark.parametrize("name,contexts,centre,negatives", CBOW_CASES,
                         ids=[c[0] for c in CBOW_CASES])  # fmt: skip
def test_cbow_window_matches_equations_float64(name, contexts, centre, negatives, cbow_exact):
    """h = mean of the context rows; every output scored and updated from its old row
    (test_update.reference_update: the notes' equations)."""
    W_in, W_out = weights()
    want_loss, want_in, want_out = reference_update(
        W_in, W_out, contexts, centre, negatives, 0.1, cbow_exact
    )
    loss = update_window(W_in, W_out, contexts, centre, negatives, 0.1, cbow=True,
                         cbow_exact=cbow_exact)  # fmt: skip
    assert loss == pytest.approx(want_loss, rel=1e-12)
    np.testing.assert_allclose(W_in, want_in, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(W_out, want_out, rtol=1e-12, atol=1e-14)


def test_update_window_rejects_bad_input():
    W_in, W_out = weights()
    with pytest.raises(ValueError, match="contexts hold word ids outside 0..11"):
        update_window(W_in, W_out, [12], 0, [1])
    with pytest.raises(ValueError, match="centre and negatives hold word ids outside 0..11"):
        update_window(W_in, W_out, [1], 0, [-1])
    with pytest.raises(ValueError, match="at least one context word"):
        update_window(W_in, W_out, [], 0, [1])
    with pytest.raises(ValueError, match="same shape and dtype"):
        update_window(W_in, W_out.astype(np.float32), [1], 0, [1])


def python_shared_run(trainer):
    """The kernel's loop with shared negatives, in plain Python with reference_window
    (skip-gram) or reference_update (CBOW), exact sigmoid, one worker: the same random
    stream as the pair loop, k draws per centre."""
    W_in, W_out = trainer.W_in.copy(), trainer.W_out.copy()
    cum = trainer.cum_table.astype(np.int64)
    from kernels.word2vec.tables import chunk_seeds

    for update in range(trainer.total_blocks):
        epoch, block = divmod(update, trainer.blocks_per_epoch)
        c0, c1 = trainer.block_chunks[block], trainer.block_chunks[block + 1]
        for chunk, seed in zip(range(c0, c1), chunk_seeds(trainer.seed, epoch, np.arange(c0, c1)),
                               strict=True):  # fmt: skip
            rng = LCG(seed)
            for s in range(trainer.chunk_sents[chunk], trainer.chunk_sents[chunk + 1]):
                start, stop = trainer.sent_starts[s], trainer.sent_starts[s + 1]
                progress = (epoch * trainer.words_total + start) / (
                    trainer.epochs * trainer.words_total
                )
                alpha = max(trainer.min_alpha,
                            trainer.alpha - (trainer.alpha - trainer.min_alpha) * progress)  # fmt: skip
                kept = [int(w) for w in trainer.ids[start:stop] if rng.bits32() < trainer.keep[w]]
                for i in range(len(kept)):
                    reduced = trainer.window - rng.below(trainer.window)
                    lo, hi = max(0, i - reduced), min(len(kept), i + reduced + 1)
                    contexts = [kept[j] for j in range(lo, hi) if j != i]
                    if not contexts:
                        continue
                    draws = [rng.below(int(cum[-1])) for _ in range(trainer.negative)]
                    negs = [int(np.searchsorted(cum, d, side="right")) for d in draws]
                    if trainer.sg:
                        _, W_in, W_out = reference_window(
                            W_in, W_out, contexts, kept[i], negs, alpha
                        )
                    else:
                        _, W_in, W_out = reference_update(
                            W_in, W_out, contexts, kept[i], negs, alpha, trainer.cbow_exact
                        )
    return W_in, W_out


@pytest.mark.parametrize("sg,cbow_exact", [(True, False), (False, False), (False, True)],
                         ids=["skip-gram", "cbow", "cbow-exact"])  # fmt: skip
def test_kernel_equals_python_rerun_with_shared_negatives(sg, cbow_exact):
    trainer = tiny_trainer(sg, 3, shared_negatives=True, cbow_exact=cbow_exact)
    want_in, want_out = python_shared_run(trainer)
    for k in range(trainer.total_blocks):
        assert np.isfinite(trainer.train_block(k)["loss"])
    np.testing.assert_allclose(trainer.W_in, want_in, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(trainer.W_out, want_out, rtol=1e-9, atol=1e-12)


def test_shared_negatives_one_worker_is_deterministic_and_differs_from_pairs():
    runs = []
    for shared, block_words in ((True, 20), (True, 1000), (False, 20)):
        trainer = tiny_trainer(True, 3, exact_sigmoid=False, shared_negatives=shared,
                               block_words=block_words, dtype=np.float32)  # fmt: skip
        for k in range(trainer.total_blocks):
            trainer.train_block(k)
        runs.append(trainer.W_in.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.allclose(runs[0], runs[2])


def test_shared_negatives_leaves_the_full_softmax_alone():
    results = []
    for shared in (True, False):
        trainer = tiny_trainer(True, 0, shared_negatives=shared)
        for k in range(trainer.total_blocks):
            trainer.train_block(k)
        results.append(trainer.W_in)
    np.testing.assert_array_equal(results[0], results[1])


def test_trainer_rejects_a_non_boolean_shared_negatives():
    with pytest.raises(ValueError) as error:
        tiny_trainer(True, 3, shared_negatives="yes")
    assert str(error.value) == "shared_negatives must be True or False, got 'yes'"
