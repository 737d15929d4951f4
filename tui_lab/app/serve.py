"""`tui-lab serve`: the same app in a browser, through textual-serve (extra "serve")."""

from __future__ import annotations

import shlex
import sys


def serve_command(scenario_name: str | None = None) -> str:
    """The shell command textual-serve starts for each browser session."""
    command = f"{shlex.quote(sys.executable)} -m tui_lab.app"
    if scenario_name:
        command += f" {shlex.quote(scenario_name)}"
    return command


def serve(host: str = "127.0.0.1", port: int = 8000, scenario_name: str | None = None) -> None:
    try:
        from textual_serve.server import Server
    except ImportError:
        raise SystemExit(
            "tui-lab serve needs textual-serve: pip install 'tui-lab[serve]'"
        ) from None
    print(f"tui-lab: serving on http://{host}:{port} (Ctrl+C stops)", file=sys.stderr)
    Server(serve_command(scenario_name), host=host, port=port, title="tui-lab").serve()
