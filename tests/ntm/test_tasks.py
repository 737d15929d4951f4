"""The NTM paper's tasks: episode layout, and batches as pure functions of (seed, update)."""

import numpy as np
import pytest

from tui_lab.tasks.ntm_tasks import TaskSpec, batch_for_update, eval_batches, make_batch


def one(spec, seed=0):
    ep = make_batch(spec, np.random.default_rng(seed), 1)
    n = ep.lengths[0]
    return ep.inputs[:n, 0], ep.targets[:n, 0], ep.mask[:n, 0]


def test_copy_layout():
    spec = TaskSpec("copy", min_length=5, max_length=5)
    x, y, m = one(spec)
    assert x.shape == (11, 9) and y.shape == (11, 8)
    assert x[5, 8] == 1 and x[:, 8].sum() == 1  # one delimiter, on its own channel
    assert not x[6:].any()  # nothing to see while answering
    np.testing.assert_array_equal(y[6:], x[:5, :8])
    np.testing.assert_array_equal(m, [0] * 6 + [1] * 5)


def test_repeat_copy_layout():
    spec = TaskSpec("repeat_copy", min_length=3, max_length=3, min_repeats=4, max_repeats=4)
    x, y, m = one(spec)
    assert x.shape == (3 + 2 + 12 + 1, 10) and y.shape[1] == 9
    assert x[3, 8] == 1 and x[4, 9] == pytest.approx(0.0)  # the only count is the mean
    np.testing.assert_array_equal(y[5:17, :8], np.tile(x[:3, :8], (4, 1)))
    assert y[17, 8] == 1 and y[:17, 8].sum() == 0  # end marker on the last step only
    assert m[5:].all() and not m[:5].any()


def test_repeat_count_is_normalised():
    spec = TaskSpec("repeat_copy", min_repeats=1, max_repeats=10)
    counts = [one(spec, seed)[0][:, 9].sum() for seed in range(200)]
    assert min(counts) == pytest.approx((1 - 5.5) / np.sqrt(8.25))
    assert max(counts) == pytest.approx((10 - 5.5) / np.sqrt(8.25))


def test_fixed_repeats_go_past_the_training_range_on_its_scale():
    spec = TaskSpec("repeat_copy", min_length=3, max_length=3).with_repeats(20)
    x, y, m = one(spec)
    assert x.shape[0] == 3 + 2 + 20 * 3 + 1
    assert x[4, 9] == pytest.approx((20 - 5.5) / np.sqrt(8.25))  # scaled as in training
    np.testing.assert_array_equal(y[5:65, :8], np.tile(x[:3, :8], (20, 1)))
    assert y[65, 8] == 1 and y[:65, 8].sum() == 0


def test_associative_recall_answers_the_next_item():
    spec = TaskSpec("associative_recall", bits=6, min_items=4, max_items=4)
    for seed in range(20):
        x, y, m = one(spec, seed)
        items = [x[1 + 4 * i : 4 + 4 * i, :6] for i in range(4)]
        assert x[16, 7] == 1 and x[20, 7] == 1
        query = x[17:20, :6]
        k = next(i for i in range(3) if np.array_equal(items[i], query))
        np.testing.assert_array_equal(y[-3:], items[k + 1])
        assert m.sum() == 3 and m[-3:].all()


def test_priority_sort_orders_by_priority():
    spec = TaskSpec("priority_sort", sort_inputs=20, sort_outputs=16)
    x, y, m = one(spec)
    order = np.argsort(-x[:20, 8])[:16]
    np.testing.assert_array_equal(y[21:], x[:20, :8][order])
    assert x[20, 9] == 1 and m.sum() == 16


def test_batches_are_pure_functions_of_seed_and_update():
    spec = TaskSpec("copy")
    a, b = batch_for_update(spec, 3, 17, 4), batch_for_update(spec, 3, 17, 4)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    c = batch_for_update(spec, 3, 18, 4)
    assert a.inputs.shape != c.inputs.shape or not np.array_equal(a.inputs, c.inputs)


def test_padding_and_lengths():
    ep = make_batch(TaskSpec("copy", min_length=1, max_length=20), np.random.default_rng(1), 8)
    T = ep.inputs.shape[0]
    assert T == ep.lengths.max() == 2 * (ep.inputs[:, :, 8].argmax(axis=0).max()) + 1
    for b, n in enumerate(ep.lengths):
        assert not ep.mask[n:, b].any() and not ep.inputs[n:, b].any()


def test_eval_batches_count_and_freshness():
    spec = TaskSpec("copy")
    batches = list(eval_batches(spec, 0, 70, 32))
    assert [b.inputs.shape[1] for b in batches] == [32, 32, 6]
    train = batch_for_update(spec, 0, 0, 32)
    assert not np.array_equal(train.inputs, batches[0].inputs)


def test_unknown_task():
    with pytest.raises(ValueError, match="unknown NTM task 'sort'; known: copy, repeat_copy"):
        TaskSpec("sort")
