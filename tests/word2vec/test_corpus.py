"""Streaming corpora: vocabulary, encoding, chunking, and bad input."""

import numpy as np
import pytest

from tui_lab.scenario import ScenarioError
from tui_lab.tasks import corpus as corpus_module
from tui_lab.tasks.corpus import iter_file_sentences, load_corpus, tokenize


def test_tokenize_keeps_inner_apostrophes_and_hyphens():
    assert tokenize("Don't STOP: well-known, (x)!") == ["don't", "stop", "well-known", "x"]
    assert tokenize("Don't", lowercase=False) == ["Don't"]


def test_single_huge_line_streams_in_blocks_and_is_cut(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_module, "BLOCK_CHARS", 1000)  # over 40 blocks for this file
    rng = np.random.default_rng(0)
    words = [f"w{int(i)}" for i in rng.integers(0, 50, size=12_000)]
    path = tmp_path / "text8.txt"
    path.write_text(" ".join(words))
    assert path.stat().st_size > 40 * corpus_module.BLOCK_CHARS
    sentences = list(iter_file_sentences(path, max_sentence=5000))
    assert [len(s) for s in sentences] == [5000, 5000, 2000]
    assert sum(sentences, []) == words  # no token split or lost at a block edge


def test_lines_are_sentences_and_rare_words_are_dropped(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_module, "BLOCK_CHARS", 7)  # block edges inside words and lines
    path = tmp_path / "lines.txt"
    path.write_text("the cat sat\nthe dog sat on the mat\n\nthe cat ran\n")
    vocab, encoded = load_corpus(path, min_count=2)
    assert vocab.words == ("the", "cat", "sat")
    np.testing.assert_array_equal(vocab.counts, [4, 2, 2])
    assert encoded.raw_tokens == 12
    sentences = [[vocab.words[i] for i in encoded.sentence(s)] for s in range(encoded.n_sentences)]
    assert sentences == [["the", "cat", "sat"], ["the", "sat", "the"], ["the", "cat"]]
    assert encoded.ids.dtype == np.int32


def test_max_vocab_keeps_the_most_frequent(tmp_path):
    path = tmp_path / "c.txt"
    path.write_text("a a a a b b b c c d\n")
    vocab, encoded = load_corpus(path, min_count=1, max_vocab=2)
    assert vocab.words == ("a", "b")
    assert encoded.ids.tolist() == [0, 0, 0, 0, 1, 1, 1]


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError) as error:
        load_corpus(tmp_path / "nope.txt")
    assert str(error.value) == f"{tmp_path / 'nope.txt'}: no such corpus file"


def test_empty_file(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("")
    with pytest.raises(ScenarioError) as error:
        load_corpus(path)
    assert str(error.value) == f"{path}: the corpus file is empty"


def test_file_without_words(tmp_path):
    path = tmp_path / "blank.txt"
    path.write_text("  \n ... !!! \n")
    with pytest.raises(ScenarioError) as error:
        load_corpus(path)
    assert str(error.value) == f"{path}: the corpus contains no words"


def test_binary_file(tmp_path):
    path = tmp_path / "data.bin"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(ScenarioError) as error:
        load_corpus(path)
    assert str(error.value) == f"{path}: looks like a binary file, expected plain UTF-8 text"


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("caf\xe9 au lait ".encode("latin-1") * 10)
    with pytest.raises(ScenarioError, match=r"latin1.txt: not UTF-8 text"):
        load_corpus(path)


def test_vocabulary_empty_after_min_count(tmp_path):
    path = tmp_path / "rare.txt"
    path.write_text("every word here is different\n")
    with pytest.raises(ScenarioError) as error:
        load_corpus(path, min_count=5)
    assert str(error.value) == (
        f"{path}: the vocabulary is empty: none of the 5 distinct words occurs at least "
        "min_count = 5 times"
    )
