"""The NTM screen: memory, each head's weighting and its history in sight together.

At 140x45 all of them fit with every one of the 128 slots; at 80x24 the memory and the
heads come first (a window of slots around the heads' focus), the bits after them.
"""

import numpy as np
import pytest

from tui_lab.app.app import TuiLabApp
from tui_lab.registry import resolve

HEADS = ("read 0", "write 0")


async def _stepped(pilot, app, wait_for, steps=3):
    lab = app.screen
    await wait_for(pilot, lambda: lab.frame is not None, timeout=180, what="first frame")
    for _ in range(steps):
        await pilot.press("right")
    await wait_for(pilot, lambda: lab.frame.t == steps - 1, timeout=60, what="stepped")
    await wait_for(pilot, lambda: "write 0 weighting history" in lab.boxes, what="boxes")
    await pilot.pause(0.3)
    await wait_for(pilot, lambda: not lab._dirty, what="drawn")
    return lab


def _in_sight(lab, name) -> bool:
    viewport = lab.query_one("#body").region
    region = lab.boxes[name].region
    return region.area > 0 and viewport.contains_region(region)


@pytest.mark.parametrize("scenario", ["ntm-copy", "ntm-repeat-copy"])
async def test_memory_weightings_and_histories_are_in_sight_at_140x45(scenario, wait_for):
    app = TuiLabApp(resolve(scenario).with_overrides(["model.hidden=8"]))
    async with app.run_test(size=(140, 45)) as pilot:
        lab = await _stepped(pilot, app, wait_for)
        for name in ("memory M_t", "weightings", *(f"{h} weighting history" for h in HEADS)):
            assert _in_sight(lab, name), name
        # Every slot drawn, one column each, in the same columns in memory and weightings.
        memory, weightings = (lab.boxes[n].cells.layout for n in ("memory M_t", "weightings"))
        assert memory.bands == ((0, 128),) == weightings.bands
        assert memory.label_width == weightings.label_width
        assert lab.boxes["memory M_t"].region.x == lab.boxes["weightings"].region.x
        for name in ("memory M_t", "weightings"):  # drawn at the box's width, all of it shown
            cells = lab.boxes[name].cells
            assert cells.size.width >= cells.layout.width > 128
        # Each head's row of the weightings is drawn (r0, w0 under the header line).
        rows = [line[0].text.strip() for line in lab.boxes["weightings"].cells._lines[1:]]
        assert rows == ["r0", "w0"]
        # The histories sit side by side.
        read, write = (lab.boxes[f"{h} weighting history"].region for h in HEADS)
        assert read.y == write.y and read.right <= write.x


async def test_memory_and_heads_come_before_the_bits_at_80x24(wait_for):
    app = TuiLabApp(resolve("ntm-copy").with_overrides(["model.hidden=8"]))
    async with app.run_test(size=(80, 24)) as pilot:
        lab = await _stepped(pilot, app, wait_for)
        assert _in_sight(lab, "memory M_t") and _in_sight(lab, "weightings")
        bits = lab.boxes["input bits"].region
        for name in ("memory M_t", "weightings", *(f"{h} weighting history" for h in HEADS)):
            assert lab.boxes[name].region.bottom <= bits.y, name
        # 128 slots do not fit in 80 columns: a window around the heads' focus, named.
        layout = lab.boxes["memory M_t"].cells.layout
        (start, stop), focus = layout.bands[0], lab.frame.panel("memory M_t").focus
        assert layout.windowed and start <= focus < stop
        assert stop - start > 60  # the box's real width, not the fallback before layout
        head = "".join(seg.text for seg in lab.boxes["memory M_t"].head._lines[0])
        assert f"slots {start}-{stop - 1} of 128" in head


async def test_an_episode_of_a_length_given_from_the_palette_marks_its_wrong_bits(wait_for):
    from tui_lab.app.screens.prompt import PromptScreen

    app = TuiLabApp(resolve("ntm-copy").with_overrides(["model.hidden=8"]))
    async with app.run_test(size=(140, 45)) as pilot:
        lab = await _stepped(pilot, app, wait_for, steps=1)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"episode of a length")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="the prompt")
        await pilot.press(*"120", "enter")
        # copy: 120 vectors in, the delimiter, 120 out
        await wait_for(pilot, lambda: lab.frame.T == 241, timeout=120, what="walk")
        for _ in range(150):
            await pilot.press("right")
        await wait_for(pilot, lambda: lab.frame.t == 149, timeout=60, what="stepped")
        panel = lab.frame.panel("wrong bits")
        outputs, targets = lab.frame.panel("output bits").bits, lab.frame.panel("target bits").bits
        scored = (np.arange(241) > 120) & (np.arange(241) <= 149)  # written back, stepped so far
        want = ((outputs > 0.5) != (targets > 0.5)) & scored[:, None]
        np.testing.assert_array_equal(panel.bits > 0, want)
        assert want.any()  # an untrained model gets bits wrong: the marks are there to see
        await wait_for(pilot, lambda: "wrong bits" in lab.boxes, what="the wrong bits box")
