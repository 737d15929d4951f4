"""Supervised sequence tasks for the four RNN types, bidirectional and long-range nets.

Every task makes a batch from a numpy Generator, so the data of training update k is
`task.batch(np.random.default_rng([seed, k]), size)`: a pure function of (seed, k).

A batch is codes [T, B] (the input symbols, for display), x [T, B, I] (float32, what the
net reads) and targets: [B] when the task scores only the last step (mode "last"), or
[T, B] with one target per step (mode "all"; -1 marks a step with nothing to score).

Tasks (T = `length` unless said otherwise):
- xor:            one-to-one, T = 1. x is `width` random bits; the class is their parity
                  (XOR). A recurrent net with one step never uses weight_hh: it is a
                  feed-forward net with one hidden layer.
- spell:          one-to-many. A digit 0-9 enters at t = 0 (zeros afterwards); the net spells
                  it ("seven.") one letter per step, "." padding to T = 6.
- parity:         many-to-one. Random bits; the class is the parity of the whole sequence.
- sum_sign:       many-to-one. Random +1/-1 steps; the class is the sign of their sum (a tie,
                  possible when T is even, counts as "-").
- running_parity: many-to-many aligned tagging. Tag t is the parity of bits 0..t.
- next_symbol:    tagging that needs the future. Tag t is the symbol at t + 1 (the last step
                  is not scored). A unidirectional net cannot know it: chance is 1/symbols.
- first_symbol:   the long-range task. Step 0 is one of `classes` cue symbols, then T - 1
                  random symbols drawn from the cues and `symbols` extra distractors (0: the
                  cues only, so later steps look like cues); the answer at the end is step 0.

Encoder-decoder tasks (`seq2seq_batch`): reverse or sort a string of letters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SPELLING = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
SPELL_LETTERS = tuple(sorted(set("".join(SPELLING)))) + (".",)
SPELL_LENGTH = 6


@dataclass(frozen=True)
class Batch:
    """codes [T, B] input symbols (-1: no input at that step), x [T, B, I] float32,
    targets [B] (mode "last") or [T, B] (mode "all", -1 = not scored)."""

    codes: np.ndarray
    x: np.ndarray
    targets: np.ndarray


@dataclass(frozen=True)
class SequenceTask:
    """A task's shape and labels; `batch(rng, size)` draws a Batch."""

    name: str
    length: int
    input_size: int
    input_labels: tuple[str, ...]  # one per input symbol (per bit for xor)
    class_labels: tuple[str, ...]
    mode: str  # "last" or "all"
    classes: int = 2  # first_symbol: how many cue symbols
    symbols: int = 4  # next_symbol / first_symbol distractors: alphabet size
    width: int = 2  # xor: bits per input

    @property
    def n_classes(self) -> int:
        return len(self.class_labels)

    @property
    def chance(self) -> float:
        """Accuracy of the best guess that ignores the input."""
        if self.name == "spell":
            return _spell_chance()
        return 1.0 / self.n_classes

    def batch(self, rng: np.random.Generator, size: int) -> Batch:
        """`size` random sequences."""
        draw, encode = _MAKERS[self.name]
        return encode(self, np.asarray(draw(self, rng, size), np.int64))

    def encode(self, codes: np.ndarray) -> Batch:
        """Given input symbols codes [T, B] -> the Batch (inputs and the right answers)."""
        return _MAKERS[self.name][1](self, np.asarray(codes, np.int64))

    def parse(self, text: str) -> np.ndarray:
        """A typed input -> codes [T, 1]: one character per step ("ABcd", "0110"); xor takes
        the bits ("101"), spell one digit ("7"). Raises ValueError naming what is wrong."""
        text = text.strip()
        if self.name == "xor":
            if len(text) != self.width or set(text) - {"0", "1"}:
                raise ValueError(f"xor takes {self.width} bits like {'1' * self.width!r}")
            return np.array([[int(text, 2)]])
        if self.name == "spell":
            if len(text) != 1 or not text.isdigit():
                raise ValueError("spell takes one digit 0-9")
            codes = np.full((SPELL_LENGTH, 1), -1, np.int64)
            codes[0, 0] = int(text)
            return codes
        index = {label: i for i, label in enumerate(self.input_labels)}
        labels = {"sum_sign": {"-": 0, "+": 1}}.get(self.name, index)
        unknown = sorted(set(text) - set(labels))
        if not text or unknown:
            shown = ", ".join(labels)
            raise ValueError(f"{self.name} reads one symbol per step from: {shown}; got {text!r}")
        codes = np.array([[labels[char]] for char in text], np.int64)
        if self.name == "first_symbol" and codes[0, 0] >= self.classes:
            raise ValueError(f"first_symbol starts with a cue: one of {self.class_labels}")
        return codes

    def token(self, code: int) -> str:
        """Display string of one input symbol."""
        if code < 0:
            return "·"
        if self.name == "xor":
            return format(int(code), f"0{self.width}b")
        return self.input_labels[code]


def _one_hot(codes: np.ndarray, size: int) -> np.ndarray:
    """codes [T, B] (-1 = zeros) -> [T, B, size] float32."""
    x = np.zeros(codes.shape + (size,), np.float32)
    t, b = np.nonzero(codes >= 0)
    x[t, b, codes[t, b]] = 1.0
    return x


def _xor_codes(task, rng, size):
    return rng.integers(0, 1 << task.width, (1, size))


