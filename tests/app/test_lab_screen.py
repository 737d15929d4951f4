"""The lab screen on a fake lab: layout from panel kinds, selection, errors, files."""

import threading

from tui_lab.app.app import TuiLabApp
from tui_lab.app.screens import lab as lab_screen
from tui_lab.app.screens.lab import LabScreen
from tui_lab.app.widgets.panels import GenericBox, MatrixBox


async def _open(pilot, app, wait_for):
    lab = app.screen
    assert isinstance(lab, LabScreen)
    await wait_for(pilot, lambda: lab.frame is not None, what="first frame")
    return lab


async def test_panels_are_placed_by_kind(wait_for, make_fake_lab):
    lab_obj = make_fake_lab()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(140, 45)) as pilot:
        lab = await _open(pilot, app, wait_for)
        await wait_for(pilot, lambda: lab.boxes, what="boxes")
        assert [panel.name for panel in lab.frame.panels] == ["input"]
        await pilot.press("right")
        await wait_for(pilot, lambda: lab.frame.t == 0 and not lab._dirty, what="t = 0 drawn")
        await pilot.pause(0.1)
        assert set(lab.boxes) == {"input", "h_t", "gates", "metrics"}
        assert isinstance(lab.boxes["h_t"], MatrixBox)
        assert isinstance(lab.boxes["metrics"], GenericBox)
        assert lab.boxes["input"].parent.id == "inputs"
        assert lab.boxes["h_t"].parent.id == "matrices"
        assert lab.boxes["metrics"].parent.id == "side"
        side, matrices = lab.query_one("#side").region, lab.query_one("#matrices").region
        assert side.x >= matrices.right  # side by side at 140 columns


async def test_click_selects_a_unit_everywhere(wait_for, make_fake_lab):
    lab_obj = make_fake_lab()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(140, 45)) as pilot:
        lab = await _open(pilot, app, wait_for)
        await pilot.press("right")
        await wait_for(pilot, lambda: "h_t" in lab.boxes, what="matrices")
        await pilot.pause(0.2)
        cells = lab.boxes["h_t"].cells
        layout = cells.layout
        # Row "c" (1), unit 3: header line, then rows h, c.
        x = layout.label_width + 1 + 3 * layout.pitch + 1
        await pilot.click(cells, offset=(x, 2))
        await pilot.pause(0.1)
        assert lab.selection is not None
        assert (lab.selection.panel, lab.selection.row, lab.selection.col) == ("h_t", 1, 3)
        assert lab.selection.trace == "c"
        assert "unit: c unit 3" in lab.status_line()
        gates_header = lab.boxes["gates"].cells._lines[0]
        marked = [seg.text.strip() for seg in gates_header if seg.style and seg.style.reverse]
        assert marked == ["3"]
        await pilot.press("right_square_bracket")
        assert lab.selection.col == 4
        await pilot.press("right_curly_bracket")
        assert (lab.selection.row, lab.selection.trace) == (0, "h")
        await pilot.press("escape")
        assert lab.selection is None


async def test_an_error_in_the_lab_is_a_notification(wait_for, notifications, make_fake_lab):
    lab_obj = make_fake_lab(fail_at=1)
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(100, 30)) as pilot:
        lab = await _open(pilot, app, wait_for)
        await pilot.press("right")
        await wait_for(pilot, lambda: lab.frame.t == 0, what="t = 0")
        await pilot.press("right")
        await wait_for(
            pilot,
            lambda: any("exploded" in n for n in notifications(app)),
            what="error notification",
        )
        assert "step: kernel exploded at step 1" in notifications(app)[-1]
        assert app.screen is lab
        await pilot.press("left")
        await wait_for(pilot, lambda: lab.frame.t == -1, what="still steps back")


async def test_first_start_shows_what_is_compiling(wait_for, make_fake_lab):
    gate = threading.Event()
    lab_obj = make_fake_lab(warm_gate=gate)
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(100, 30)) as pilot:
        lab = app.screen
        label = lab.query_one("#loading-label")
        await wait_for(pilot, lambda: "fake kernel" in str(label.content), what="label")
        assert "Compiling kernels" in str(label.content)
        assert lab.frame is None
        await pilot.press("right")  # queued behind the compile
        gate.set()
        await wait_for(
            pilot, lambda: lab.frame is not None and lab.frame.t == 0, what="frame after warm-up"
        )
        assert not lab.query_one("#loading").display


async def test_export_writes_a_toml_that_reproduces_the_session(
    wait_for, notifications, make_fake_lab, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    lab_obj = make_fake_lab()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(100, 30)) as pilot:
        lab = await _open(pilot, app, wait_for)
        assert lab.apply_assignment("train.lr=0.5")
        await wait_for(
            pilot, lambda: lab.session.scenario.get("train.lr") == 0.5, what="live value"
        )
        # The note is posted right after the value is set, from the compute thread.
        await wait_for(
            pilot,
            lambda: any("applied live" in n for n in notifications(app)),
            what="applied-live note",
        )
        await pilot.press("ctrl+e")
        written = list(tmp_path.glob("*.toml"))
        assert len(written) == 1
        text = written[0].read_text()
        assert "lr = 0.5" in text and "seed = 0" in text
        assert str(written[0]) in notifications(app)[-1]


