"""The app steps into the backward (BPTT) phase with no change: it is just more steps."""

import asyncio

from tui_lab.app.app import TuiLabApp
from tui_lab.registry import resolve


async def wait_until(pilot, predicate, what, timeout=20.0):
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await pilot.pause(0.02)


async def test_right_arrow_walks_forward_then_back_through_time():
    app = TuiLabApp(
        resolve("long-range-gru").with_overrides(["data.length=4", "data.eval_size=16"])
    )
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await wait_until(pilot, lambda: screen.frame is not None, "first frame")
        for expected in range(4):
            await pilot.press("right")
            await wait_until(pilot, lambda e=expected: screen.frame.t == e, f"t = {expected}")
        assert screen.frame.phase == "forward"
        await pilot.press("right")
        await wait_until(pilot, lambda: screen.frame.phase == "backward", "the backward phase")
        assert screen.frame.t == 3
        assert "dL/dh_t" in [panel.name for panel in screen.frame.panels]
        await pilot.press("left")
        await wait_until(pilot, lambda: screen.frame.phase == "forward", "back to forward")
        await pilot.press("q")
