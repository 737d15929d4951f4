"""Plain-text corpora for Word2Vec: a streamed vocabulary and an integer encoding.

Any UTF-8 text file works: one sentence per line, or one huge line (text8 style). The file is
read twice in blocks of 1 MB, never whole: the first pass counts words, the second encodes
them as int32 ids into one array. Lines longer than `max_sentence` tokens are cut into pieces
of at most that many tokens (10,000 by default, as gensim), so a 100 MB single-line corpus
needs about 4 bytes per token plus the vocabulary.

Tokens: the text lowercased (optional), then runs of word characters, with inner apostrophes
and hyphens kept ("don't", "well-known"). Words rarer than min_count are dropped before the
window is applied (as gensim); the vocabulary is sorted by count, most frequent first.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tui_lab.scenario import ScenarioError

BLOCK_CHARS = 1 << 20
MAX_SENTENCE = 10_000
_TOKEN = re.compile(r"\w+(?:['’-]\w+)*")


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
    """A text file -> (vocabulary, encoded corpus), in two streamed passes.
    Raises ScenarioError naming the file when it is missing, empty, binary, not UTF-8, or
    when no word survives min_count."""
    counter, total = _count(iter_file_sentences(path, lowercase, max_sentence))
    vocab = _vocabulary(counter, total, min_count, max_vocab, str(path))
    del counter
    return vocab, _encode(iter_file_sentences(path, lowercase, max_sentence), vocab)


def corpus_from_sentences(
    sentences: list[list[str]], min_count: int = 1, max_vocab: int = 0, where: str = "<corpus>"
) -> tuple[Vocabulary, EncodedCorpus]:
    """In-memory token lists (e.g. the grammar corpus) -> (vocabulary, encoded corpus)."""
    counter, total = _count(sentences)
    vocab = _vocabulary(counter, total, min_count, max_vocab, where)
    return vocab, _encode(sentences, vocab)
