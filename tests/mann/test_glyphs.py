"""The stroke-glyph episodes of the one-shot learning lab."""

import numpy as np
import pytest

from tui_lab.tasks.glyphs import (
    GlyphSpec,
    batch_for_update,
    class_samples,
    eval_episodes,
    glyph_strokes,
    make_episodes,
)

SPEC = GlyphSpec(train_glyphs=50, test_glyphs=20)


def test_an_update_s_episodes_depend_on_seed_and_update_alone():
    a = batch_for_update(SPEC, 3, 17, 2)
    b = batch_for_update(SPEC, 3, 17, 2)
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.inputs, batch_for_update(SPEC, 3, 18, 2).inputs)
    assert not np.array_equal(a.inputs, batch_for_update(SPEC, 4, 17, 2).inputs)


def test_an_episode_shows_each_class_equally_often_with_one_shuffled_label():
    ep = make_episodes(SPEC, "train", np.random.default_rng(0), 3)
    T = SPEC.length
    assert ep.inputs.shape == (T, 3, SPEC.pixels + SPEC.classes)
    for b in range(3):
        classes, labels = ep.classes[:, b], ep.labels[:, b]
        chosen, counts = np.unique(classes, return_counts=True)
        assert chosen.size == SPEC.classes and set(counts) == {SPEC.presentations}
        # one label per class, a permutation of 0..C-1
        label_of = {int(c): set(labels[classes == c].tolist()) for c in chosen}
        assert all(len(v) == 1 for v in label_of.values())
        assert sorted(v.pop() for v in label_of.values()) == list(range(SPEC.classes))
        # the n-th time a class appears is its presentation n
        for c in chosen:
            assert ep.presentation[classes == c, b].tolist() == list(
                range(1, SPEC.presentations + 1)
            )
    # labels are shuffled per episode: the same class does not keep its label
    assert len({tuple(ep.labels[:, b][:5]) for b in range(3)}) > 1


def test_the_label_arrives_one_step_late():
    ep = make_episodes(SPEC, "train", np.random.default_rng(1), 2)
    given = ep.inputs[:, :, SPEC.pixels :]
    assert not given[0].any()
    np.testing.assert_array_equal(given[1:].argmax(-1), ep.labels[:-1])
    np.testing.assert_array_equal(given[1:].sum(-1), 1.0)
    np.testing.assert_allclose(ep.inputs[:, :, : SPEC.pixels], ep.samples.reshape(50, 2, -1), 1e-6)


def test_held_out_glyphs_are_not_training_glyphs():
    train = [glyph_strokes(SPEC, "train", g) for g in range(SPEC.train_glyphs)]
    for g in range(SPEC.test_glyphs):
        test = glyph_strokes(SPEC, "test", g)
        assert not any(t.shape == test.shape and np.allclose(t, test) for t in train)
    ep = make_episodes(SPEC, "test", np.random.default_rng(2), 4)
    assert ep.split == "test" and ep.classes.max() < SPEC.class_count("test")


def test_samples_of_a_class_look_alike_and_unlike_other_classes():
    rng = np.random.default_rng(3)
    samples = [class_samples(SPEC, "train", c, 8, rng).reshape(8, -1) for c in range(0, 40, 4)]
    unit = [s / np.linalg.norm(s, axis=1, keepdims=True) for s in samples]
    within = np.mean([(u @ u.T)[~np.eye(8, dtype=bool)].mean() for u in unit])
    across = np.mean([(unit[i] @ unit[j].T).mean() for i in range(10) for j in range(i)])
    assert 0.0 <= min(s.min() for s in samples) and max(s.max() for s in samples) <= 1.0
    assert within > across + 0.2, (within, across)


def test_a_quarter_turn_is_another_class():
    """Class 4g + 1 is glyph g turned by 90 degrees: with every per-sample distortion off,
    its sample is class 4g's sample rotated (np.rot90 turns the other way on screen, as y
    runs down)."""
    spec = GlyphSpec(jitter=0.0, tilt=0.0, shift=0.0, noise=0.0)
    rng = np.random.default_rng(4)
    upright = class_samples(spec, "train", 8, 1, rng)[0]
    turned = class_samples(spec, "train", 9, 1, rng)[0]
    scale_free = [s / np.linalg.norm(s) for s in (upright, turned, np.rot90(upright, -1))]
    assert float((scale_free[1] * scale_free[2]).sum()) > 0.9
    assert float((scale_free[0] * scale_free[1]).sum()) < 0.6


def test_eval_episodes_do_not_depend_on_how_they_are_batched():
    three = eval_episodes(SPEC, "test", 5, 3)
    one = eval_episodes(SPEC, "test", 6, 1)
    np.testing.assert_array_equal(three.inputs[:, 1:2], one.inputs)


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_class_of_the_split_can_be_drawn(split):
    spec = GlyphSpec(train_glyphs=2, test_glyphs=2)
    ep = make_episodes(spec, split, np.random.default_rng(0), 40)
    assert set(np.unique(ep.classes)) == set(range(8))
