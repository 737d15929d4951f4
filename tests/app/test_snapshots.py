"""Snapshots of the lab screen: every lab kind, at 80x24 and 140x45, after three steps.

What a user sees is held here, so a refactor of a kind that changes a frame (or the
layout) fails; a change meant to show something new updates the SVGs on purpose:

    python -m pytest tests/app/test_snapshots.py --snapshot-update

and look at the new SVGs (snapshot_report.html shows a failed run's differences).

Kinds come from the registry, so a new kind gets snapshots (and fails until they are
written). Deterministic: the scenario's fixed seed, no training, every step drawn and the
screen settled (no draw pending, no job queued, the draw count still for a while) before
the next key and before the shot.
"""

import asyncio

import pytest

from tui_lab import registry
from tui_lab.app.app import TuiLabApp

pytest.importorskip("pytest_textual_snapshot", reason="needs the test extra's snapshot plugin")

PREFERRED = {"char_rnn": "char-textgen-lstm", "ntm": "ntm-copy"}
"""The scenario shown for a kind, where the first by name is not the typical one (the first
ntm scenario, lstm-copy, is the NTM's baseline without a memory)."""

SIZES = [(80, 24), (140, 45)]
STEPS = 3


def scenario_of(kind: str) -> str:
    names = [name for name in registry.bundled_names() if registry.resolve(name).kind == kind]
    assert names, f"lab kind {kind!r} has no bundled scenario to snapshot"
    return PREFERRED.get(kind) if PREFERRED.get(kind) in names else names[0]


async def until(pilot, predicate, timeout: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def settle(pilot, screen) -> None:
    """Until nothing is queued or waiting to be drawn and no draw happened for 0.2 s."""
    quiet_since = None
    draws = screen.draws
    while True:
        idle = screen.session.pending == 0 and not screen._dirty
        if idle and not screen._stale_in_sight() and screen.draws == draws:
            quiet_since = quiet_since or asyncio.get_running_loop().time()
            if asyncio.get_running_loop().time() - quiet_since >= 0.2:
                return
        else:
            quiet_since, draws = None, screen.draws
        await pilot.pause(0.02)


def steps_then_settle(steps: int):
    async def run_before(pilot) -> None:
        screen = pilot.app.screen
        # The first open of a kind compiles its kernels (minutes on a cold Numba cache).
        await until(pilot, lambda: screen.frame is not None, 600, "the lab to open")
        # One step at a time, each drawn before the next: a box keeps the tallest height it
        # has drawn, so which frames a fast run of keys skipped would change the screen
        # (word2vec at 80x24 differed between two machines by its scrollbar alone).
        for t in range(min(steps, screen.frame.T)):
            await pilot.press("right")
            await until(pilot, lambda t=t: screen.frame.t == t, 60, f"t = {t}")
            await settle(pilot, screen)

    return run_before


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("kind", registry.kinds())
def test_lab_screen_after_three_steps(kind, size, snap_compare, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)  # colors are part of what is held
    app = TuiLabApp(registry.resolve(scenario_of(kind)))
    assert snap_compare(app, terminal_size=size, run_before=steps_then_settle(STEPS))
