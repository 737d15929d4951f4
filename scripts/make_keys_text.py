"""Write tui_lab/data/keys.txt: sentences whose second half repeats words from the first.

"Mira found a green key by the well, and Mira kept the green key." Predicting the
repeated name, colour and object needs memory across ~30 characters, which a plain
RNN struggles to learn and a gated cell learns easily. Deterministic (seeded).
"""

import random
from pathlib import Path

NAMES = ["Mira", "Tomas", "Ada", "Lukas", "Nell", "Oskar", "Ines", "Bruno", "Vera", "Hugo"]
COLOURS = ["green", "red", "blue", "black", "white", "silver", "brown", "yellow"]
THINGS = ["key", "coin", "shell", "stone", "ring", "map", "bell", "cup"]
PLACES = ["well", "gate", "river", "mill", "bridge", "church", "market", "harbour"]
VERBS = [("found", "kept"), ("lost", "missed"), ("sold", "regretted"), ("painted", "dried")]


def sentence(rng: random.Random) -> str:
    name, colour, thing, place = (rng.choice(words) for words in (NAMES, COLOURS, THINGS, PLACES))
    first, second = rng.choice(VERBS)
    return f"{name} {first} a {colour} {thing} by the {place}, and {name} {second} the {colour} {thing}."


def main() -> None:
    rng = random.Random(0)
    lines = [sentence(rng) for _ in range(400)]
    path = Path(__file__).resolve().parents[1] / "tui_lab" / "data" / "keys.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path} ({sum(map(len, lines))} characters)")


if __name__ == "__main__":
    main()
