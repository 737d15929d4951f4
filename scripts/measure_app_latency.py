"""Measure the lab screen's speed headless: keypress -> repainted frame, play fps.

    python scripts/measure_app_latency.py [SCENARIO] [--size 140x45] [--keys 20]

Timestamps: the key's action runs on the UI thread (t_key); the compute thread
steps the lab; the screen draws the new Frame (t_draw); Textual's compositor
then repaints the screen (t_paint, the end of the next Screen._compositor_refresh
after the draw). Reported: the first step after opening (key -> first paint, and
key -> the last repaint before the screen is still for 0.5 s: the panels that step
mounts, laid out and drawn at their width; since the screen draws the boxes it skipped
out of sight once it has been still for 0.15 s, that repaint comes ~150 ms after the key
by design), key -> paint per press (median, max), the same while training runs in the
background (with the splits of the presses over 50 ms), and frames drawn per second in
play mode at the top speed. Headless: no terminal I/O, which adds a little in a real terminal
(scripts/measure_first_step_tmux.py times the first step in tmux).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from textual.screen import Screen

from tui_lab.app.app import TuiLabApp
from tui_lab.app.screens import lab as lab_module
from tui_lab.registry import resolve

marks: dict[str, float] = {}
splits: list[tuple[float, float, float]] = []
paints: list[tuple[float, float]] = []  # (wall, UI-thread CPU) at the end of each repaint


def instrument() -> None:
    original_step = lab_module.LabScreen.action_step
    original_draw = lab_module.LabScreen.draw
    original_refresh = Screen._compositor_refresh

    def action_step(self):
        marks["key"] = time.perf_counter()
        marks["key_cpu"] = time.thread_time()
        marks.pop("draw", None)
        marks.pop("paint", None)
        original_step(self)

    def draw(self):
        original_draw(self)
        if "key" in marks and "draw" not in marks:
            marks["draw"] = time.perf_counter()

    def compositor_refresh(self):
        original_refresh(self)
        paints.append((time.perf_counter(), time.thread_time()))
        if "draw" in marks and "paint" not in marks:
            marks["paint"] = time.perf_counter()
            marks["paint_cpu"] = time.thread_time()

    lab_module.LabScreen.action_step = action_step
    lab_module.LabScreen.draw = draw
    Screen._compositor_refresh = compositor_refresh


async def until(predicate, timeout: float = 60.0) -> None:
    deadline = time.perf_counter() + timeout
    while not predicate():
        if time.perf_counter() > deadline:
            raise RuntimeError("timed out")
        await asyncio.sleep(0.005)


async def press_and_wait(pilot, key: str) -> float:
    marks.clear()
    await pilot.press(key)
    deadline = time.perf_counter() + 5
    while "paint" not in marks:
        if time.perf_counter() > deadline:
            raise RuntimeError(f"no repaint within 5 s: {sorted(marks)} t={app_screen().frame.t}")
        await asyncio.sleep(0.001)
    splits.append(
        (
            (marks["draw"] - marks["key"]) * 1000,
            (marks["paint"] - marks["draw"]) * 1000,
            (marks["paint_cpu"] - marks["key_cpu"]) * 1000,
        )
    )
    return (marks["paint"] - marks["key"]) * 1000


async def run(name: str, width: int, height: int, presses: int) -> None:
    global app_screen
    instrument()
    app = TuiLabApp(resolve(name))
    app_screen = lambda: app.screen  # noqa: E731
    async with app.run_test(size=(width, height)) as pilot:
        screen = app.screen
        await until(lambda: screen.frame is not None)
        await pilot.pause(0.5)  # the opened screen is painted and still
        first = await press_and_wait(pilot, "right")  # first step mounts the panels
        while time.perf_counter() - paints[-1][0] < 0.5:
            await asyncio.sleep(0.05)
        settled = (paints[-1][0] - marks["key"]) * 1000
        settled_cpu = (paints[-1][1] - marks["key_cpu"]) * 1000
        key_draw, draw_paint, first_cpu = splits[-1]
        print(
            f"{name} at {width}x{height}: first step after opening: key -> first paint "
            f"{first:.1f} ms (key -> drawn {key_draw:.1f}, drawn -> painted {draw_paint:.1f}; "
            f"UI-thread CPU {first_cpu:.1f}); key -> last repaint {settled:.1f} ms "
            f"(UI-thread CPU {settled_cpu:.1f})"
        )
        times = []
        for _ in range(presses):
            if screen.frame.t >= screen.frame.T - 1:
                await pilot.press("home")
                await pilot.pause(0.2)
            times.append(await press_and_wait(pilot, "right"))
            await pilot.pause(0.06)
        key_draw = statistics.median(a for a, _, _ in splits[-presses:])
        draw_paint = statistics.median(b for _, b, _ in splits[-presses:])
        cpu = statistics.median(c for _, _, c in splits[-presses:])
        print(
            f"  split: key -> drawn {key_draw:.1f} ms, drawn -> painted {draw_paint:.1f} ms; "
            f"UI-thread CPU key -> painted {cpu:.1f} ms"
        )
        print(
            f"{name} at {width}x{height}: key -> repaint over {presses} steps: "
            f"median {statistics.median(times):.1f} ms, "
            f"90th percentile {sorted(times)[int(0.9 * (len(times) - 1))]:.1f} ms, "
            f"max {max(times):.1f} ms; all: {' '.join(f'{t:.0f}' for t in times)}"
        )

        # Play mode over a long input (the scenario's own text, repeated).
        text = getattr(screen.session.lab, "text", None)
        if isinstance(text, str):
            text = (text * 8)[:200]
            screen.session.reset(new_input=text)
            await until(lambda: screen.frame.T == len(text))
        else:
            await pilot.press("home")
            await pilot.pause(0.3)
        screen.player.fastest()
        draws, t0 = screen.draws, screen.frame.t
        start = time.perf_counter()
        await pilot.press("space")
        await until(lambda: not screen.player.playing)
        elapsed = time.perf_counter() - start
        steps = screen.frame.t - t0
        print(
            f"play at {screen.player.speed}/s over {steps} steps: {steps / elapsed:.1f} "
            f"steps/s, {(screen.draws - draws) / elapsed:.1f} draws/s"
        )

        # A long training run (more epochs: the model is rebuilt) to press keys during.
        if name == "char-textgen":
            lab = screen.session.lab
            screen.apply_assignment("train.epochs=5000")
            await until(lambda: screen.session.lab is not lab)
            await pilot.pause(0.2)
        await pilot.press("t")
        await until(lambda: screen.session.training or screen.live_step > 0)
        busy = []
        for _ in range(presses):
            if not screen.session.training:
                break
            if screen.frame.t >= screen.frame.T - 1:
                await pilot.press("home")  # not timed: wait for its frame first
                await pilot.pause(0.2)
            busy.append(await press_and_wait(pilot, "right"))
            await pilot.pause(0.05)
        await pilot.press("escape")
        if busy:
            print(
                f"while training: key -> repaint median {statistics.median(busy):.1f} ms, "
                f"max {max(busy):.1f} ms over {len(busy)} presses; all: "
                f"{' '.join(f'{t:.0f}' for t in busy)}"
            )
            slow = [s for t, s in zip(busy, splits[-len(busy):], strict=True) if t > 50]
            if slow:
                print("  the slow ones, key -> drawn / drawn -> painted / UI CPU ms: " + ", ".join(
                    f"{a:.0f}/{b:.0f}/{c:.0f}" for a, b, c in slow))
        await until(lambda: not screen.session.training)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", nargs="?", default="char-textgen")
    parser.add_argument("--size", default="140x45")
    parser.add_argument("--keys", type=int, default=20)
    args = parser.parse_args()
    width, height = (int(part) for part in args.size.split("x"))
    asyncio.run(run(args.scenario, width, height, args.keys))


if __name__ == "__main__":
    main()
