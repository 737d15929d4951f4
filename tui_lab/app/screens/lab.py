"""The lab screen: the current Frame's panels, laid out from their kinds.

Sequences run across the top; matrices fill the wide left column; metrics,
predictions, series and text sit in a side column (below the matrices on a
narrow terminal). Everything scrolls. A memory network's memory and where its
heads point (matrices of group "memory") matter most and are wide (a slot per
column): they come first, at full width, with the weighting histories (group
"history") side by side under them, and only then the input bits.

Frames come from the compute thread as messages; the screen keeps only the
newest and redraws at most DRAW_HZ times a second, right away when it has been
idle, and only the panels in sight.

A box stays mounted once made: a frame without its panel hides it, and a later frame
shows it again without mounting it anew. While a lab opens, the screen lays out and
draws the first step's frame unseen (the session sends it along: LabReady.preview)
before it shows t = -1, with the boxes t = -1 lacks left in place, blank, so the first step
fills boxes already laid out at their width: no layout pass at all (tmux, 140x45: the
first step on screen in 16-44 ms over the bundled scenarios,
scripts/measure_first_step_tmux.py). It used to mount them, draw them at a guessed
width, lay them out, draw them again and lay them out again (char-textgen-lstm at
140x45: ~8x the UI work of a later step; scripts/measure_app_latency.py).
"""

from __future__ import annotations

import gc
import time
from datetime import datetime
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Label, ProgressBar

from tui_lab import frames
from tui_lab.app import messages
from tui_lab.app.player import Player
from tui_lab.app.screens.lab_actions import LabActions
from tui_lab.app.session import LabSession, loss_text
from tui_lab.app.widgets.panels import CellClicked, PanelBox, box_for
from tui_lab.app.widgets.status import TextLine
from tui_lab.render import RenderOptions
from tui_lab.render.colors import no_color_requested

DRAW_HZ = 30
CATCH_UP_S = 0.15  # still this long: draw the boxes skipped while out of sight
TICK_S = 1 / 50
NARROW = 110


PLACES = ("memory", "history", "inputs", "matrices", "side")


def settle_garbage() -> None:
    """Collect, and move what survives out of the collector's sight (gc.freeze).

    Why: Textual's Strips cache themselves (a strip of the right length is its own
    crop), so every repaint leaves thousands of small reference cycles. Their
    allocations and frees balance, so the collector's young generation is rarely
    triggered and grows to ~70,000 objects, then takes 50-115 ms to collect: a key
    pressed then waited for it (ntm-copy while training: max 108-166 ms). So the lab
    screen collects the young generation after every drawn frame (~0.1 ms, at most a
    few thousand objects), and when a lab opens, collects everything and freezes it, so
    the full collections that still come scan only what was made since.
    """
    gc.collect()
    gc.freeze()


def place_of(panel: frames.Panel) -> str:
    """The container a panel goes to, from its kind (and a matrix's group)."""
    if isinstance(panel, frames.Sequence):
        return "inputs"
    if isinstance(panel, frames.Matrix):
        return panel.group if panel.group in ("memory", "history") else "matrices"
    return "side"


def box_key(panel: frames.Panel) -> tuple[str, str, str]:
    """A box shows panels of one kind and name, in one place."""
    return (type(panel).__name__, panel.name, place_of(panel))


