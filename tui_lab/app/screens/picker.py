"""The scenario picker: grouped by topic, type to filter, Enter opens."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from tui_lab.app.catalog import card, grouped, key_of


class PickerScreen(Screen):
    BINDINGS = [
        Binding("down", "move(1)", "Next", show=False),
        Binding("up", "move(-1)", "Previous", show=False),
        Binding("escape", "clear", "Clear filter", show=False),
        Binding("question_mark", "help", "Help", show=False),
        Binding("ctrl+q", "quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        yield Static(
            "tui-lab · pick a scenario (type to filter, Enter opens, ctrl+q quits)",
            id="picker-title",
        )
        yield Input(placeholder="filter: e.g. char, lstm, word2vec", id="filter")
        with Horizontal(id="picker-main"):
            yield OptionList(id="scenarios")
            yield Markdown(id="card")
        yield Footer()

    def on_mount(self) -> None:
        catalog = self.app.catalog()
        for problem in catalog.problems:
            self.notify(problem, title="scenario not loaded", severity="warning", timeout=8)
        self._fill("")
        self.query_one("#filter", Input).focus()

    def _fill(self, query: str) -> None:
        options = self.query_one("#scenarios", OptionList)
        options.clear_options()
        first = None
        for topic, members in grouped(self.app.catalog().entries, query):
            options.add_option(Option(Text(topic.upper(), "bold dim"), disabled=True))
            for entry in members:
                label = Text.assemble(("  " + entry.name, "bold"), (f"  {entry.stem}", "dim"))
                options.add_option(Option(label, id=key_of(entry)))
                first = first if first is not None else options.option_count - 1
        if first is None:
            self.query_one("#card", Markdown).update(f"No scenario matches **{query}**.")
        else:
            options.highlighted = first
            self._show_card(options.get_option_at_index(first).id)

    def _show_card(self, key: str | None) -> None:
        entry = self.app.catalog().find(key) if key else None
        if entry is not None:
            self.query_one("#card", Markdown).update(card(entry))

    def on_input_changed(self, event: Input.Changed) -> None:
        self._fill(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self._open_highlighted()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_card(event.option.id)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._open(event.option.id)

    def _open_highlighted(self) -> None:
        options = self.query_one("#scenarios", OptionList)
        if options.highlighted is None:
            self.notify("no scenario matches the filter", severity="warning")
            return
        self._open(options.get_option_at_index(options.highlighted).id)

    def _open(self, key: str | None) -> None:
        entry = self.app.catalog().find(key) if key else None
        if entry is not None:
            self.app.open_scenario(entry)

    def action_move(self, delta: int) -> None:
        options = self.query_one("#scenarios", OptionList)
        if delta > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_clear(self) -> None:
        self.query_one("#filter", Input).value = ""

    def action_help(self) -> None:
        from tui_lab.app.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_quit(self) -> None:
        self.app.exit()
