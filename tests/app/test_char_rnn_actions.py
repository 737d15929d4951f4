"""g, ctrl+s and the palette's "open scenario" on the real char-textgen lab."""

from tui_lab.app.app import TuiLabApp
from tui_lab.app.screens.lab import LabScreen
from tui_lab.registry import load_checkpoint, resolve


async def test_generate_save_and_open_another(wait_for, notifications, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = TuiLabApp(resolve("char-textgen"))
    async with app.run_test(size=(120, 40)) as pilot:
        lab = app.screen
        await wait_for(pilot, lambda: lab.frame is not None, what="first frame")

        await pilot.press("g")
        await wait_for(
            pilot,
            lambda: any(t.startswith("generated:") for t in notifications(app)),
            what="generated text",
        )
        generated = [t for t in notifications(app) if t.startswith("generated:")][0]
        assert generated.startswith("generated: This is G")
        await wait_for(pilot, lambda: "generated" in lab.boxes, what="text panel")

        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: list(tmp_path.glob("*.npz")), what="checkpoint")
        checkpoint = next(tmp_path.glob("char-textgen-*.npz"))
        restored = load_checkpoint(checkpoint)
        assert restored.scenario.name == "Char-RNN text generator"

        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"open scenario char")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, LabScreen) and app.screen is not lab,
            what="a new lab screen",
        )
        await wait_for(pilot, lambda: app.screen.frame is not None, what="its first frame")
