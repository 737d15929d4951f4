"""The tui-lab Textual app: a picker and lab screens over one compute thread."""

from __future__ import annotations

import gc
from pathlib import Path

from textual.app import App

from tui_lab.app.catalog import Catalog, load_catalog
from tui_lab.app.commands import LabCommands


class TuiLabApp(App):
    CSS_PATH = "tui_lab.tcss"
    TITLE = "tui-lab"
    COMMANDS = App.COMMANDS | {LabCommands}

    def __init__(self, scenario=None, scenario_dirs=(), lab=None):
        super().__init__()
        self.start_scenario = scenario
        self.start_lab = lab
        self.scenario_dirs = tuple(Path(folder) for folder in scenario_dirs)
        self._catalog: Catalog | None = None

    def catalog(self) -> Catalog:
        if self._catalog is None:
            self._catalog = load_catalog(self.scenario_dirs)
        return self._catalog

    def on_mount(self) -> None:
        # Rich renderables make many short-lived objects; with the default thresholds the
        # cyclic collector's full passes landed on keypresses as 70-110 ms repaints
        # (measured: scripts/measure_app_latency.py). Freeze what start-up built and
        # collect young objects less often: the worst press fell to about 30 ms.
        gc.collect()
        gc.freeze()
        gc.set_threshold(100_000, 50, 1000)
        from tui_lab.app.screens.lab import LabScreen
        from tui_lab.app.screens.picker import PickerScreen

        if self.start_scenario is None:
            self.push_screen(PickerScreen())
        else:
            self.push_screen(LabScreen(self.start_scenario, lab=self.start_lab))

    def open_scenario(self, scenario) -> None:
        """Open a lab on `scenario`, replacing the lab screen shown now (if any)."""
        from tui_lab.app.screens.lab import LabScreen

        screen = LabScreen(scenario)
        if isinstance(self.screen, LabScreen):
            self.switch_screen(screen)
        else:
            self.push_screen(screen)

    def show_picker(self) -> None:
        from tui_lab.app.screens.picker import PickerScreen

        below = self.screen_stack[:-1]
        if any(isinstance(screen, PickerScreen) for screen in below):
            while not isinstance(self.screen, PickerScreen):
                self.pop_screen()
        else:
            self.switch_screen(PickerScreen())
