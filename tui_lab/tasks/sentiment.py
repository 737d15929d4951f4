"""Labelled sentences for a many-to-one sentiment RNN, and an unlabelled corpus for Word2Vec.

Sentiment here depends on word order, not only on which words occur:
- negation flips a clause: "the food was not good" is negative;
- intensifiers ("very", "really") change nothing about the sign, so a model must learn to
  look past them: "the movie was not very good" is still negative;
- a contrast decides by its second clause: "the food was good but the service was awful" is
  negative, "the food was awful but the service was good" positive (same bag of words).

Adjectives are split into *seen* ones (in the labelled training sentences) and *held-out*
ones (only in the test sentences and in the unlabelled corpus). A model reading one-hot words
has never trained the input weights of a held-out adjective; a model reading Word2Vec vectors
trained on the unlabelled corpus (where every adjective keeps company with words of its
polarity: "i loved it", "i hated it") can place it next to its seen neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POSITIVE = ("good", "great", "excellent", "wonderful", "nice", "lovely", "superb", "pleasant")
NEGATIVE = ("bad", "terrible", "awful", "poor", "horrible", "boring", "nasty", "dreadful")
HELD_OUT = 3  # the last 3 adjectives of each polarity never appear in labelled training data
NOUNS = ("food", "movie", "service", "hotel", "book", "music", "staff", "room", "show", "game")
INTENSIFIERS = ("very", "really", "extremely", "quite", "so")
POSITIVE_CONTEXT = ("loved", "enjoyed", "recommend", "smiled", "happy", "praised")
NEGATIVE_CONTEXT = ("hated", "disliked", "avoid", "frowned", "angry", "complained")


@dataclass(frozen=True)
class Example:
    words: tuple[str, ...]
    label: int  # 1 positive, 0 negative
    held_out: bool  # uses an adjective the labelled training set never shows


def _clause(rng, adjectives_pos, adjectives_neg):
    """(words, polarity) of "the NOUN was [not] [INTENS] ADJ"."""
    positive = rng.random() < 0.5
    pool = adjectives_pos if positive else adjectives_neg
    adjective = pool[rng.integers(len(pool))]
    words = ["the", NOUNS[rng.integers(len(NOUNS))], "was"]
    negated = rng.random() < 0.35
    if negated:
        words.append("not")
    if rng.random() < 0.35:
        words.append(INTENSIFIERS[rng.integers(len(INTENSIFIERS))])
    words.append(adjective)
    return words, int(positive != negated), adjective


def labelled(n: int, seed: int, held_out: bool) -> list[Example]:
    """n labelled sentences. held_out=False: seen adjectives only (training); True: every
    adjective (testing; examples using a held-out one are flagged)."""
    rng = np.random.default_rng([seed, 0x5E47, int(held_out)])
    if held_out:
        pos, neg = POSITIVE, NEGATIVE
    else:
        pos, neg = POSITIVE[:-HELD_OUT], NEGATIVE[:-HELD_OUT]
    hidden = set(POSITIVE[-HELD_OUT:] + NEGATIVE[-HELD_OUT:])
    examples = []
    for _ in range(n):
        words, label, adjective = _clause(rng, pos, neg)
        adjectives = {adjective}
        if rng.random() < 0.3:  # a contrast: the second clause decides
            second, label, other = _clause(rng, pos, neg)
            words = words + ["but"] + second
            adjectives.add(other)
        examples.append(Example(tuple(words), label, bool(adjectives & hidden)))
    return examples


def unlabelled_corpus(n: int, seed: int) -> list[list[str]]:
    """Sentences for Word2Vec: every adjective next to words of its own polarity."""
    rng = np.random.default_rng([seed, 0x0C0])
    sentences = []
    for _ in range(n):
        positive = rng.random() < 0.5
        adjectives = POSITIVE if positive else NEGATIVE
        context = POSITIVE_CONTEXT if positive else NEGATIVE_CONTEXT
        adjective = adjectives[rng.integers(len(adjectives))]
        cue = context[rng.integers(len(context))]
        noun = NOUNS[rng.integers(len(NOUNS))]
        form = rng.integers(3)
        if form == 0:
            words = f"i {cue} the {noun} it was {adjective}"
        elif form == 1:
            words = (
                f"the {adjective} {noun} made me {cue}"
                if cue in ("happy", "angry")
                else (f"we {cue} the {adjective} {noun}")
            )
        else:
            words = f"such a {adjective} {noun} everyone {cue}"
        sentences.append(words.split())
    return sentences
