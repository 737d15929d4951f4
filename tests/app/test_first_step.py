"""The first step after opening shows boxes laid out and drawn while the lab opened.

Timings are in scripts/measure_app_latency.py; these tests hold what makes the first
step cheap: no box is mounted at the key, none is drawn at a guessed width, and a lab
whose steps apply updates is not stepped ahead."""

import threading
from dataclasses import replace

from tui_lab.app import session
from tui_lab.app.app import TuiLabApp
from tui_lab.app.screens import lab as lab_screen
from tui_lab.app.widgets import panels
from tui_lab.app.widgets.lines import LinesView
from tui_lab.labs.base import Walk


async def _opened(pilot, app, wait_for):
    lab = app.screen
    await wait_for(pilot, lambda: lab.frame is not None, what="first frame")
    await wait_for(pilot, lambda: lab._opening is None and not lab._dirty, what="opened")
    await pilot.pause(0.1)
    return lab


async def test_the_first_step_mounts_nothing_moves_nothing_and_draws_at_the_laid_out_width(
    wait_for, make_fake_lab, monkeypatch
):
    lab_obj = make_fake_lab()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(140, 45)) as pilot:
        lab = await _opened(pilot, app, wait_for)
        assert lab.frame.t == -1 and [p.name for p in lab.frame.panels] == ["input"]
        # The t = 0 boxes are in place already, blank, at the size the first step fills.
        ahead = {key[1]: box for key, box in lab._mounted.items()}
        assert set(lab.boxes) == {"input", "h_t", "gates", "metrics"} == set(ahead)
        regions = {}
        for name in ("h_t", "gates", "metrics"):
            box = ahead[name]
            assert box.display and box.region.area > 0
            views = list(box.query(LinesView))
            assert views and all(view.is_blank for view in views)
            assert box.drawn_width == box.laid_out_width > 4
            regions[name] = box.region

        made, widths = [], []
        monkeypatch.setattr(lab_screen, "box_for", lambda panel: made.append(panel.name) or 1 / 0)
        original = panels.MatrixBox.draw

        def draw(self, panel, options):
            widths.append((panel.name, self.available_width(), self.content_size.width))
            original(self, panel, options)

        monkeypatch.setattr(panels.MatrixBox, "draw", draw)
        await pilot.press("right")
        await wait_for(pilot, lambda: lab.frame.t == 0 and not lab._dirty, what="t = 0")
        await pilot.pause(0.2)
        assert made == []
        assert set(lab.boxes) == {"input", "h_t", "gates", "metrics"}
        assert all(box.display for box in lab.boxes.values())
        assert {name: ahead[name].region for name in regions} == regions  # no box moved
        for name in regions:
            assert not all(view.is_blank for view in ahead[name].query(LinesView))
        assert widths and all(drawn == ahead[name].laid_out_width for name, drawn, _ in widths)
        assert all(laid_out in (0, drawn) for _, drawn, laid_out in widths)


async def test_a_lab_whose_steps_train_is_not_stepped_ahead(wait_for, make_fake_lab):
    class Updating(make_fake_lab):
        """Steps apply updates: building its t = 0 frame ahead would train."""

        def __init__(self):
            super().__init__()
            self.frames_built = []

        def walk(self, input=None):
            walk = super().walk(input)
            return Walk(walk.input, walk.length, steps_are_updates=True)

        def frame(self, walk, t):
            self.frames_built.append(t)
            return super().frame(walk, t)

    lab_obj = Updating()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(140, 45)) as pilot:
        lab = await _opened(pilot, app, wait_for)
        assert lab_obj.frames_built == [-1]
        assert list(lab.boxes) == ["input"]
        await pilot.press("right")
        await wait_for(pilot, lambda: lab.frame.t == 0, what="t = 0")
        assert lab_obj.frames_built == [-1, 0]


async def test_the_opening_screen_is_the_frame_before_the_first_step(
    wait_for, make_fake_lab, monkeypatch
):
    """The preview is drawn unseen: the status line and the boxes say t = -1."""
    monkeypatch.setattr(session, "_warmed", set())  # warm-ups run once per process
    gate = threading.Event()
    lab_obj = make_fake_lab(warm_gate=gate)
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(140, 45)) as pilot:
        lab = app.screen
        seen = [lab.status_line()]
        gate.set()  # the lab opens while the status line is watched
        while lab._opening is not None or lab.frame is None:
            seen.append(lab.status_line())
            await pilot.pause(0.002)
        assert all("t = 0" not in status for status in seen)
        assert "t = - of 5" in lab.status_line()
        assert lab.query_one("#body").styles.opacity == 1.0


async def test_boxes_kept_across_frames_follow_each_frames_order(wait_for, make_fake_lab):
    class Reordering(make_fake_lab):
        """Odd steps list the two matrices the other way round; step 2 drops gates."""

        def frame(self, walk, t):
            frame = super().frame(walk, t)
            if t == 2:
                return replace(frame, panels=tuple(p for p in frame.panels if p.name != "gates"))
            if t > 0 and t % 2:
                sequence, h, gates, *rest = frame.panels
                return replace(frame, panels=(sequence, gates, h, *rest))
            return frame

    lab_obj = Reordering()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(140, 45)) as pilot:
        lab = await _opened(pilot, app, wait_for)
        matrices = lab.query_one("#matrices")

        def shown_order():
            return [child.panel_name for child in matrices.children if child.display]

        for t, order in [
            (0, ["h_t", "gates"]),
            (1, ["gates", "h_t"]),
            (2, ["h_t"]),
            (3, ["gates", "h_t"]),
        ]:
            await pilot.press("right")
            await wait_for(pilot, lambda t=t: lab.frame.t == t and not lab._dirty, what=f"t = {t}")
            assert shown_order() == order, t
        assert len(matrices.children) == 2  # the same two boxes all along
