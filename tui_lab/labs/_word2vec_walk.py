"""Word2Vec's stepping walk: one sentence's updates, and what each applied update showed.

Stepping Word2Vec is training (Walk.steps_are_updates): step t applies update t of the
sentence to the live weights, counted in train_step, so a checkpoint resumes exactly. A
walk is then not a view of a fixed run but a record that grows as updates are applied, in
order: arrays preallocated for every update of the sentence, filled up to `count`. Frames
are built from it (tui_lab/labs/_word2vec_view.py), at any t up to the last update applied.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui_lab.labs.base import Walk

HISTORY_SHOWN = 2000  # training losses the loss curve draws
TOP_SHOWN = 10  # full softmax: the most likely words listed


@dataclass(frozen=True)
class Example:
    """One update of the stepping view. Positions index the sentence; ids the vocabulary."""

    centre: int
    centre_id: int
    context: int | None  # skip-gram: the predicted context position
    inputs: np.ndarray
    target: int
    negatives: np.ndarray | None
    reduced: int
    lo: int
    hi: int


@dataclass
class UpdateRecord:
    """What the applied updates of one sentence showed. T updates; `dims` of the D
    dimensions shown; V the vocabulary; P the words of the PCA map.

    Update t (t < count) reads C rows of W (the centre, or CBOW's context), in_before and
    in_after[in_offsets[t]:in_offsets[t + 1]] [C, dims], and shows n scored words of W' (the
    target and its negatives but those equal to the target, or the target and the most
    likely words): rows out_offsets[t]:out_offsets[t + 1] of scored_ids [n], table [n, 4]
    (u = W'.h, p or sigma(u), label, dL/du) and out_before/out_after [n, dims]. h [T, dims]
    (CBOW's mean); top_ids/top_probs [T, K] (full softmax, else K = 0); probs [T, V] (full
    softmax, else [T, 0]); loss, alpha, dh_norm [T] (dh_norm = |dL/dh|).

    Snapshot k (k <= count): the training view after k of this walk's updates (k = 0: when
    the sentence was walked): train_step, words_per_sec, mean_loss, lr, epoch [T + 1];
    neighbours[k] the watched words' nearest neighbours; coords [T + 1, P, 2] the PCA map.
    losses_before: the last HISTORY_SHOWN training losses when the sentence was walked.
    basis [2, D]: the PCA axes of the last snapshot, whose signs the next one follows.

    Memory: O(T (C dims + n dims + V_softmax) + T P) floats plus a line of text per watched
    word per update; Word2VecLab refuses sentences whose record would pass MAX_WALK_MB.
    """

    count: int
    in_offsets: np.ndarray
    in_before: np.ndarray
    in_after: np.ndarray
    out_offsets: np.ndarray
    h: np.ndarray
    scored_ids: np.ndarray
    table: np.ndarray
    out_before: np.ndarray
    out_after: np.ndarray
    top_ids: np.ndarray
    top_probs: np.ndarray
    probs: np.ndarray
    loss: np.ndarray
    alpha: np.ndarray
    dh_norm: np.ndarray
    train_step: np.ndarray
    words_per_sec: np.ndarray
    mean_loss: np.ndarray
    lr: np.ndarray
    epoch: np.ndarray
    neighbours: list[str]
    coords: np.ndarray
    losses_before: np.ndarray
    basis: np.ndarray | None = None

    @classmethod
    def allocate(cls, examples, shown, dims, vocab, plot, softmax, dtype, losses_before):
        """Empty arrays for the updates of `examples`, which show shown[t] scored words
        (rows of W and W' in `dtype`)."""
        T = len(examples)
        in_offsets, out_offsets = _offsets([len(e.inputs) for e in examples]), _offsets(shown)
        K = min(TOP_SHOWN, vocab) if softmax else 0
        return cls(
            count=0,
            in_offsets=in_offsets,
            in_before=np.zeros((in_offsets[-1], dims), dtype),
            in_after=np.zeros((in_offsets[-1], dims), dtype),
            out_offsets=out_offsets,
            h=np.zeros((T, dims)),
            scored_ids=np.zeros(out_offsets[-1], np.int64),
            table=np.zeros((out_offsets[-1], 4)),
            out_before=np.zeros((out_offsets[-1], dims), dtype),
            out_after=np.zeros((out_offsets[-1], dims), dtype),
            top_ids=np.zeros((T, K), np.int64),
            top_probs=np.zeros((T, K)),
            probs=np.zeros((T, vocab if softmax else 0)),
            loss=np.zeros(T),
            alpha=np.zeros(T),
            dh_norm=np.zeros(T),
            train_step=np.zeros(T + 1, np.int64),
            words_per_sec=np.zeros(T + 1),
            mean_loss=np.zeros(T + 1),
            lr=np.zeros(T + 1),
            epoch=np.zeros(T + 1, np.int64),
            neighbours=[],
            coords=np.zeros((T + 1, len(plot), 2)),
            losses_before=np.asarray(losses_before[-HISTORY_SHOWN:], dtype=np.float64),
        )

    @staticmethod
    def nbytes(examples, shown, dims, vocab, plot, softmax, itemsize, watched) -> int:
        """About what `allocate` and the snapshots' text take for these examples."""
        T = len(examples)
        in_rows, out_rows = sum(len(example.inputs) for example in examples), sum(shown)
        rows = (in_rows + out_rows) * 2 * dims * itemsize + out_rows * 8 * 5
        per_update = 8 * (dims + 5) + (16 * min(TOP_SHOWN, vocab) + 8 * vocab if softmax else 0)
        per_snapshot = 8 * (2 * len(plot) + 5) + 100 * max(watched, 1)
        return rows + T * per_update + (T + 1) * per_snapshot

    def scored(self, t: int) -> slice:
        """Update t's rows of scored_ids, table, out_before and out_after."""
        return slice(self.out_offsets[t], self.out_offsets[t + 1])

    def read(self, t: int) -> slice:
        """Update t's rows of in_before and in_after."""
        return slice(self.in_offsets[t], self.in_offsets[t + 1])

    def history(self, k: int) -> np.ndarray:
        """The training losses the curve draws at snapshot k."""
        return np.concatenate([self.losses_before, self.loss[:k]])[-HISTORY_SHOWN:]


def _offsets(counts) -> np.ndarray:
    """[len(counts) + 1] where item t's rows start (and, at t + 1, end)."""
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(counts)
    return offsets


@dataclass(frozen=True)
class UpdateWalk(Walk):
    """input: the sentence's word ids [S] (walked again: the same sentence, from t = -1);
    examples: its T updates in training order; record: what the applied ones showed."""

    sentence: np.ndarray | None = None
    examples: tuple[Example, ...] = ()
    record: UpdateRecord | None = None
