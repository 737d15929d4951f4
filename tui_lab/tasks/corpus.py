"""Plain-text corpora for Word2Vec: a vocabulary and an integer encoding.

Any UTF-8 text file works: one sentence per line, or one huge line (text8 style). Lines longer
than `max_sentence` tokens are cut into pieces of at most that many tokens (10,000 by
default, as gensim).

Tokens: the text lowercased (optional), then runs of word characters, with inner apostrophes
and hyphens kept ("don't", "well-known"). Words rarer than min_count are dropped before the
window is applied (as gensim); the vocabulary is sorted by count, most frequent first, equal
counts in the order the words first occur.

Two readers give the same result:
- iter_file_sentences + corpus_from_sentences: token lists, line by line (the reference);
- load_corpus (the fast one): the file read once, in blocks of READ_BYTES cut after a line
  end (inside a longer line: after a space or tab). Compiled code (kernels.word2vec.scan)
  tokenises the ASCII runs, gives every distinct token a first-seen id and cuts the
  sentences; runs holding non-ASCII bytes are lowercased and tokenised by the reference's
  own str.lower and regular expression. It keeps 4 bytes per token plus the distinct words.
  The one difference: a run of more than READ_BYTES bytes without a space or line end is cut
  into pieces (at character boundaries), where the reference cuts at BLOCK_CHARS characters.
  A 100 MB file (15 M tokens, 770 k distinct words, 1% of them non-ASCII) took 3.4-3.8 s
  against the reference's 13.6 s (3.5 s and 13.1 s of CPU; 0.5-0.6 GB of memory at most
  against 0.32 GB).
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np

from kernels.word2vec import scan
from tui_lab.scenario import ScenarioError

BLOCK_CHARS = 1 << 20
READ_BYTES = 1 << 22  # load_corpus's block
MAX_SENTENCE = 10_000
_TOKEN = re.compile(r"\w+(?:['’-]\w+)*")
_TOKEN_OR_LINE_END = re.compile(r"\w+(?:['’-]\w+)*|\n")
_LINE_END = -1  # the provisional id of "\n" in load_corpus's token stream


def tokenize(line: str, lowercase: bool = True) -> list[str]:
    return _TOKEN.findall(line.lower() if lowercase else line)


@dataclass(frozen=True)
class Vocabulary:
    """words [V] most frequent first, counts [V], index word -> id."""

    words: tuple[str, ...]
    counts: np.ndarray
    index: dict[str, int]

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: str) -> bool:
        return word in self.index

    @classmethod
    def from_counter(cls, counter: Counter, min_count: int, max_vocab: int = 0) -> Vocabulary:
        # sorted() is stable, so equal counts keep first-seen order: reproducible ids.
        kept = sorted(
            ((word, count) for word, count in counter.items() if count >= min_count),
            key=lambda item: -item[1],
        )
        if max_vocab > 0:
            kept = kept[:max_vocab]
        words = tuple(word for word, _ in kept)
        counts = np.asarray([count for _, count in kept], dtype=np.int64)
        return cls(words, counts, {word: i for i, word in enumerate(words)})


@dataclass(frozen=True)
class EncodedCorpus:
    """ids [N] int32 (in-vocabulary tokens only); sent_starts [S + 1] int64 offsets;
    raw_tokens: tokens in the text before dropping rare words."""

    ids: np.ndarray
    sent_starts: np.ndarray
    raw_tokens: int

    @property
    def n_sentences(self) -> int:
        return self.sent_starts.shape[0] - 1

    def sentence(self, s: int) -> np.ndarray:
        return self.ids[self.sent_starts[s] : self.sent_starts[s + 1]]


def check_text_file(path: Path) -> None:
    if not path.exists():
        raise ScenarioError(f"{path}: no such corpus file")
    if path.is_dir():
        raise ScenarioError(f"{path}: is a directory, expected a plain-text corpus file")
    try:
        with path.open("rb") as handle:
            head = handle.read(65536)
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the corpus: {error.strerror}") from None
    if not head:
        raise ScenarioError(f"{path}: the corpus file is empty")
    if b"\x00" in head:
        raise ScenarioError(f"{path}: looks like a binary file, expected plain UTF-8 text")


def iter_file_sentences(
    path: str | Path, lowercase: bool = True, max_sentence: int = MAX_SENTENCE
) -> Iterator[list[str]]:
    """Token lists of a text file: one per line, lines cut into <= max_sentence tokens.
    Streams in 1 MB blocks, also through a single line of any length."""
    path = Path(path)
    check_text_file(path)
    pending: list[str] = []
    carry = ""
    try:
        with path.open("r", encoding="utf-8", newline=None) as handle:
            while True:
                block = handle.read(BLOCK_CHARS)
                if not block:
                    break
                lines = (carry + block).split("\n")
                carry = lines.pop()
                for line in lines:
                    pending.extend(tokenize(line, lowercase))
                    yield from _pieces(pending, max_sentence, final=True)
                    pending = []
                # Tokenise the unfinished line up to its last whitespace: a huge line streams.
                cut = max(carry.rfind(" "), carry.rfind("\t"))
                if cut >= 0 or len(carry) > BLOCK_CHARS:
                    cut = cut if cut >= 0 else len(carry)
                    pending.extend(tokenize(carry[:cut], lowercase))
                    carry = carry[cut:]
                    pending = yield from _pieces(pending, max_sentence, final=False)
    except UnicodeDecodeError as error:
        raise ScenarioError(
            f"{path}: not UTF-8 text (byte {error.start} of a block cannot be decoded)"
        ) from None
    pending.extend(tokenize(carry, lowercase))
    yield from _pieces(pending, max_sentence, final=True)


def _pieces(tokens: list[str], size: int, final: bool):
    """Yield full pieces of `size` tokens; the rest too if final, else return it."""
    start = 0
    while len(tokens) - start >= size:
        yield tokens[start : start + size]
        start += size
    rest = tokens[start:]
    if final:
        if rest:
            yield rest
        return []
    return rest


def _count(sentences: Iterable[list[str]]) -> tuple[Counter, int]:
    counter: Counter = Counter()
    total = 0
    for sentence in sentences:
        counter.update(sentence)
        total += len(sentence)
    return counter, total


def _encode(sentences: Iterable[list[str]], vocab: Vocabulary) -> EncodedCorpus:
    ids = array("i")
    starts = array("q", [0])
    raw = 0
    index = vocab.index
    for sentence in sentences:
        raw += len(sentence)
        encoded = [index[word] for word in sentence if word in index]
        if encoded:
            ids.extend(encoded)
            starts.append(len(ids))
    return EncodedCorpus(
        np.frombuffer(ids, dtype=np.int32).copy(), np.frombuffer(starts, dtype=np.int64).copy(), raw
    )


def _vocabulary(counter: Counter, total: int, min_count: int, max_vocab: int, where: str):
    if total == 0:
        raise ScenarioError(f"{where}: the corpus contains no words")
    vocab = Vocabulary.from_counter(counter, min_count, max_vocab)
    if len(vocab) == 0:
        raise ScenarioError(
            f"{where}: the vocabulary is empty: none of the {len(counter)} distinct words "
            f"occurs at least min_count = {min_count} times"
        )
    return vocab


def load_corpus(
    path: str | Path,
    min_count: int = 5,
    max_vocab: int = 0,
    lowercase: bool = True,
    max_sentence: int = MAX_SENTENCE,
) -> tuple[Vocabulary, EncodedCorpus]:
    """A text file -> (vocabulary, encoded corpus), equal to corpus_from_sentences over
    iter_file_sentences (see the module docstring) in one fast pass.
    Raises ScenarioError naming the file when it is missing, empty, binary, not UTF-8, or
    when no word survives min_count."""
    path = Path(path)
    first_seen, stream = _scan(path, lowercase)
    counts = np.bincount(stream[stream != _LINE_END], minlength=len(first_seen))
    if counts.sum() == 0:
        raise ScenarioError(f"{path}: the corpus contains no words")
    # Most frequent first; the stable sort keeps equal counts in first-seen order, as
    # Vocabulary.from_counter does over a Counter filled in reading order.
    order = np.argsort(-counts, kind="stable")
    order = order[counts[order] >= min_count]
    if max_vocab > 0:
        order = order[:max_vocab]
    if order.size == 0:
        raise ScenarioError(
            f"{path}: the vocabulary is empty: none of the {len(first_seen)} distinct words "
            f"occurs at least min_count = {min_count} times"
        )
    words = tuple(first_seen[i] for i in order.tolist())
    vocab = Vocabulary(words, counts[order].astype(np.int64), {w: i for i, w in enumerate(words)})
    lookup = np.full(len(first_seen), -1, dtype=np.int32)  # provisional -> vocabulary id
    lookup[order] = np.arange(order.size, dtype=np.int32)
    return vocab, _encode_stream(stream, lookup, max_sentence)


def _scan(path: Path, lowercase: bool) -> tuple[list[str], np.ndarray]:
    """The file's tokens as provisional ids: (distinct words in first-seen order, stream [n]
    int32 with _LINE_END after every line), through kernels.word2vec.scan."""
    check_text_file(path)
    table = scan.new_table()
    pieces = []
    for block, offset in _byte_blocks(path):
        buf = np.frombuffer(block, np.uint8)
        kinds = np.empty(buf.size + 1, np.int8)
        starts = np.empty(buf.size + 1, np.int32)
        ends = np.empty(buf.size + 1, np.int32)
        count = scan.split_runs(buf, kinds, starts, ends)
        runs = np.flatnonzero(kinds[:count] == scan.OTHER)
        other = _other_tokens(block, starts[runs], ends[runs], lowercase, path, offset)
        other = np.frombuffer(other, np.uint8)
        out = np.empty(buf.size + 1 + other.size, np.int32)
        state = np.zeros(3, np.int64)  # entry, cursor in other, ids written
        while not scan.intern_entries(
            buf, kinds, starts, ends, count, other, lowercase, _LINE_END, out, state, *table
        ):
            table = scan.grow_table(table, buf.size + other.size)
        pieces.append(out[: state[2]].copy())
    _, _, offsets, store, sizes = table
    raw = store[: sizes[1]].tobytes()
    bounds = offsets[: sizes[0] + 1].tolist()
    text = raw.decode("utf-8")
    if len(text) == len(raw):  # all ASCII (the usual case): slice characters directly
        first_seen = [text[a:b] for a, b in pairwise(bounds)]
    else:
        first_seen = [raw[a:b].decode("utf-8") for a, b in pairwise(bounds)]
    return first_seen, np.concatenate(pieces) if pieces else np.zeros(0, np.int32)


def _other_tokens(block: bytes, starts, ends, lowercase: bool, path: Path, offset: int) -> bytes:
    """The tokens of the runs block[starts[i]:ends[i]] that hold non-ASCII bytes, by the
    reference rule (str.lower, then _TOKEN), as kernels.word2vec.scan.intern_entries reads
    them: UTF-8, separated by spaces, each run's list ended by a "\n" item."""
    if len(starts) == 0:
        return b""
    runs = [block[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    try:
        text = "\n".join(run.decode("utf-8") for run in runs) + "\n"
    except UnicodeDecodeError:
        for start, run in zip(starts.tolist(), runs, strict=True):
            try:
                run.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ScenarioError(
                    f"{path}: not UTF-8 text (byte {offset + start + error.start} cannot be "
                    "decoded)"
                ) from None
        raise
    # Runs end at ASCII spaces or line ends, so lowercasing them joined is lowercasing each.
    return " ".join(_TOKEN_OR_LINE_END.findall(text.lower() if lowercase else text)).encode()


def _byte_blocks(path: Path) -> Iterator[tuple[bytes, int]]:
    """(block, its offset in the file): about READ_BYTES each, cut after the last line end,
    else (inside a longer line) after the last space or tab, else (no space in READ_BYTES)
    at a character boundary."""
    carry = b""
    offset = 0
    with path.open("rb") as handle:
        while True:
            block = handle.read(READ_BYTES)
            data = carry + block
            if not block:
                break
            cut = max(data.rfind(b"\n"), data.rfind(b"\r")) + 1
            if cut == 0:
                cut = max(data.rfind(b" "), data.rfind(b"\t")) + 1
            if cut == 0 and len(data) > READ_BYTES:
                cut = len(data)
                while cut > 0 and 0x80 <= data[cut - 1] < 0xC0:  # not inside a character
                    cut -= 1
                cut = cut - 1 if cut > 0 and data[cut - 1] >= 0xC0 else cut
            carry = data[cut:]
            if cut:
                yield data[:cut], offset
                offset += cut
    if data:
        yield data, offset


def _encode_stream(stream: np.ndarray, lookup: np.ndarray, max_sentence: int) -> EncodedCorpus:
    """stream [n] provisional ids with _LINE_END marks -> EncodedCorpus (as _encode: lines cut
    into pieces of max_sentence tokens counted before dropping words, empty pieces left out)."""
    line_ends = int(np.count_nonzero(stream == _LINE_END))
    raw = stream.size - line_ends
    ids = np.empty(raw, np.int32)
    sent_starts = np.empty(line_ends + raw // max_sentence + 3, np.int64)  # at most this many
    n_ids, n_sents = scan.encode_lines(stream, _LINE_END, lookup, max_sentence, ids, sent_starts)
    return EncodedCorpus(ids[:n_ids].copy(), sent_starts[: n_sents + 1].copy(), raw)


def corpus_from_sentences(
    sentences: list[list[str]], min_count: int = 1, max_vocab: int = 0, where: str = "<corpus>"
) -> tuple[Vocabulary, EncodedCorpus]:
    """In-memory token lists (e.g. the grammar corpus) -> (vocabulary, encoded corpus)."""
    counter, total = _count(sentences)
    vocab = _vocabulary(counter, total, min_count, max_vocab, where)
    return vocab, _encode(sentences, vocab)
