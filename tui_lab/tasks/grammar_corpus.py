"""A corpus the project writes itself, in which analogies hold by construction.

Every content word is built from a few *attributes*, and each attribute has its own context
words. A sentence about a word shows cues of each of its attributes, so the word's contexts
are (in expectation) the sum of its attributes' contexts, and the vector offsets Word2Vec
learns line up:

- people = gender x role: king (male, royal), queen (female, royal), prince (male, royal
  child), man (male, commoner), boy (male, child), brother, father, uncle, son, husband ...
  Gender shows as he/his/him vs she/her and male vs female names; each role has its verbs
  and objects (royals rule the kingdom, children play at school, ...).
  -> king : queen :: man : woman :: prince : princess
- places = country x "capital or country": each country has a language and local words that
  occur with both the country and its capital; capitals go with city words, countries with
  nation words.  -> paris : france :: rome : italy
- verbs = verb x tense: each verb has its own objects; the base form goes with will /
  tomorrow / every day, the past form with yesterday / last week / ago.
  -> walk : walked :: eat : ate

The notes' own example sentences ("the cat sits on the mat", ...) are mixed in.
generate(n, seed) -> token lists; analogy_questions() -> (a, b, c, d) tuples.
"""

from __future__ import annotations

import numpy as np

GENDER_PAIRS = (  # (male, female, role)
    ("king", "queen", "royal"),
    ("prince", "princess", "royal_child"),
    ("man", "woman", "adult"),
    ("boy", "girl", "child"),
    ("father", "mother", "parent"),
    ("son", "daughter", "offspring"),
    ("brother", "sister", "sibling"),
    ("uncle", "aunt", "relative"),
    ("husband", "wife", "spouse"),
)
GENDER_CUES = {
    "male": (
        ("he",), ("his",), ("him",), ("john",), ("peter",), ("paul",), ("mister",),
    ),
    "female": (
        ("she",), ("her",), ("hers",), ("mary",), ("anna",), ("susan",), ("madam",),
    ),
}  # fmt: skip
ROLE_PHRASES = {
    "royal": ("rules the kingdom", "sits on the throne", "wears the crown", "lives in the palace"),
    "royal_child": ("will inherit the throne", "lives in the palace", "rides a pony", "is young"),
    "adult": ("works at the office", "drives a car", "pays the bills", "reads the newspaper"),
    "child": ("plays with toys", "goes to school", "is young", "rides a pony"),
    "parent": ("cares for the children", "cooks dinner for the family", "raises the children"),
    "offspring": ("visits the parents", "is the child of the family", "inherits the farm"),
    "sibling": ("shares a room", "grew up in the same house", "argues with the twin"),
    "relative": ("visits the nephew", "sends gifts to the niece", "comes for the holidays"),
    "spouse": ("married last spring", "wears a wedding ring", "shares a home with the partner"),
}
COUNTRIES = (  # (country, capital, language, local words)
    ("france", "paris", "french", ("wine", "cheese", "seine")),
    ("italy", "rome", "italian", ("pasta", "pizza", "tiber")),
    ("germany", "berlin", "german", ("beer", "sausage", "spree")),
    ("spain", "madrid", "spanish", ("paella", "flamenco", "tapas")),
    ("japan", "tokyo", "japanese", ("sushi", "temples", "sumida")),
    ("greece", "athens", "greek", ("olives", "islands", "temple")),
    ("russia", "moscow", "russian", ("vodka", "winter", "kremlin")),
    ("egypt", "cairo", "arabic", ("pyramids", "desert", "nile")),
)
CAPITAL_PHRASES = (
    "is a big city",
    "has busy streets",
    "has a mayor",
    "is the capital city",
    "has a metro",
)
COUNTRY_PHRASES = (
    "is a large nation",
    "has long borders",
    "has a population of millions",
    "is a country with a president",
    "has many provinces",
)
VERBS = (  # (base, past, objects)
    ("walk", "walked", ("to the park", "the dog")),
    ("eat", "ate", ("bread", "an apple")),
    ("run", "ran", ("a marathon", "the race")),
    ("see", "saw", ("a movie", "the stars")),
    ("write", "wrote", ("a letter", "a poem")),
    ("swim", "swam", ("in the lake", "laps")),
    ("sing", "sang", ("a song", "in the choir")),
    ("drive", "drove", ("a truck", "to work")),
    ("play", "played", ("football", "chess")),
    ("buy", "bought", ("groceries", "a ticket")),
)
BASE_CUES = ("will", "tomorrow", "every day", "next week", "usually", "often")
PAST_CUES = ("yesterday", "last week", "ago", "once", "last night", "earlier")
SUBJECTS = ("we", "they", "you", "i", "people", "friends")
NOTES_SENTENCES = (
    "the cat sits on the mat",
    "the cat chased the mouse",
    "the mouse chased the cat",
    "children go to school to study",
    "the man is to the king as the woman is to the queen",
)


