"""Write tui_lab/data/keys.txt: sentences whose second half repeats words from the first.

"Mira found a green key, and Mira kept the green key." Predicting the
repeated name, colour and object needs memory across ~20 characters, which a plain
RNN struggles to learn and a gated cell learns easily. Deterministic (seeded).
"""

import random
from pathlib import Path

NAMES = ["Mira", "Tomas", "Ada", "Lukas", "Nell", "Oskar", "Ines", "Bruno", "Vera", "Hugo"]
COLOURS = ["green", "red", "blue", "black", "white", "silver", "brown", "yellow"]
THINGS = ["key", "coin", "shell", "stone", "ring", "map", "bell", "cup"]
VERBS = [("found", "kept"), ("lost", "missed"), ("sold", "regretted"), ("painted", "dried")]


def sentence(rng: random.Random) -> str:
    name, colour, thing = (rng.choice(words) for words in (NAMES, COLOURS, THINGS))
    first, second = rng.choice(VERBS)
    opening = f"{name} {first} a {colour} {thing}"
    return f"{opening}, and {name} {second} the {colour} {thing}."


def main() -> None:
    rng = random.Random(0)
    lines = [sentence(rng) for _ in range(500)]
    path = Path(__file__).resolve().parents[1] / "tui_lab" / "data" / "keys.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {path} ({sum(map(len, lines))} characters)")


if __name__ == "__main__":
    main()
