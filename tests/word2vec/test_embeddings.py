"""Queries over word vectors, evaluation helpers, and export/import."""

import numpy as np
import pytest
from scipy.stats import spearmanr

from tui_lab.embeddings import KeyedVectors, read_analogy_questions, read_word_pairs, spearman


def vectors():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(30)]
    return KeyedVectors(words, rng.normal(size=(30, 8)).astype(np.float32))


def cosine_ranking(matrix, query, exclude):
    unit = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    scores = unit @ (query / np.linalg.norm(query))
    order = [i for i in np.argsort(-scores) if i not in exclude]
    return order, scores


def test_most_similar_matches_brute_force():
    kv = vectors()
    order, scores = cosine_ranking(
        kv.vectors.astype(np.float64), kv.vectors[4].astype(np.float64), {4}
    )
    hits = kv.most_similar("w4", 5)
    assert [w for w, _ in hits] == [f"w{i}" for i in order[:5]]
    assert [s for _, s in hits] == pytest.approx([scores[i] for i in order[:5]], rel=1e-6)


def test_analogy_uses_unit_vectors_and_excludes_query_words():
    kv = vectors()
    unit = kv.vectors / np.linalg.norm(kv.vectors, axis=1, keepdims=True)
    query = unit[1] - unit[2] + unit[3]
    order, _ = cosine_ranking(kv.vectors.astype(np.float64), query.astype(np.float64), {1, 2, 3})
    assert [w for w, _ in kv.analogy("w1", "w2", "w3", 3)] == [f"w{i}" for i in order[:3]]


def test_analogy_finds_a_planted_relation():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(4, 16))
    offset = rng.normal(size=16) * 2
    words = ["king", "man", "queen", "woman", "x", "y"]
    matrix = np.vstack(
        [base[0], base[1], base[0] + offset, base[1] + offset, rng.normal(size=(2, 16))]
    )
    kv = KeyedVectors(words, matrix)
    assert kv.analogy("king", "man", "woman", 1)[0][0] == "queen"
    result = kv.evaluate_analogies([("man", "king", "woman", "queen"), ("a", "b", "c", "d")])
    assert result == {"accuracy": 1.0, "correct": 1, "covered": 1, "total": 2}


def test_unknown_word_names_it():
    with pytest.raises(KeyError, match="'nope' is not in the vocabulary"):
        vectors().most_similar("nope")


def test_word2vec_text_round_trip(tmp_path):
    kv = vectors()
    path = tmp_path / "vectors.txt"
    kv.save_word2vec_format(path)
    lines = path.read_text().splitlines()
    assert lines[0] == "30 8" and lines[1].split()[0] == "w0" and len(lines[1].split()) == 9
    back = KeyedVectors.load_word2vec_format(path)
    assert back.words == kv.words
    np.testing.assert_allclose(back.vectors, kv.vectors, rtol=1e-5, atol=1e-6)


def test_npz_round_trip_is_exact(tmp_path):
    kv = vectors()
    kv.save_npz(tmp_path / "v.npz")
    back = KeyedVectors.load_npz(tmp_path / "v.npz")
    assert back.words == kv.words
    np.testing.assert_array_equal(back.vectors, kv.vectors)


def test_words_with_spaces_cannot_be_exported(tmp_path):
    kv = KeyedVectors(["a b", "c"], np.ones((2, 2)))
    with pytest.raises(ValueError, match="whitespace"):
        kv.save_word2vec_format(tmp_path / "v.txt")


def test_spearman_matches_scipy_with_ties():
    rng = np.random.default_rng(2)
    x = rng.integers(0, 5, size=40).astype(float)
    y = x + rng.normal(size=40)
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic, rel=1e-12)


def test_evaluation_file_readers(tmp_path):
    questions = tmp_path / "q.txt"
    questions.write_text(": capital\nAthens Greece Baghdad Iraq\n")
    assert read_analogy_questions(questions) == [("athens", "greece", "baghdad", "iraq")]
    pairs = tmp_path / "ws.tsv"
    pairs.write_text("# comment\nTiger\tcat\t7.35\n")
    assert read_word_pairs(pairs) == [("tiger", "cat", 7.35)]
