"""Word vectors in gensim's word2vec formats: text and binary, both ways, and
w2v-sentiment on pre-trained vectors."""

import struct

import numpy as np
import pytest

from tui_lab.embeddings import KeyedVectors
from tui_lab.registry import build_lab, resolve
from tui_lab.scenario import ScenarioError

# Three words, two dimensions, written by hand: the binary layout is the header line, then
# per word its UTF-8 bytes, a space and two little-endian float32s.
WORDS = ("king", "queen", "café")
VALUES = np.array([[1.0, -0.5], [0.25, 3.0e-7], [-2.0, 1.0e6]], dtype=np.float32)


def hand_written_binary(newline_after_vector: bool) -> bytes:
    tail = b"\n" if newline_after_vector else b""  # the C tool writes one, gensim does not
    return b"3 2\n" + b"".join(
        word.encode("utf-8") + b" " + struct.pack("<2f", *row) + tail
        for word, row in zip(WORDS, VALUES.tolist(), strict=True)
    )


@pytest.mark.parametrize("newline", [False, True])
def test_a_hand_written_binary_file_parses_to_its_values(tmp_path, newline):
    path = tmp_path / "three.bin"
    path.write_bytes(hand_written_binary(newline))
    for binary in (True, None):  # told, and found out from the file
        loaded = KeyedVectors.load_word2vec_format(path, binary=binary)
        assert loaded.words == WORDS
        np.testing.assert_array_equal(loaded.vectors, VALUES)


def test_we_write_the_hand_written_binary_bytes(tmp_path):
    KeyedVectors(WORDS, VALUES).save_word2vec_format(tmp_path / "v.bin", binary=True)
    assert (tmp_path / "v.bin").read_bytes() == hand_written_binary(newline_after_vector=False)


def test_a_hand_written_text_file_parses(tmp_path):
    path = tmp_path / "three.txt"
    # the C tool's trailing space on each line must not count as a value
    path.write_text("3 2\nking 1 -0.5 \nqueen 0.25 3e-07 \ncafé -2 1e+06 \n", encoding="utf-8")
    loaded = KeyedVectors.load_word2vec_format(path)
    assert loaded.words == WORDS
    np.testing.assert_array_equal(loaded.vectors, VALUES)


def test_binary_round_trip_is_bit_exact(tmp_path):
    rng = np.random.default_rng(3)
    vectors = rng.normal(size=(50, 7)).astype(np.float32) * np.float32(1e-3)
    vectors[0] = [0.0, -0.0, 1e-40, np.float32(np.pi), 3.4e38, -1e-30, 1 / 3]
    kv = KeyedVectors([f"w{i}" for i in range(50)], vectors)
    kv.save_word2vec_format(tmp_path / "v.bin", binary=True)
    back = KeyedVectors.load_word2vec_format(tmp_path / "v.bin")
    assert back.words == kv.words
    assert back.vectors.tobytes() == vectors.tobytes()


def test_text_round_trip_keeps_the_printed_precision(tmp_path):
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(20, 5)).astype(np.float32)
    KeyedVectors([f"w{i}" for i in range(20)], vectors).save_word2vec_format(tmp_path / "v.txt")
    back = KeyedVectors.load_word2vec_format(tmp_path / "v.txt")
    printed = np.array([[float(f"{v:.6g}") for v in row] for row in vectors], dtype=np.float32)
    np.testing.assert_array_equal(back.vectors, printed)
    assert not np.array_equal(back.vectors, vectors)  # 6 digits are not float32's 9


def test_truncated_binary_names_the_word(tmp_path):
    path = tmp_path / "cut.bin"
    path.write_bytes(hand_written_binary(False)[:-3])
    with pytest.raises(ValueError, match=r"cut.bin: word 3 of 3 \('café'\): the file ends inside"):
        KeyedVectors.load_word2vec_format(path, binary=True)


def test_gensim_reads_ours_and_we_read_gensims(tmp_path):
    gensim_models = pytest.importorskip("gensim.models")
    ours = KeyedVectors(WORDS, VALUES)
    theirs = gensim_models.KeyedVectors(2)
    theirs.add_vectors(list(WORDS), VALUES)
    for binary in (False, True):
        ours.save_word2vec_format(tmp_path / "ours", binary=binary)
        read = gensim_models.KeyedVectors.load_word2vec_format(tmp_path / "ours", binary=binary)
        assert tuple(read.index_to_key) == WORDS
        np.testing.assert_allclose(read.vectors, VALUES, rtol=1e-6)
        theirs.save_word2vec_format(str(tmp_path / "theirs"), binary=binary)
        back = KeyedVectors.load_word2vec_format(tmp_path / "theirs")
        assert back.words == WORDS
        np.testing.assert_allclose(back.vectors, VALUES, rtol=1e-6)


SMALL = ["data.train_sentences=64", "data.test_sentences=32", "data.unlabelled_sentences=400",
         "train.epochs=1"]  # fmt: skip


def test_w2v_sentiment_takes_pretrained_vectors(tmp_path):
    scenario = resolve("w2v-sentiment").with_overrides(SMALL)
    words = build_lab(scenario).vocab.words
    vectors = np.random.default_rng(0).normal(size=(len(words) + 1, 6)).astype(np.float32)
    # the file has an extra word and another order than the lab's vocabulary
    file_words = ["zzz", *reversed(words)]
    KeyedVectors(file_words, vectors).save_word2vec_format(tmp_path / "v.bin", binary=True)
    lab = build_lab(scenario.with_overrides([f"data.vectors={tmp_path / 'v.bin'}"]))
    expected = np.stack([vectors[file_words.index(word)] for word in words])
    np.testing.assert_array_equal(lab.word_vectors, expected)
    assert lab.total_train_steps() == lab.batches_per_epoch()  # no Word2Vec phase
    lab.train(1)
    np.testing.assert_array_equal(lab.word_vectors, expected)  # frozen stays
    ids = lab.encode(lab.test_set[:3])
    x = lab.inputs("frozen", ids)
    np.testing.assert_array_equal(x[ids >= 0], expected[ids[ids >= 0]])

    KeyedVectors(file_words[2:], vectors[2:]).save_word2vec_format(tmp_path / "few.txt")
    with pytest.raises(
        ScenarioError,
        match=rf"data.vectors: .*few.txt: lacks 1 of the task's {len(words)} words, e.g. \['{words[-1]}'\]",
    ):
        build_lab(scenario.with_overrides([f"data.vectors={tmp_path / 'few.txt'}"]))
