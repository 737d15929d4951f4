"""A person's first session, driven by Pilot on the real char-textgen scenario."""

import numpy as np

from tui_lab.app.app import TuiLabApp
from tui_lab.app.screens.help import HelpScreen
from tui_lab.app.screens.lab import LabScreen
from tui_lab.app.screens.picker import PickerScreen
from tui_lab.registry import resolve


def h_t(screen) -> np.ndarray:
    return np.array(screen.frame.panel("h_t").values)


def status(screen) -> str:
    return screen.query_one("#status").text


async def test_pick_step_help_train_cancel_quit(wait_for, notifications):
    app = TuiLabApp()
    async with app.run_test(size=(140, 45)) as pilot:
        assert isinstance(app.screen, PickerScreen)
        await pilot.press(*"char")
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LabScreen), what="lab screen")
        lab = app.screen
        await wait_for(pilot, lambda: lab.frame is not None, what="first frame")
        assert "t = - of 9" in status(lab)

        await pilot.press("right")
        await wait_for(pilot, lambda: lab.frame.t == 0, what="t = 0")
        first = h_t(lab)
        await pilot.press("n")
        await wait_for(pilot, lambda: lab.frame.t == 1, what="t = 1")
        await pilot.pause(0.1)
        assert "t = 1 of 9" in status(lab)
        assert not np.allclose(h_t(lab), first)
        assert "h_t" in lab.boxes and lab.boxes["h_t"].cells.layout is not None
        await pilot.press("left")
        await wait_for(pilot, lambda: lab.frame.t == 0, what="back to t = 0")
        np.testing.assert_array_equal(h_t(lab), first)

        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), what="help")
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is lab, what="help closed")

        # A long run (rebuilt with more epochs) so that Escape cancels it midway.
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"train.epochs=5000")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: lab.scenario.get("train.epochs") == 5000, what="rebuild")
        total = lab.session.lab.total_train_steps()
        await pilot.press("t")
        await wait_for(
            pilot, lambda: lab.live_step > 0 and lab.live_loss is not None, what="training progress"
        )
        assert lab.query_one("#trainbar").display
        assert "loss" in lab.train_label
        await pilot.press("escape")
        await wait_for(pilot, lambda: not lab.session.training, what="training stopped")
        await wait_for(pilot, lambda: not lab.query_one("#trainbar").display, what="bar hidden")
        assert 0 < lab.session.lab.train_step < total
        await wait_for(
            pilot,
            lambda: lab.frame.train_step == lab.session.lab.train_step,
            what="frame after training",
        )
        assert f"train step {lab.session.lab.train_step}" in status(lab)
        assert "loss -" not in status(lab)
        assert any("training stopped after" in text for text in notifications(app))

        await pilot.press("q")
    assert app.return_code == 0


async def test_80x24_resize_keeps_working_and_reflows(wait_for):

    app = TuiLabApp(resolve("char-textgen"))
    async with app.run_test(size=(140, 45)) as pilot:
        lab = app.screen
        await wait_for(pilot, lambda: lab.frame is not None, what="first frame")
        await pilot.press("right", "right")
        await wait_for(pilot, lambda: lab.frame.t == 1, what="t = 1")
        assert not lab.has_class("narrow")
        await pilot.resize_terminal(80, 24)
        await pilot.pause(0.3)
        assert lab.has_class("narrow")
        await pilot.press("right")
        await wait_for(pilot, lambda: lab.frame.t == 2, what="t = 2 at 80x24")
        await pilot.pause(0.2)
        assert "t = 2 of 9" in status(lab)
        side = lab.query_one("#side").region
        matrices = lab.query_one("#matrices").region
        assert side.y >= matrices.bottom  # stacked, not overlapping
        await pilot.resize_terminal(140, 45)
        await pilot.pause(0.3)
        assert not lab.has_class("narrow")


async def test_bad_palette_value_is_a_notification_not_a_crash(wait_for, notifications):

    app = TuiLabApp(resolve("char-textgen"))
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.screen
        await wait_for(pilot, lambda: lab.frame is not None, what="first frame")
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"train.lr=abc")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: any("bad value" in t for t in notifications(app)), what="notification"
        )
        message = [t for t in notifications(app) if "bad value" in t][0]
        assert "train.lr: expected a number from 1e-07 to 10, got 'abc'" in message
        assert app.screen is lab
        await pilot.press("right")
        await wait_for(pilot, lambda: lab.frame.t == 0, what="still steps")
