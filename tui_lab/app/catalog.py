"""The scenarios the picker offers: bundled ones plus the user's folders.

Pure functions (no Textual): loading, grouping by topic, filtering by typed
words, and the Markdown card shown for the highlighted scenario.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tui_lab import registry
from tui_lab.scenario import TOPICS, Scenario, ScenarioError


@dataclass
class Catalog:
    entries: list[Scenario] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def find(self, key: str) -> Scenario | None:
        for entry in self.entries:
            if key_of(entry) == key:
                return entry
        return None


def key_of(entry: Scenario) -> str:
    return str(entry.path) if entry.path is not None else entry.name


def load_catalog(folders=()) -> Catalog:
    """Bundled scenarios, then every *.toml of each folder. Bad files become problems."""
    catalog = Catalog()
    for path in registry.bundled_paths():
        try:
            catalog.entries.append(registry.load(path))
        except ScenarioError as error:
            catalog.problems.append(str(error))
    for folder in folders:
        folder = Path(folder)
        if not folder.is_dir():
            catalog.problems.append(f"{folder}: not a folder of scenario files")
            continue
        for path in sorted(folder.glob("*.toml")):
            try:
                catalog.entries.append(registry.load(path))
            except ScenarioError as error:
                catalog.problems.append(str(error))
    return catalog


def matches(entry: Scenario, query: str) -> bool:
    """Every typed word appears in the name, file name, kind, topic or description."""
    haystack = " ".join(
        [entry.name, entry.stem, entry.kind, entry.topic, entry.description]
    ).lower()
    return all(word in haystack for word in query.lower().split())


EXACT, PREFIX, ANYWHERE = 0, 1, 2


def match_rank(entry: Scenario, query: str) -> int:
    """How well `entry` answers `query`: EXACT (the file name or the name itself), PREFIX
    (starts with it), else ANYWHERE. Typing `ntm-copy` must land on ntm-copy, not on
    lstm-copy, whose description mentions ntm-copy and which comes first by topic."""
    typed = " ".join(query.lower().split())
    if not typed:
        return ANYWHERE
    names = (entry.stem.lower(), entry.name.lower())
    # "ntm copy" and "ntm-copy" name the same file.
    wanted = (typed, typed.replace(" ", "-"))
    if any(name in wanted for name in names):
        return EXACT
    if any(name.startswith(want) for name in names for want in wanted):
        return PREFIX
    return ANYWHERE


def grouped(entries: list[Scenario], query: str = "") -> list[tuple[str, list[Scenario]]]:
    """(topic, scenarios), keeping only matches and non-empty topics, best match first.

    Without a query (or when all match equally) topics keep the TOPICS order. With one,
    the topic holding the best match comes first and, inside a topic, exact matches come
    before prefix matches before the rest (stable: ties keep the bundled order), so the
    first entry, which the picker highlights, is the best one.
    """
    groups = []
    for topic in TOPICS:
        members = [e for e in entries if e.topic == topic and matches(e, query)]
        if members:
            members.sort(key=lambda entry: match_rank(entry, query))
            groups.append((topic, members))
    groups.sort(key=lambda group: match_rank(group[1][0], query))
    return groups


def key_facts(entry: Scenario) -> list[tuple[str, str]]:
    """kind, cell and the integer sizes of the model: the one-line summary."""
    facts = [("kind", entry.kind)]
    model = entry.values.get("model", {})
    for key, value in model.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | str) and value != "":
            facts.append((key, str(value)))
    return facts


def card(entry: Scenario) -> str:
    """Markdown for the picker's right side."""
    facts = " · ".join(f"**{key}** `{value}`" for key, value in key_facts(entry))
    where = f"`{entry.path.name}`" if entry.path is not None else ""
    lines = [f"# {entry.name}", "", facts, "", entry.description.strip() or "_(no description)_"]
    lines += ["", f"topic: {entry.topic} · seed {entry.seed} · {where}", "", "Enter opens it."]
    return "\n".join(lines)