async def test_own_input_text_is_stepped_through(wait_for, make_fake_lab):
    lab_obj = make_fake_lab()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(100, 30)) as pilot:
        lab = await _open(pilot, app, wait_for)
        await pilot.press("i")
        await pilot.pause(0.1)
        prompt = app.screen.query_one("#prompt-input")
        assert prompt.value == "hello"
        prompt.value = "abc"
        await pilot.press("enter")
        await wait_for(pilot, lambda: lab.frame.T == 3, what="new input")
        assert lab.frame.panel("input").tokens == ("a", "b", "c")


async def test_generate_without_generate_is_a_warning(wait_for, notifications, make_fake_lab):
    lab_obj = make_fake_lab()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(100, 30)) as pilot:
        await _open(pilot, app, wait_for)
        await pilot.press("g")
        assert "does not generate text" in notifications(app)[-1]


async def test_play_runs_to_the_end_and_stops(wait_for, make_fake_lab):
    lab_obj = make_fake_lab()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(100, 30)) as pilot:
        lab = await _open(pilot, app, wait_for)
        await pilot.press("plus", "plus")
        await pilot.press("space")
        await wait_for(
            pilot, lambda: lab.frame.t == 4 and not lab.player.playing, what="played to the end"
        )
        await pilot.press("home")
        await wait_for(pilot, lambda: lab.frame.t == -1, what="first")
        await pilot.press("end")
        await wait_for(pilot, lambda: lab.frame.t == 4, what="last")


async def test_theme_and_no_color_reach_the_renderer(wait_for, make_fake_lab, monkeypatch):
    lab_obj = make_fake_lab()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(100, 30)) as pilot:
        lab = await _open(pilot, app, wait_for)
        await pilot.press("right")
        await wait_for(pilot, lambda: "h_t" in lab.boxes, what="matrices")
        await pilot.pause(0.1)
        assert lab.render_options().dark and lab.render_options().color
        before = lab.boxes["h_t"].cells._lines
        app.theme = "textual-light"
        await pilot.pause(0.2)
        assert not lab.render_options().dark
        assert lab.boxes["h_t"].cells._lines != before  # redrawn with light-theme colours
        monkeypatch.setenv("NO_COLOR", "1")
        assert not lab.render_options().color


async def test_divergence_stops_training_with_a_notification(
    wait_for, notifications, make_fake_lab
):
    lab_obj = make_fake_lab()
    lab_obj.train_one = lambda: float("nan")
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(100, 30)) as pilot:
        lab = await _open(pilot, app, wait_for)
        await pilot.press("t")
        await wait_for(
            pilot,
            lambda: any("diverged" in n for n in notifications(app)),
            what="divergence notification",
        )
        assert "training diverged at update 1: loss = nan" in notifications(app)[-1]
        assert not lab.session.training
        await wait_for(pilot, lambda: not lab.query_one("#trainbar").display, what="bar hidden")
        await pilot.press("right")
        await wait_for(pilot, lambda: lab.frame.t == 0, what="still steps")


async def test_panels_out_of_sight_are_drawn_when_scrolled_in(
    wait_for, make_fake_lab, monkeypatch
):
    monkeypatch.setattr(lab_screen, "CATCH_UP_S", 60.0)  # no catching up while still
    lab_obj = make_fake_lab()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(60, 14)) as pilot:
        lab = await _open(pilot, app, wait_for)
        await _first_step_drawn(pilot, lab, wait_for)
        await pilot.press("right")
        await wait_for(pilot, lambda: lab.frame.t == 1 and not lab._dirty, what="t = 1 drawn")
        await pilot.pause(0.1)
        assert lab.boxes["metrics"].stale  # below the fold at 60x14
        lab.query_one("#body").scroll_end(animate=False)
        await wait_for(pilot, lambda: not lab.boxes["metrics"].stale, what="drawn after scroll")
        assert _first_line(lab.boxes["metrics"]) == ["t", "1"]


async def _first_step_drawn(pilot, lab, wait_for) -> None:
    await pilot.press("right")
    await wait_for(pilot, lambda: lab.frame.t == 0 and not lab._dirty, what="t = 0 drawn")
    await pilot.pause(0.2)


def _first_line(box) -> list[str]:
    return "".join(segment.text for segment in box.body._lines[0]).split()


async def test_panels_out_of_sight_catch_up_once_the_screen_is_still(wait_for, make_fake_lab):
    lab_obj = make_fake_lab()
    app = TuiLabApp(lab_obj.scenario, lab=lab_obj)
    async with app.run_test(size=(60, 14)) as pilot:
        lab = await _open(pilot, app, wait_for)
        await _first_step_drawn(pilot, lab, wait_for)
        await pilot.pause(0.1)
        draws = lab.draws
        await pilot.press("right")
        await wait_for(pilot, lambda: lab.draws > draws, what="t = 1 drawn")
        assert lab.frame.t == 1 and lab.boxes["metrics"].stale  # skipped: below the fold
        await wait_for(pilot, lambda: not lab.boxes["metrics"].stale, what="caught up")
        assert lab.query_one("#body").scroll_offset.y == 0  # not scrolled to
        assert _first_line(lab.boxes["metrics"]) == ["t", "1"]
