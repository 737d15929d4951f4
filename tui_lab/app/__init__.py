"""The Textual app. `run_app(scenario=None, scenario_dirs=(), lab=None)` is what `tui-lab`
calls."""

from __future__ import annotations


def run_app(scenario=None, scenario_dirs=(), lab=None) -> None:
    """Open the TUI: on `scenario` (a Scenario), or on the picker when None; `lab` a lab
    already built for `scenario` (e.g. restored from a checkpoint)."""
    from tui_lab.app.app import TuiLabApp

    TuiLabApp(scenario, scenario_dirs, lab=lab).run()