def _person_sentence(rng: np.random.Generator) -> str:
    male, female, role = GENDER_PAIRS[rng.integers(len(GENDER_PAIRS))]
    gender = "male" if rng.random() < 0.5 else "female"
    word = male if gender == "male" else female
    cue = " ".join(GENDER_CUES[gender][rng.integers(len(GENDER_CUES[gender]))])
    phrases = ROLE_PHRASES[role]
    action = phrases[rng.integers(len(phrases))]
    form = rng.integers(4)
    if form == 0:
        return f"the {word} {action} and {cue} is happy"
    if form == 1:
        return f"{cue} is the {word} who {action}"
    if form == 2:
        return f"every {word} {action} said {cue}"
    return f"the {word} {action} with {cue}"


def _place_sentence(rng: np.random.Generator) -> str:
    country, capital, language, local = COUNTRIES[rng.integers(len(COUNTRIES))]
    thing = local[rng.integers(len(local))]
    if rng.random() < 0.5:
        phrase = CAPITAL_PHRASES[rng.integers(len(CAPITAL_PHRASES))]
        form = rng.integers(3)
        if form == 0:
            return f"{capital} {phrase} and people there speak {language}"
        if form == 1:
            return f"in {capital} you find {thing} and the city {phrase.split(' ', 1)[1]}"
        return f"the city of {capital} {phrase} known for {thing}"
    phrase = COUNTRY_PHRASES[rng.integers(len(COUNTRY_PHRASES))]
    form = rng.integers(3)
    if form == 0:
        return f"{country} {phrase} and people there speak {language}"
    if form == 1:
        return f"in {country} you find {thing} and the nation {phrase.split(' ', 1)[1]}"
    return f"the country of {country} {phrase} known for {thing}"


def _verb_sentence(rng: np.random.Generator) -> str:
    base, past, objects = VERBS[rng.integers(len(VERBS))]
    obj = objects[rng.integers(len(objects))]
    subject = SUBJECTS[rng.integers(len(SUBJECTS))]
    verb, cues = (base, BASE_CUES) if rng.random() < 0.5 else (past, PAST_CUES)
    cue = cues[rng.integers(len(cues))]
    return (
        f"{subject} {verb} {obj} {cue}" if rng.random() < 0.5 else f"{cue} {subject} {verb} {obj}"
    )


def generate(n_sentences: int, seed: int = 0) -> list[list[str]]:
    """n_sentences token lists: people, places and verbs in equal parts, one in 20 a sentence
    from the notes. A pure function of (n_sentences, seed)."""
    rng = np.random.default_rng([seed, 0x6772])
    makers = (_person_sentence, _place_sentence, _verb_sentence)
    sentences = []
    for _ in range(n_sentences):
        if rng.random() < 0.05:
            text = NOTES_SENTENCES[rng.integers(len(NOTES_SENTENCES))]
        else:
            text = makers[rng.integers(len(makers))](rng)
        sentences.append(text.split())
    return sentences


def _pairs_to_questions(pairs) -> list[tuple[str, str, str, str]]:
    return [(a, b, c, d) for a, b in pairs for c, d in pairs if (a, b) != (c, d)]


def analogy_sections() -> dict[str, list[tuple[str, str, str, str]]]:
    """Analogy questions a : b :: c : d by relation (gender, capital, language, tense)."""
    return {
        "gender": _pairs_to_questions([(m, f) for m, f, _ in GENDER_PAIRS]),
        "capital": _pairs_to_questions([(c[1], c[0]) for c in COUNTRIES]),
        "language": _pairs_to_questions([(c[0], c[2]) for c in COUNTRIES]),
        "tense": _pairs_to_questions([(v[0], v[1]) for v in VERBS]),
    }


def analogy_questions() -> list[tuple[str, str, str, str]]:
    return [q for section in analogy_sections().values() for q in section]


WATCH_WORDS = ("king", "queen", "paris", "walk")
PLOT_WORDS = (
    "king", "queen", "man", "woman", "prince", "princess", "boy", "girl",
    "paris", "france", "rome", "italy", "walk", "walked", "eat", "ate",
)  # fmt: skip
