"""Command palette (ctrl+p): open a scenario, set a value, and the lab's actions.

Typing `section.key=value` offers "Set section.key=value" (validated like
--set); typing a key's name offers a prompt prefilled with its current value.
"""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

ACTIONS = (
    ("Type your own input text", "own_input", "step through text you type (text scenarios)"),
    (
        "Step through an episode of a length you give",
        "own_input",
        "NTM copy and repeat copy: e.g. 120 on the trained model, wrong bits marked (key i)",
    ),
    ("Train in the background", "train", "Esc stops"),
    ("Generate text", "generate", "text scenarios"),
    ("Save a checkpoint", "save", "<scenario>-<time>.npz in the current folder"),
    ("Export the scenario as set now", "export", "<scenario>-<time>.toml; runs headless"),
    ("Zoom: auto / values / colour", "zoom", "how matrices are drawn"),
    ("Scenario list", "picker", "the picker"),
)


class LabCommands(Provider):
    def _lab_screen(self):
        from tui_lab.app.screens.lab import LabScreen

        return self.screen if isinstance(self.screen, LabScreen) else None

    def _commands(self):
        """(text, callback, help) for everything the palette can do right now."""
        commands = []
        for entry in self.app.catalog().entries:
            commands.append(
                (
                    f"Open scenario: {entry.name} ({entry.stem})",
                    partial(self.app.open_scenario, entry),
                    entry.kind,
                )
            )
        screen = self._lab_screen()
        if screen is None:
            return commands
        for text, action, help_text in ACTIONS:
            commands.append((text, getattr(screen, f"action_{action}"), help_text))
        current = screen.session.scenario
        for section, fields in current.schema.items():
            for key, spec in fields.items():
                dotted = f"{section}.{key}"
                if section == "scenario" and key != "seed":
                    continue
                how = "live" if spec.live else "rebuilds"
                value = current.values[section][key]
                shown = repr(value) if not isinstance(value, str) or len(value) < 30 else "..."
                commands.append(
                    (
                        f"Set {dotted} (now {shown}, {how})",
                        partial(screen.prompt_value, dotted),
                        spec.describe(),
                    )
                )
        return commands

    async def discover(self) -> Hits:
        for text, callback, help_text in self._commands():
            yield DiscoveryHit(text, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        screen = self._lab_screen()
        if screen is not None and "=" in query:
            assignment = query.strip()
            yield Hit(
                1.0,
                f"Set {assignment}",
                partial(screen.apply_assignment, assignment),
                help="validated like --set; live values apply without a reset",
            )
        matcher = self.matcher(query)
        for text, callback, help_text in self._commands():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), callback, help=help_text)
