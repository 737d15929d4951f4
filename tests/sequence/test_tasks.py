"""Data generators of tui_lab/tasks/sequence_tasks.py: shapes, answers, determinism."""

import numpy as np
import pytest

from tui_lab.tasks.sequence_tasks import (
    SPELL_LETTERS,
    TASK_NAMES,
    make_task,
    seq2seq_batch,
    seq2seq_targets,
)


def rng(k=0):
    return np.random.default_rng([7, k])


@pytest.mark.parametrize("name", TASK_NAMES)
def test_batches_are_a_pure_function_of_the_rng_seed(name):
    task = make_task(name, length=9)
    a, b = task.batch(rng(3), 5), task.batch(rng(3), 5)
    np.testing.assert_array_equal(a.x, b.x)
    np.testing.assert_array_equal(a.targets, b.targets)
    assert not np.array_equal(task.batch(rng(4), 64).x, a.x[:, :1].repeat(64, axis=1))
    assert a.x.dtype == np.float32 and a.x.shape[1:] == (5, task.input_size)
    expected = (5,) if task.mode == "last" else (a.x.shape[0], 5)
    assert a.targets.shape == expected
    # encode(codes) gives the same answers as the batch
    np.testing.assert_array_equal(task.encode(a.codes).targets, a.targets)


def test_xor_is_the_parity_of_the_bits_in_one_step():
    task = make_task("xor", width=3)
    batch = task.encode(np.array([[0b101, 0b111, 0b000, 0b110]]))
    assert batch.x.shape == (1, 4, 3)
    np.testing.assert_array_equal(batch.x[0, 0], [1, 0, 1])
    np.testing.assert_array_equal(batch.targets, [0, 1, 0, 0])
    assert task.token(5) == "101"


def test_spell_reads_one_digit_and_writes_its_name():
    task = make_task("spell")
    batch = task.encode(task.parse("7"))
    assert batch.x.shape == (6, 1, 10)
    assert batch.x[0, 0, 7] == 1 and batch.x[1:].sum() == 0  # input only at the first step
    assert "".join(SPELL_LETTERS[c] for c in batch.targets[:, 0]) == "seven."
    # always answering each step's most common letter (o, e/i, ., ...) scores this
    assert task.chance == pytest.approx(29 / 60)


def test_many_to_one_answers():
    parity = make_task("parity", length=4)
    np.testing.assert_array_equal(
        parity.encode(np.array([[1, 0], [1, 0], [1, 1], [0, 0]])).targets, [1, 1]
    )
    sign = make_task("sum_sign", length=3)
    np.testing.assert_array_equal(sign.encode(sign.parse("+-+")).targets, [1])
    np.testing.assert_array_equal(sign.encode(sign.parse("--+")).targets, [0])


def test_running_parity_tags_every_step():
    task = make_task("running_parity", length=5)
    batch = task.encode(task.parse("10110"))
    np.testing.assert_array_equal(batch.targets[:, 0], [1, 1, 0, 1, 1])


def test_next_symbol_tags_with_the_future_and_skips_the_last_step():
    task = make_task("next_symbol", length=4, symbols=3)
    batch = task.encode(task.parse("abca"))
    np.testing.assert_array_equal(batch.targets[:, 0], [1, 2, 0, -1])
    assert task.chance == pytest.approx(1 / 3)


def test_first_symbol_answer_is_the_cue_and_later_steps_reuse_the_cue_alphabet():
    task = make_task("first_symbol", length=50, classes=2, symbols=0)
    batch = task.batch(rng(), 400)
    np.testing.assert_array_equal(batch.targets, batch.codes[0])
    assert set(np.unique(batch.codes[1:])) == {0, 1}  # later steps look like cues
    assert task.input_size == 2 and task.chance == 0.5
    extra = make_task("first_symbol", length=10, classes=2, symbols=3).batch(rng(), 200)
    assert extra.codes[0].max() < 2 and extra.codes[1:].max() == 4


def test_parse_names_what_is_wrong():
    with pytest.raises(ValueError, match="xor takes 3 bits like '111'"):
        make_task("xor", width=3).parse("12")
    with pytest.raises(ValueError, match="next_symbol reads one symbol per step from: a, b"):
        make_task("next_symbol", symbols=2).parse("abz")
    with pytest.raises(ValueError, match="first_symbol starts with a cue"):
        make_task("first_symbol", classes=2, symbols=2).parse("aAB")
    with pytest.raises(ValueError, match="unknown task 'nope'"):
        make_task("nope")


def test_seq2seq_targets():
    source, targets = seq2seq_batch("reverse", rng(), 3, 5, 4)
    np.testing.assert_array_equal(targets, source[::-1])
    assert source.max() < 4
    np.testing.assert_array_equal(
        seq2seq_targets("sort", np.array([[3], [1], [2]]))[:, 0], [1, 2, 3]
    )
