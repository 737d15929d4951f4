"""The sentiment task and the Word2Vec -> RNN lab."""

import numpy as np
import pytest
from stepping import stepper

from tui_lab import registry
from tui_lab.labs.w2v_sentiment import VARIANTS
from tui_lab.registry import build_lab
from tui_lab.tasks import sentiment


def test_negation_flips_and_the_second_clause_decides():
    examples = sentiment.labelled(3000, 0, held_out=True)
    for example in examples:
        clause = list(example.words)
        if "but" in clause:
            clause = clause[clause.index("but") + 1 :]
        positive = clause[-1] in sentiment.POSITIVE
        assert example.label == int(positive != ("not" in clause))
    assert any("but" in e.words for e in examples) and any("not" in e.words for e in examples)
    # the same bag of words with opposite labels exists, so order matters
    bags = {}
    for e in examples:
        bags.setdefault(tuple(sorted(e.words)), set()).add(e.label)
    assert any(len(labels) == 2 for labels in bags.values())


def test_held_out_adjectives_only_outside_the_labelled_training_set():
    hidden = set(sentiment.POSITIVE[-3:] + sentiment.NEGATIVE[-3:])
    train_words = {w for e in sentiment.labelled(2000, 0, held_out=False) for w in e.words}
    assert not train_words & hidden
    test = sentiment.labelled(500, 0, held_out=True)
    assert all(e.held_out == bool(set(e.words) & hidden) for e in test)
    unlabelled = {w for s in sentiment.unlabelled_corpus(2000, 0) for w in s}
    assert hidden <= unlabelled


@pytest.fixture(scope="module")
def trained():
    scenario = registry.resolve("w2v-sentiment").with_overrides(
        ["data.train_sentences=400", "data.test_sentences=300", "data.unlabelled_sentences=3000",
         "embedding.epochs=5", "train.epochs=4", "model.hidden=12"]
    )  # fmt: skip
    lab = build_lab(scenario)
    lab.train(lab.total_train_steps())
    return lab


def test_word2vec_inputs_generalise_to_unseen_adjectives(trained):
    """One-hot inputs never trained the rows of held-out adjectives, so on those sentences
    they guess (measured 0.43-0.59 over seeds 0-2); the frozen Word2Vec vectors carry the
    polarity learnt from unlabelled text (measured 0.88-0.95)."""
    metrics = trained.evaluate()
    assert metrics["heldout_accuracy_frozen"] > metrics["heldout_accuracy_onehot"] + 0.2
    assert metrics["accuracy_frozen"] > 0.8
    for name in ("onehot", "frozen", "finetuned"):
        assert 0.0 <= metrics[f"accuracy_{name}"] <= 1.0
    assert metrics["heldout_sentences"] > 50


def test_finetuning_moves_the_embedding_and_freezing_does_not(trained):
    frozen = trained.word2vec.W_in
    assert not np.allclose(trained.finetuned_embedding, frozen)
    steps_before = trained.train_step
    copy = frozen.copy()
    trained.train_step = trained.word2vec.total_blocks + 1  # a classifier update
    trained.train_one()
    trained.train_step = steps_before
    np.testing.assert_array_equal(trained.word2vec.W_in, copy)


def test_stepping_shows_p_positive_per_classifier(trained):
    stepper(trained).reset()
    frame = stepper(trained).step()
    table = frame.panel("p(positive) after this word")
    assert table.row_labels == ("onehot", "frozen", "finetuned")
    assert ((table.values >= 0) & (table.values <= 1)).all()
    assert frame.panel("sentence").position == 0
    assert stepper(trained).length == len(trained.scenario.get("view.sentence").split())


def test_a_frame_is_a_view_of_one_reading_of_the_sentence(trained, monkeypatch):
    """Each classifier reads the sentence once from a zero state; a frame at t shows word t
    and the verdicts after words 0..t without running a model, and stepping on does not
    change the verdicts already shown."""
    text = "the food was not very good but the staff was superb"
    walk = trained.walk(text)
    words = text.split()
    ids = np.asarray([[trained.vocab.index[w]] for w in words])
    assert walk.tokens == tuple(words)
    t = 5  # "good"
    prefix = {name: trained.logits(name, ids[: t + 1])[0][0] for name in VARIANTS}

    def refuse(*args, **kwargs):
        raise AssertionError("a model ran while a frame was built")

    for rnn, head in trained.models.values():
        monkeypatch.setattr(rnn, "forward", refuse)
        monkeypatch.setattr(head, "forward", refuse)
    end = trained.frame(walk, len(words) - 1)
    frame = trained.frame(walk, t)
    x = frame.panel("x_t (fine-tuned word vector)")
    assert x.row_labels == ("good",)
    np.testing.assert_array_equal(x.values[0], trained.finetuned_embedding[ids[t, 0]])
    history = frame.panel("p(positive) word by word").values
    np.testing.assert_array_equal(history, end.panel("p(positive) word by word").values[:, : t + 1])
    for row, name in enumerate(VARIANTS):  # the prefix alone, read from a zero state
        p = np.exp(prefix[name] - prefix[name].max())
        assert history[row, t] == pytest.approx(p[1] / p.sum(), abs=1e-6)
    np.testing.assert_array_equal(frame.panel("h_t (fine-tuned model)").values[0],
                                  walk.states[t, 0, 0])  # fmt: skip
    assert trained.frame(walk, -1).panel("sentence").position == -1


def test_a_walk_holds_memory_linear_in_the_sentence_and_stepping_adds_none(trained):
    import tracemalloc

    from tui_lab.labs.stepper import Stepper

    steps = Stepper(trained)
    sizes = []
    for words in (500, 2000):
        tracemalloc.start()
        try:
            steps.reset(" ".join(["the staff was superb"] * (words // 4)))
            walked, _ = tracemalloc.get_traced_memory()
            for _ in range(steps.length):
                steps.step()
            now, _ = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert steps.t == words - 1
        assert now - walked < 1e6, f"stepping {words} words kept {now - walked:,} bytes"
        sizes.append(walked)
    assert sizes[1] / sizes[0] < 5, sizes  # O(T): near 4; O(T^2) near 16


def test_a_sentence_too_long_to_step_is_refused_with_the_limit(trained):
    from tui_lab.labs.w2v_sentiment import MAX_STEPPING_WORDS

    with pytest.raises(ValueError, match=f"stepping takes at most {MAX_STEPPING_WORDS:,}"):
        trained.walk("good " * (MAX_STEPPING_WORDS + 1))
