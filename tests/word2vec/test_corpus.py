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


# ---- load_corpus (the compiled reader) equals the line-by-line reference -----------------

TRICKY = (
    "Don't STOP: well-known, (x)! It’s 4:30 -- 3.14159 and 1,000,000 × 2\n"
    "Café CAFÉ café — naïve façade; Straße STRASSE ΟΔΥΣΣΕΥΣ Σ ΣΑΣ.Β ΑΣ'Β\r\n"
    "İstanbul ǅemal ﬁne ß\u00a0nbsp\u2028line\u0085nel e\u0301 日本語 テキスト x_y __ _\r"
    "tabs\tand\x0cform\x0bfeeds\x1cfile-sep   many    spaces\n"
    "\n\n"
    "rock'n'roll o'clock 'quoted' -dash- a--b a'-b don''t ’tis’ x-\n"
    "MiXeD CaSe Don't don't DON'T mixed case\n"
    "no line end at the end"
)


def reference(path, min_count=1, max_vocab=0, lowercase=True, max_sentence=10_000):
    sentences = list(iter_file_sentences(path, lowercase, max_sentence))
    return corpus_module.corpus_from_sentences(sentences, min_count, max_vocab)


def assert_same(got, want):
    (vocab, encoded), (want_vocab, want_encoded) = got, want
    assert vocab.words == want_vocab.words  # same tokens, same order (ties: first seen)
    np.testing.assert_array_equal(vocab.counts, want_vocab.counts)
    np.testing.assert_array_equal(encoded.ids, want_encoded.ids)
    np.testing.assert_array_equal(encoded.sent_starts, want_encoded.sent_starts)
    assert encoded.raw_tokens == want_encoded.raw_tokens
    assert encoded.ids.dtype == np.int32 and encoded.sent_starts.dtype == np.int64


@pytest.mark.parametrize("read_bytes", [24, 64, 1 << 22], ids=["24 B", "64 B", "4 MB"])
@pytest.mark.parametrize("lowercase", [True, False], ids=["lower", "cased"])
def test_reader_equals_tokenizer_on_tricky_text(tmp_path, monkeypatch, read_bytes, lowercase):
    """Punctuation, digits, Unicode letters and spaces, final sigma, ’ and ', CRLF and CR
    line ends, blank lines, control characters; blocks read across lines and characters
    (24 bytes: longer than the longest run without a space, 20 bytes)."""
    monkeypatch.setattr(corpus_module, "READ_BYTES", read_bytes)
    path = tmp_path / "tricky.txt"
    path.write_bytes((TRICKY * 3).encode("utf-8"))
    runs = (TRICKY * 3).encode("utf-8").replace(b"\r", b" ").replace(b"\n", b" ").split()
    assert max(len(run) for run in runs) == 20
    got = load_corpus(path, min_count=1, lowercase=lowercase)
    assert_same(got, reference(path, lowercase=lowercase))
    words = set(got[0].words)
    if lowercase:  # the reference's own rules, seen through the fast reader
        assert {"don't", "it’s", "well-known", "οδυσσευς", "straße", "日本語"} <= words
        assert "ς" in "".join(words) and "rock'n'roll" in words and "3" in words


def test_reader_equals_tokenizer_with_min_count_max_vocab_and_cut_lines(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_module, "READ_BYTES", 50)
    rng = np.random.default_rng(2)
    vocabulary = ["the", "The", "cat", "Ωmega", "naïve", "it’s", "well-known", "x1", "ΣΑΣ"]
    lines = []
    for _ in range(60):
        words = rng.choice(vocabulary, size=rng.integers(0, 40))
        lines.append(" ".join(words) + rng.choice(["", ".", " !", "—"]))
    path = tmp_path / "lines.txt"
    path.write_text("\n".join(lines), encoding="utf-8")
    for min_count, max_vocab, max_sentence in ((1, 0, 10_000), (3, 4, 7), (20, 0, 1)):
        assert_same(
            load_corpus(path, min_count, max_vocab, max_sentence=max_sentence),
            reference(path, min_count, max_vocab, max_sentence=max_sentence),
        )


def test_reader_equals_tokenizer_on_one_huge_line(tmp_path, monkeypatch):
    monkeypatch.setattr(corpus_module, "READ_BYTES", 100)  # cut at spaces, inside the line
    rng = np.random.default_rng(0)
    words = [f"w{int(i)}" for i in rng.integers(0, 50, size=3000)]
    path = tmp_path / "text8.txt"
    path.write_text(" ".join(words))
    got = load_corpus(path, min_count=1, max_sentence=1000)
    assert_same(got, reference(path, max_sentence=1000))
    assert np.diff(got[1].sent_starts).tolist() == [1000, 1000, 1000]


def test_reader_cuts_a_run_without_spaces_longer_than_two_blocks(tmp_path, monkeypatch):
    """The one place the readers differ: a run of characters with no space or line end
    longer than READ_BYTES is cut at a character boundary (the reference cuts at BLOCK_CHARS
    characters); no character is lost or split."""
    monkeypatch.setattr(corpus_module, "READ_BYTES", 16)
    path = tmp_path / "run.txt"
    path.write_text("é" * 40 + " end", encoding="utf-8")
    vocab, encoded = load_corpus(path, min_count=1)
    pieces = [vocab.words[i] for i in encoded.ids]
    assert "".join(pieces) == "é" * 40 + "end" and len(pieces) > 2


def test_reader_names_the_byte_that_is_not_utf8(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes(b"fine words here\nand caf\xe9 there\n")
    with pytest.raises(ScenarioError) as error:
        load_corpus(path)
    assert str(error.value) == f"{path}: not UTF-8 text (byte 23 cannot be decoded)"
