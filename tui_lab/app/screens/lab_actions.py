"""The lab screen's key actions and palette commands (a mixin for LabScreen).

The mixin reads what LabScreen sets up (session, player, frame, ...) and imports nothing
from the screen module, so the two modules do not import each other."""

from __future__ import annotations

from tui_lab import frames
from tui_lab.app.selection import move
from tui_lab.files import atomic_write_text
from tui_lab.labs.base import GENERATE, OWN_INPUT, QUERY
from tui_lab.render.options import ZOOMS
from tui_lab.scenario import ScenarioError

FIXED_KEYS = {"scenario.kind", "scenario.name", "scenario.description", "scenario.topic"}


class LabActions:
    """Actions for LabScreen; all lab work goes through self.session."""

    def _ready(self) -> bool:
        if self.session.lab is None or self.frame is None:
            self.notify("the lab is still opening", severity="warning")
            return False
        return True

    # ---- stepping -------------------------------------------------------------------
    # Stepping keys pressed while the lab opens are queued behind the opening job.
    def action_step(self) -> None:
        self.session.call("step", "step")

    def action_back(self) -> None:
        self.session.call("back", "back")

    def action_first(self) -> None:
        self.session.call("first", "first")

    def action_last(self) -> None:
        self.session.call("last", "last")

    def action_reset(self) -> None:
        self.player.pause()
        self.session.reset()

    def action_play(self) -> None:
        if not self._ready():
            return
        self.player.toggle(self.frame.t, self.frame.T)
        self._update_status()

    def action_faster(self) -> None:
        self.player.faster()
        self._update_status()

    def action_slower(self) -> None:
        self.player.slower()
        self._update_status()

    # ---- view ---------------------------------------------------------------------------
    def action_zoom(self) -> None:
        self.zoom = ZOOMS[(ZOOMS.index(self.zoom) + 1) % len(ZOOMS)]
        self.request_draw(force=True)

    def action_unit(self, d_col: int, d_row: int) -> None:
        self.selection = move(self.selection, self.frame, d_col, d_row)
        self.request_draw(force=True)

    def action_help(self) -> None:
        from tui_lab.app.screens.help import HelpScreen

        self.app.push_screen(HelpScreen())

    def action_picker(self) -> None:
        self.app.show_picker()

    def action_quit(self) -> None:
        self.session.close()
        self.app.exit()

    def action_cancel(self) -> None:
        if self.session.training:
            self.session.stop_training()
            self.train_label = "stopping ..."
        elif self.player.playing:
            self.player.pause()
        elif self.selection is not None:
            self.selection = None
            self.request_draw(force=True)
        self._update_status()

    # ---- training and text ----------------------------------------------------------------
    def action_train(self) -> None:
        if not self._ready():
            return
        if self.session.training:
            self.notify("already training (Esc stops)")
            return
        total = int(self.session.lab.total_train_steps())
        self.player.pause()
        self.query_one("#trainbar").display = True
        self.train_label = f"training 0/{total} · Esc stops"
        self.query_one("#train-label").update(self.train_label)
        self.query_one("#train-progress").update(total=total, progress=0)
        self.session.train(total)
        self._update_status()

    def action_generate(self) -> None:
        if not self._ready():
            return
        if GENERATE not in self.session.lab.capabilities:
            self.notify("this lab kind does not generate text", severity="warning")
            return
        self.session.generate()

    def action_ask(self) -> None:
        """The query box: labs with a query(text) method (Word2Vec) answer it."""
        if not self._ready():
            return
        if QUERY not in self.session.lab.capabilities:
            self.notify("this lab kind answers no queries", severity="warning")
            return
        from tui_lab.app.screens.prompt import PromptScreen

        prompt = PromptScreen("Ask: most_similar king  |  king - man + woman", "")
        self.app.push_screen(prompt, self._asked)

    def _asked(self, text: str | None) -> None:
        if text:
            self.session.ask(text)

    def action_own_input(self) -> None:
        if not self._ready():
            return
        if OWN_INPUT not in self.session.lab.capabilities:
            self.notify("this lab kind takes no input of yours", severity="warning")
            return
        from tui_lab.app.screens.prompt import PromptScreen

        current = ""
        for panel in self.frame.panels_of(frames.Sequence):
            if panel.bits is None:
                joiner = "" if all(len(token) <= 1 for token in panel.tokens) else " "
                current = joiner.join(panel.tokens)
                break
        prompt = PromptScreen("Your own input (Enter steps through it, Esc cancels)", current)
        self.app.push_screen(prompt, self._own_input_given)

    def _own_input_given(self, text: str | None) -> None:
        if text:
            self.player.pause()
            self.session.reset(new_input=text)

    # ---- files ------------------------------------------------------------------------------
    def action_save(self) -> None:
        if self._ready():
            self.session.save(self.stamped_path(".npz"))

    def action_export(self) -> None:
        path = self.stamped_path(".toml")
        try:
            atomic_write_text(path, self.session.scenario.to_toml())
        except OSError as error:
            self.notify(f"could not write {path}: {error}", severity="error")
            return
        self.notify(
            f"scenario written to {path}\nrun it headless: tui-lab run {path.name}",
            title="exported",
            timeout=10,
        )

    # ---- values ------------------------------------------------------------------------------
    def prompt_value(self, dotted: str) -> None:
        from tui_lab.app.screens.prompt import PromptScreen

        field = self.session.scenario.field(dotted)
        value = self.session.scenario.get(dotted)
        how = "changes live" if field.live else "rebuilds the model"
        prompt = PromptScreen(f"Set {dotted}: {field.describe()} ({how})", f"{dotted}={value}")
        self.app.push_screen(prompt, lambda text: text and self.apply_assignment(text))

    def apply_assignment(self, text: str) -> bool:
        """`section.key=value` with --set's validation; a bad value is a notification."""
        if "=" not in text:
            self.notify(
                f"{text!r}: expected section.key=value", title="bad value", severity="error"
            )
            return False
        dotted = text.split("=", 1)[0].strip()
        if dotted in FIXED_KEYS:
            self.notify(
                f"{dotted} cannot change in a running lab; open another scenario",
                title="bad value",
                severity="error",
            )
            return False
        try:
            new = self.session.scenario.with_overrides([text])
            value = new.get(dotted)
        except ScenarioError as error:
            self.notify(str(error), title="bad value", severity="error", timeout=8)
            return False
        if not self._ready():
            return False
        self.session.set_value(dotted, value, new)
        return True
