"""`python -m tui_lab.app [SCENARIO]`: the app without the CLI (used by `tui-lab serve`)."""

from __future__ import annotations

import sys

from tui_lab.app import run_app
from tui_lab.registry import resolve
from tui_lab.scenario import ScenarioError


def main(argv: list[str]) -> int:
    scenario = None
    if argv:
        try:
            scenario = resolve(argv[0])
        except ScenarioError as error:
            print(f"tui-lab: {error}", file=sys.stderr)
            return 2
    run_app(scenario)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
