"""The Textual app. `run_app(scenario=None, scenario_dirs=())` is what `tui-lab` calls."""

from __future__ import annotations


def run_app(scenario=None, scenario_dirs=()) -> None:
    """Open the TUI: on `scenario` (a Scenario), or on the picker when None."""
    from tui_lab.app.app import TuiLabApp

    TuiLabApp(scenario, scenario_dirs).run()
