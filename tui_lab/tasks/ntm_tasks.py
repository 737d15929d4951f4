"""The NTM paper's algorithmic tasks as batches of bit-vector episodes.

Every task returns an Episodes batch, sequence-first like the kernels:
inputs [T, B, X], targets [T, B, Y], mask [T, B] (1 where the target is scored), lengths [B]
(each episode's own number of steps; episodes shorter than T are padded with zeros and mask 0).
A batch is a pure function of the generator passed in; the labs seed it with
np.random.default_rng([seed, k]) for training update k.

copy              L random `bits`-bit vectors (L in min..max_length), a delimiter on its own
                  channel, then L blank steps in which the target is the sequence.
                  X = bits + 1, Y = bits, T = 2 L + 1.
repeat_copy       L vectors, a delimiter step, a step holding the repeat count n normalised
                  ((n - mean) / std over min..max_repeats) on its own channel, then n copies
                  and an end marker on an extra output channel. X = bits + 2, Y = bits + 1,
                  T = L + 2 + n L + 1.
associative_recall  2-6 items of 3 vectors of `bits` bits, each item after an item delimiter;
                  then a query delimiter, one item (never the last), a query delimiter again;
                  the target is the item that followed it. X = bits + 2, Y = bits.
priority_sort     `sort_inputs` vectors each with a priority from U[-1, 1] on an extra channel,
                  a delimiter, then the `sort_outputs` highest-priority vectors in descending
                  priority order. X = bits + 2, Y = bits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TASKS = ("copy", "repeat_copy", "associative_recall", "priority_sort")


@dataclass(frozen=True)
class TaskSpec:
    """Task options (the scenario's [data] table)."""

    task: str = "copy"
    bits: int = 8
    min_length: int = 1
    max_length: int = 20
    min_repeats: int = 1
    max_repeats: int = 10
    min_items: int = 2
    max_items: int = 6
    item_length: int = 3
    sort_inputs: int = 20
    sort_outputs: int = 16
    # repeat copy: 0 = n drawn from min..max_repeats; else every episode repeats this often,
    # still normalised over min..max_repeats (how the paper tests counting past training)
    fixed_repeats: int = 0

    def __post_init__(self):
        if self.task not in TASKS:
            raise ValueError(f"unknown NTM task {self.task!r}; known: {', '.join(TASKS)}")

    @property
    def input_width(self) -> int:
        return self.bits + (1 if self.task == "copy" else 2)

    @property
    def output_width(self) -> int:
        return self.bits + (1 if self.task == "repeat_copy" else 0)

    def with_length(self, length: int) -> TaskSpec:
        """The same task with its sequence length fixed (copy, repeat copy: L)."""
        from dataclasses import replace

        return replace(self, min_length=length, max_length=length)

    def with_repeats(self, repeats: int) -> TaskSpec:
        """Repeat copy with every episode's count fixed (the input keeps its training scale)."""
        from dataclasses import replace

        return replace(self, fixed_repeats=repeats)


@dataclass(frozen=True)
class Episodes:
    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    lengths: np.ndarray


def _pack(spec: TaskSpec, episodes: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> Episodes:
    T = max(len(x) for x, _, _ in episodes)
    B = len(episodes)
    inputs = np.zeros((T, B, spec.input_width))
    targets = np.zeros((T, B, spec.output_width))
    mask = np.zeros((T, B))
    lengths = np.zeros(B, dtype=np.int64)
    for b, (x, y, m) in enumerate(episodes):
        n = len(x)
        inputs[:n, b], targets[:n, b], mask[:n, b], lengths[b] = x, y, m, n
    return Episodes(inputs, targets, mask, lengths)


def _random_bits(rng, n, bits):
    return rng.integers(0, 2, (n, bits)).astype(np.float64)


def copy_episode(spec, rng):
    L = int(rng.integers(spec.min_length, spec.max_length + 1))
    seq = _random_bits(rng, L, spec.bits)
    x = np.zeros((2 * L + 1, spec.input_width))
    y = np.zeros((2 * L + 1, spec.output_width))
    m = np.zeros(2 * L + 1)
    x[:L, : spec.bits] = seq
    x[L, spec.bits] = 1.0
    y[L + 1 :] = seq
    m[L + 1 :] = 1.0
    return x, y, m


def repeat_copy_episode(spec, rng):
    L = int(rng.integers(spec.min_length, spec.max_length + 1))
    n = spec.fixed_repeats or int(rng.integers(spec.min_repeats, spec.max_repeats + 1))
    count = spec.max_repeats - spec.min_repeats + 1
    mean = (spec.min_repeats + spec.max_repeats) / 2.0
    std = np.sqrt((count * count - 1) / 12.0) if count > 1 else 1.0
    seq = _random_bits(rng, L, spec.bits)
    T = L + 2 + n * L + 1
    x = np.zeros((T, spec.input_width))
    y = np.zeros((T, spec.output_width))
    m = np.zeros(T)
    x[:L, : spec.bits] = seq
    x[L, spec.bits] = 1.0
    x[L + 1, spec.bits + 1] = (n - mean) / std
    y[L + 2 : L + 2 + n * L, : spec.bits] = np.tile(seq, (n, 1))
    y[T - 1, spec.bits] = 1.0
    m[L + 2 :] = 1.0
    return x, y, m


def associative_recall_episode(spec, rng):
    n_items = int(rng.integers(spec.min_items, spec.max_items + 1))
    k = spec.item_length
    items = _random_bits(rng, n_items * k, spec.bits).reshape(n_items, k, spec.bits)
    query = int(rng.integers(0, n_items - 1))
    T = n_items * (k + 1) + 1 + k + 1 + k
    x = np.zeros((T, spec.input_width))
    y = np.zeros((T, spec.output_width))
    m = np.zeros(T)
    t = 0
    for item in items:
        x[t, spec.bits] = 1.0
        x[t + 1 : t + 1 + k, : spec.bits] = item
        t += k + 1
    x[t, spec.bits + 1] = 1.0
    x[t + 1 : t + 1 + k, : spec.bits] = items[query]
    x[t + 1 + k, spec.bits + 1] = 1.0
    y[T - k :] = items[query + 1]
    m[T - k :] = 1.0
    return x, y, m


def priority_sort_episode(spec, rng):
    n_in, n_out = spec.sort_inputs, spec.sort_outputs
    seq = _random_bits(rng, n_in, spec.bits)
    priority = rng.uniform(-1.0, 1.0, n_in)
    order = np.argsort(-priority, kind="stable")[:n_out]
    T = n_in + 1 + n_out
    x = np.zeros((T, spec.input_width))
    y = np.zeros((T, spec.output_width))
    m = np.zeros(T)
    x[:n_in, : spec.bits] = seq
    x[:n_in, spec.bits] = priority
    x[n_in, spec.bits + 1] = 1.0
    y[n_in + 1 :] = seq[order]
    m[n_in + 1 :] = 1.0
    return x, y, m


_MAKERS = {
    "copy": copy_episode,
    "repeat_copy": repeat_copy_episode,
    "associative_recall": associative_recall_episode,
    "priority_sort": priority_sort_episode,
}


def make_batch(spec: TaskSpec, rng: np.random.Generator, batch: int) -> Episodes:
    """`batch` episodes of spec.task drawn from rng, padded to the longest."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    return _pack(spec, [_MAKERS[spec.task](spec, rng) for _ in range(batch)])


def batch_for_update(spec: TaskSpec, seed: int, update: int, batch: int) -> Episodes:
    """The training batch of update k: a pure function of (seed, k)."""
    return make_batch(spec, np.random.default_rng([seed, update]), batch)


EVAL_STREAM = 2**31 - 1  # a seed component training never uses: evaluation sees fresh data


def eval_batches(spec: TaskSpec, seed: int, total: int, batch: int):
    """`total` fresh episodes (disjoint from every training batch) in batches of `batch`."""
    rng = np.random.default_rng([seed, EVAL_STREAM])
    done = 0
    while done < total:
        n = min(batch, total - done)
        yield make_batch(spec, rng, n)
        done += n