class LabScreen(LabActions, Screen):
    # Stepping keys take priority over the scroll container's own arrows, Home and End.
    BINDINGS = [
        Binding("right,n", "step", "Step", priority=True),
        Binding("left,p", "back", "Back", priority=True),
        Binding("space", "play", "Play", priority=True),
        Binding("t", "train", "Train"),
        Binding("escape", "cancel", "Stop", show=False),
        Binding("g", "generate", "Generate"),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("plus,equals_sign", "faster", "Faster", show=False),
        Binding("minus", "slower", "Slower", show=False),
        Binding("home", "first", "First", show=False, priority=True),
        Binding("end", "last", "Last", show=False, priority=True),
        Binding("r", "reset", "Reset", show=False),
        Binding("i", "own_input", "Own input", show=False),
        Binding("slash", "ask", "Ask", show=False),
        Binding("z", "zoom", "Zoom", show=False),
        Binding("right_square_bracket", "unit(1, 0)", "Next unit", show=False),
        Binding("left_square_bracket", "unit(-1, 0)", "Prev unit", show=False),
        Binding("right_curly_bracket", "unit(0, 1)", "Next row", show=False),
        Binding("left_curly_bracket", "unit(0, -1)", "Prev row", show=False),
        Binding("o", "picker", "Scenarios", show=False),
        Binding("ctrl+s", "save", "Save", show=False),
        Binding("ctrl+e", "export", "Export", show=False),
    ]

    def __init__(self, scenario, lab=None):
        super().__init__()
        self.scenario = scenario
        self.session = LabSession(scenario, self, lab=lab)
        self.frame: frames.Frame | None = None
        self.previous: dict = {}
        self.selection = None
        self.zoom = "auto"
        self.player = Player(
            step=lambda: self.session.call("step", "step"),
            first=lambda: self.session.call("first", "first"),
            in_flight=lambda: self.session.pending,
        )
        self.boxes: dict[str, PanelBox] = {}  # the current frame's, by panel name
        self._mounted: dict[tuple[str, str, str], PanelBox] = {}  # shown or hidden
        self._panel_key: tuple | None = None
        self._opening: tuple[frames.Frame, str] | None = None  # shown after the preview
        self._preview: frames.Frame | None = None  # the first step's frame, drawn unseen
        self._dirty = False
        self._last_draw = 0.0
        self.live_step = 0
        self.live_loss = None
        self.train_label = ""
        self.draws = 0

    # ---- building -----------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield TextLine(id="status")
        with Vertical(id="loading"):
            yield Label(f"Opening {self.scenario.name} ...", id="loading-label")
            yield ProgressBar(id="loading-bar", show_eta=False)
        with VerticalScroll(id="body"):
            yield Vertical(id="memory")
            yield Horizontal(id="history")
            yield Vertical(id="inputs")
            with Horizontal(id="main"):
                yield Vertical(id="matrices")
                yield Vertical(id="side")
        with Horizontal(id="trainbar"):
            yield TextLine("", id="train-label")
            yield ProgressBar(id="train-progress", show_eta=True)
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#body").display = False
        self.query_one("#trainbar").display = False
        self.set_interval(TICK_S, self._tick)
        self.watch(self.app, "theme", lambda _: self.request_draw(force=True), init=False)
        self._update_status()
        self.session.start()

    def on_unmount(self) -> None:
        self.session.close()

    def on_resize(self, event) -> None:
        self.set_class(event.size.width < NARROW, "narrow")
        self.call_after_refresh(self.request_draw, True)

    # ---- messages from the compute thread ---------------------------------------------
    def on_lab_ready(self, message: messages.LabReady) -> None:
        settle_garbage()
        self.scenario = message.lab.scenario
        self.query_one("#loading").display = False
        self.query_one("#body").display = True
        self._forget_boxes_but(message.frame, message.preview)
        self.previous = {}
        self.frame = None
        self._opening = (message.frame, message.note)
        preview = self._preview = message.preview
        if preview is None or all(box_key(panel) in self._mounted for panel in preview.panels):
            self._show_opened()
            return
        # Lay out and draw the first step's frame unseen, then show t = -1 (_draw_ahead).
        self.query_one("#body").styles.opacity = 0.0
        boxes = self._arrange(preview)
        self._panel_key = None  # the next frame arranges the boxes for itself
        self.call_after_refresh(self._draw_ahead, preview, boxes)
        self.set_timer(5.0, self._show_opened)  # in case no layout pass comes (a key ends it too)

    def _draw_ahead(self, preview: frames.Frame, boxes: dict[str, PanelBox]) -> None:
        """Poll until the preview's boxes are laid out, drawn at their width and laid out
        again to what they drew (so showing them at the first step changes no size and
        needs one layout pass); then show the opened lab's frame."""
        if self._opening is None:
            return  # a frame came first, or the time ran out
        if all(box.content_size.width > 4 for box in boxes.values()):
            options = self.render_options()
            # Out of sight too: a box blank at t = -1 keeps the size drawn here, and one
            # never drawn would grow when first scrolled to.
            for panel in preview.panels:
                boxes[panel.name].show(panel, options)  # draws only what changed
            if all(boxes[panel.name].settled() for panel in preview.panels):
                self._show_opened()
                return
        self.set_timer(0.01, lambda: self._draw_ahead(preview, boxes))

    def _show_opened(self) -> None:
        if self._opening is None:
            return
        frame, note = self._opening
        self._opening = None
        body = self.query_one("#body")
        if body.styles.opacity < 1:
            body.styles.opacity = 1.0
            # Opacity repaints the body's children, not the scrollbars, which would keep
            # the colours they were painted with unseen (a black thumb).
            for widget in body.walk_children(with_self=True):
                if isinstance(widget, Widget) and widget.is_scrollable:
                    if widget.show_vertical_scrollbar:
                        widget.vertical_scrollbar.refresh()
                    if widget.show_horizontal_scrollbar:
                        widget.horizontal_scrollbar.refresh()
        self._set_frame(frame)
        if self._dirty:  # drawn now, so the boxes are those of the frame shown
            self.draw()
        if note:
            self.notify(note, title="scenario changed")

    def _forget_boxes_but(self, *kept: frames.Frame | None) -> None:
        """Unmount the boxes of panels in none of `kept` (a rebuilt lab's other panels)."""
        keys = {box_key(panel) for frame in kept if frame is not None for panel in frame.panels}
        for key in [key for key in self._mounted if key not in keys]:
            self._mounted.pop(key).remove()

    def on_frame_ready(self, message: messages.FrameReady) -> None:
        self._show_opened()  # a key pressed at once: show t = -1 first (previous panels)
        self._set_frame(message.frame)
        if message.note:
            self.notify(message.note)

    def on_warmup_progress(self, message: messages.WarmupProgress) -> None:
        if message.total == 0:
            return
        label = self.query_one("#loading-label", Label)
        bar = self.query_one("#loading-bar", ProgressBar)
        self.query_one("#loading").display = True
        bar.update(total=message.total, progress=message.done)
        if message.label:
            label.update(
                f"Compiling kernels (first start only; later starts use Numba's cache): "
                f"{message.label}  [{message.done + 1}/{message.total}]"
            )
        else:
            label.update("Kernels compiled.")

    def on_job_failed(self, message: messages.JobFailed) -> None:
        error = message.error
        text = str(error) or type(error).__name__
        self.notify(f"{message.what}: {text}", title="error", severity="error", timeout=8)
        if message.what == "open":
            self.query_one("#loading-label", Label).update(
                f"Could not open {self.scenario.name}: {text}\n"
                "Press o for the scenario list, ctrl+p to change a value, q to quit."
            )
        self.player.pause()
        self._update_status()

    def on_train_progress(self, message: messages.TrainProgress) -> None:
        bar = self.query_one("#train-progress", ProgressBar)
        bar.update(total=message.total, progress=message.done)
        self.live_step = message.train_step
        self.live_loss = message.loss
        self.train_label = (
            f"training {message.done}/{message.total} · loss {loss_text(message.loss)} · Esc stops"
        )
        self.query_one("#train-label", TextLine).update(self.train_label)
        self._update_status()

    def on_train_finished(self, message: messages.TrainFinished) -> None:
        self.query_one("#trainbar").display = False
        self.train_label = ""
        if message.error is not None:
            self.notify(f"training stopped: {message.error}", title="error", severity="error")
        elif message.stopped:
            self.notify(f"training stopped after {message.done} of {message.total} updates")
        else:
            self.notify(f"trained {message.done} updates · loss {loss_text(self.live_loss)}")
        self._update_status()

    def on_notice(self, message: messages.Notice) -> None:
        self.notify(message.text, title=message.title, severity=message.severity, timeout=10)

    @on(CellClicked)
    def _cell_clicked(self, message: CellClicked) -> None:
        from tui_lab.app.selection import select_cell

        chosen = select_cell(self.frame, message.panel, message.row, message.col)
        self.selection = None if chosen == self.selection else chosen
        self.request_draw(force=True)

    # ---- drawing --------------------------------------------------------------------
    def _set_frame(self, frame: frames.Frame) -> None:
        if self.frame is not None and frame is not self.frame:
            self.previous = {panel.name: panel for panel in self.frame.panels}
        self.frame = frame
        self.player.shown(frame.t, frame.T)
        self.request_draw()

    def request_draw(self, force: bool = False) -> None:
        self._dirty = True
        if force or time.perf_counter() - self._last_draw >= 1 / DRAW_HZ:
            self.draw()

    def _tick(self) -> None:
        now = time.perf_counter()
        if (self._dirty or self._stale_in_sight()) and now - self._last_draw >= 1 / DRAW_HZ:
            self.draw()
        elif now - self._last_draw >= CATCH_UP_S and self._opening is None:
            self._catch_up()
        if self.frame is not None:
            self.player.tick(now)

    def render_options(self) -> RenderOptions:
        return RenderOptions(
            dark=self.app.current_theme.dark,
            color=not no_color_requested(),
            zoom=self.zoom,
            selection=self.selection,
            previous=self.previous,
        )

    def draw(self) -> None:
        self._dirty = False
        self._last_draw = time.perf_counter()
        frame = self.frame
        self._update_status()
        if frame is None:
            return
        laid_out = self._layout_frame(frame)
        key = tuple(box_key(panel) for panel in laid_out.panels)
        if key != self._panel_key:
            self.boxes = self._arrange(laid_out)
            self._panel_key = key
            # New boxes drew at a fallback width: again once laid out.
            self.call_after_refresh(self.request_draw, True)
        options = self.render_options()
        viewport = self.query_one("#body").region
        present = {panel.name for panel in frame.panels}
        for panel in laid_out.panels:
            box = self.boxes[panel.name]
            if panel.name not in present:
                box.blank()  # the first step fills it
                continue
            panel = frame.panel(panel.name)
            # Panels scrolled out of sight wait until they scroll back in (a 20-panel NTM
            # frame draws only what is on screen), once drawn at their laid-out width: a
            # box drawn only at the fallback width would keep that height (and the page
            # its length) until scrolled to, by how fast the keys came.
            drawn = box.drawn_width == box.content_size.width
            if box.region.area and drawn and not box.region.overlaps(viewport):
                box.stale = True
                continue
            box.stale = False
            box.show(panel, options)
        self.draws += 1
        self.call_after_refresh(gc.collect, 0)  # see settle_garbage

    def _catch_up(self) -> None:
        """Once the screen has been still for CATCH_UP_S, draw the boxes skipped while out of
        sight, so their heights (and the page's length, the scrollbar) are the current
        frame's, not those of whichever frame was drawn when they last came into view."""
        frame = self.frame
        stale = [box for box in self.boxes.values() if box.stale]
        if frame is None or not stale:
            return
        options = self.render_options()
        for panel in frame.panels:
            box = self.boxes.get(panel.name)
            if box is not None and box.stale:
                box.show(panel, options)
        for box in stale:  # a box of a panel this frame lacks has nothing to catch up
            box.stale = False
        self.draws += 1
        self._last_draw = time.perf_counter()

    def _layout_frame(self, frame: frames.Frame) -> frames.Frame:
        """The frame whose panels the boxes are arranged for: before the first step (t = -1)
        the first step's (the preview drawn while the lab opened), its panels that t = -1
        lacks shown blank, so the first step changes no box's size or place and costs no
        layout pass (ntm-copy: 8 panels at t = -1, 17 at t = 0); otherwise `frame`."""
        preview = self._preview
        if frame.t != -1 or preview is None:
            return frame
        keys = {box_key(panel) for panel in preview.panels}
        if all(box_key(panel) in keys for panel in frame.panels):
            return preview
        return frame

    def _stale_in_sight(self) -> bool:
        """A panel skipped while out of sight has scrolled (or been resized) into view."""
        viewport = self.query_one("#body").region
        return any(box.stale and box.region.overlaps(viewport) for box in self.boxes.values())

    def _arrange(self, frame: frames.Frame) -> dict[str, PanelBox]:
        """Show the boxes of `frame`'s panels in its order, mounting those not made yet;
        hide the others. Returns the shown boxes by panel name."""
        shown: dict[str, PanelBox] = {}
        places: dict[str, list[PanelBox]] = {place: [] for place in PLACES}
        new: dict[str, list[PanelBox]] = {place: [] for place in PLACES}
        for panel in frame.panels:
            key = box_key(panel)
            box = self._mounted.get(key)
            if box is None:
                box = self._mounted[key] = box_for(panel)
                new[key[2]].append(box)
            shown[panel.name] = box
            places[key[2]].append(box)
        ids = set(map(id, shown.values()))
        for box in self._mounted.values():
            box.display = id(box) in ids
        for place, boxes in places.items():
            container = self.query_one(f"#{place}")
            # New boxes go where the frame has them (moving a box still mounting, or
            # mounting all at the end and moving them, lost a layout pass now and then).
            for index, box in enumerate(boxes):
                if box in new[place]:
                    if index:
                        container.mount(box, after=boxes[index - 1])
                    elif container.children:
                        container.mount(box, before=0)
                    else:
                        container.mount(box)
            if [child for child in container.children if id(child) in ids] != boxes:
                container.move_child(boxes[0], before=0)
                for before, box in zip(boxes, boxes[1:], strict=False):
                    container.move_child(box, after=before)
            container.display = bool(boxes)
        # Several inputs (NTM: input, target and output bits) sit side by side.
        self.query_one("#inputs").set_class(len(places["inputs"]) > 1, "several")
        return shown

    def status_line(self) -> str:
        parts = [self.scenario.stem]
        frame = self.frame
        if frame is None:
            parts.append("t = - · opening")
            return " · ".join(parts)
        t = f"t = {frame.t}" if frame.t >= 0 else "t = -"
        parts.append(f"{t} of {frame.T}")
        if frame.phase != "forward":
            parts.append(frame.phase)
        step, loss = frame.train_step, frame.loss
        if self.live_step > step:
            step, loss = self.live_step, self.live_loss
        parts.append(f"train step {step}")
        parts.append(f"loss {loss_text(loss)}")
        parts.append(self.player.status())
        if self.selection is not None:
            parts.append(f"unit: {self.selection.label()}")
        if self.zoom != "auto":
            parts.append(f"zoom {self.zoom}")
        if frame.status:
            parts.append(frame.status)
        return " · ".join(parts)

    def _update_status(self) -> None:
        self.query_one("#status", TextLine).update(self.status_line())

    # ---- files ------------------------------------------------------------------------
    def stamped_path(self, suffix: str) -> Path:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        return Path.cwd() / f"{self.session.scenario.stem}-{stamp}{suffix}"