def _xor(task, codes):
    # code -> its bits, most significant first (code 5 with width 3 is "101")
    bits = (codes[..., None] >> np.arange(task.width)[::-1]) & 1
    return Batch(codes, bits.astype(np.float32), bits[0].sum(axis=1) % 2)


def _spell_codes(task, rng, size):
    codes = np.full((SPELL_LENGTH, size), -1, np.int64)
    codes[0] = rng.integers(0, 10, size)
    return codes


def _spell(task, codes):
    index = {letter: i for i, letter in enumerate(SPELL_LETTERS)}
    targets = np.empty(codes.shape, np.int64)
    for b, digit in enumerate(codes[0]):
        word = SPELLING[digit].ljust(SPELL_LENGTH, ".")
        targets[:, b] = [index[letter] for letter in word]
    return Batch(codes, _one_hot(codes, 10), targets)


def _bit_codes(task, rng, size):
    return rng.integers(0, 2, (task.length, size))


def _parity(task, codes):
    return Batch(codes, _one_hot(codes, 2), codes.sum(axis=0) % 2)


def _sum_sign(task, codes):
    total = (2 * codes - 1).sum(axis=0)  # code 0 is -1, code 1 is +1
    return Batch(codes, _one_hot(codes, 2), (total > 0).astype(np.int64))


def _running_parity(task, codes):
    return Batch(codes, _one_hot(codes, 2), np.cumsum(codes, axis=0) % 2)


def _next_symbol_codes(task, rng, size):
    return rng.integers(0, task.symbols, (task.length, size))


def _next_symbol(task, codes):
    targets = np.full_like(codes, -1)
    targets[:-1] = codes[1:]
    return Batch(codes, _one_hot(codes, task.symbols), targets)


def _first_symbol_codes(task, rng, size):
    # after the cue, any symbol (cues included: the net must latch the first one and
    # ignore the same symbols later)
    codes = rng.integers(0, task.classes + task.symbols, (task.length, size))
    codes[0] = rng.integers(0, task.classes, size)
    return codes


def _first_symbol(task, codes):
    return Batch(codes, _one_hot(codes, task.input_size), codes[0])


# name -> (draw codes [T, B] from an rng, codes -> Batch)
_MAKERS = {
    "xor": (_xor_codes, _xor),
    "spell": (_spell_codes, _spell),
    "parity": (_bit_codes, _parity),
    "sum_sign": (_bit_codes, _sum_sign),
    "running_parity": (_bit_codes, _running_parity),
    "next_symbol": (_next_symbol_codes, _next_symbol),
    "first_symbol": (_first_symbol_codes, _first_symbol),
}
TASK_NAMES = tuple(_MAKERS)
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _spell_chance() -> float:
    """Per-step accuracy of always answering the most common letter at each step."""
    words = [word.ljust(SPELL_LENGTH, ".") for word in SPELLING]
    best = [max(column.count(c) for c in set(column)) for column in zip(*words, strict=True)]
    return sum(best) / (10 * SPELL_LENGTH)


def make_task(
    name: str, length: int = 10, classes: int = 2, symbols: int = 4, width: int = 2
) -> SequenceTask:
    """A task by name; `length` is ignored by xor (T = 1) and spell (T = 6)."""
    if name not in _MAKERS:
        raise ValueError(f"unknown task {name!r}; known: {', '.join(TASK_NAMES)}")
    bits = ("0", "1")
    if name == "xor":
        labels = tuple(f"bit{i}" for i in range(width))
        return SequenceTask(name, 1, width, labels, ("even", "odd"), "last", width=width)
    if name == "spell":
        return SequenceTask(
            name, SPELL_LENGTH, 10, tuple(str(d) for d in range(10)), SPELL_LETTERS, "all"
        )
    if name == "parity":
        return SequenceTask(name, length, 2, bits, ("even", "odd"), "last")
    if name == "sum_sign":
        return SequenceTask(name, length, 2, ("-1", "+1"), ("-", "+"), "last")
    if name == "running_parity":
        return SequenceTask(name, length, 2, bits, ("even", "odd"), "all")
    if name == "next_symbol":
        labels = tuple(LETTERS[:symbols])
        return SequenceTask(name, length, symbols, labels, labels, "all", symbols=symbols)
    cues = tuple(LETTERS[:classes].upper())
    distractors = tuple(LETTERS[:symbols])
    return SequenceTask(
        name,
        length,
        classes + symbols,
        cues + distractors,
        cues,
        "last",
        classes=classes,
        symbols=symbols,
    )


# ---- encoder-decoder tasks (unequal lengths: the answer is read out after the input) ----
SEQ2SEQ_TASKS = ("reverse", "sort")


def seq2seq_batch(task: str, rng: np.random.Generator, size: int, length: int, vocab: int):
    """(source [S, B], targets [S, B]) codes in 0..vocab-1: the target is the source reversed
    ("reverse") or sorted ascending ("sort")."""
    source = rng.integers(0, vocab, (length, size))
    return source, seq2seq_targets(task, source)


def seq2seq_targets(task: str, source: np.ndarray) -> np.ndarray:
    if task == "reverse":
        return source[::-1].copy()
    if task == "sort":
        return np.sort(source, axis=0)
    raise ValueError(f"unknown encoder-decoder task {task!r}; known: {', '.join(SEQ2SEQ_TASKS)}")
