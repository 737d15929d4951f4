"""Every lab kind opens on the screen, steps, zooms and selects at 80x24.

The screen has no code per kind: this is what "a new lab kind needs no screen
code" means in practice. One bundled scenario per kind (the first by name).
"""

import pytest

from tui_lab.app.app import TuiLabApp
from tui_lab.app.catalog import load_catalog
from tui_lab.frames import Matrix
from tui_lab.registry import resolve


def _one_per_kind() -> list[str]:
    first: dict[str, str] = {}
    for entry in load_catalog().entries:
        first.setdefault(entry.kind, entry.stem)
    return sorted(first.values())


@pytest.mark.parametrize("name", _one_per_kind())
async def test_kind_steps_on_a_small_terminal(name, wait_for, notifications):

    app = TuiLabApp(resolve(name))
    async with app.run_test(size=(80, 24)) as pilot:
        lab = app.screen
        await wait_for(pilot, lambda: lab.frame is not None, timeout=120, what="first frame")
        steps = min(2, lab.frame.T)
        for _ in range(steps):
            await pilot.press("right")
        await wait_for(pilot, lambda: lab.frame.t == steps - 1, what=f"t = {steps - 1}")
        await pilot.press("z", "right_square_bracket")
        await wait_for(pilot, lambda: not lab._dirty, what="drawn")
        await pilot.pause(0.1)
        assert set(lab.boxes) == {panel.name for panel in lab.frame.panels}
        if lab.frame.panels_of(Matrix):
            assert lab.selection is not None
        errors = [text for text in notifications(app) if text.startswith("error")]
        assert errors == []
        assert f"t = {steps - 1} of {lab.frame.T}" in lab.status_line()
