"""A widget that shows ready-made lines (Textual's line API).

Static.update re-lays out the whole screen on every call; a lab redraws up to
twenty panels 25 times a second. LinesView takes Segment lines (or a Rich
renderable, rendered here at a given width), asks for a new layout only when
its size changes, and turns only the lines actually painted into Strips (a
128-row memory matrix mostly sits outside the viewport).
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.segment import Segment
from textual.strip import Strip
from textual.widget import Widget


class LinesView(Widget):
    DEFAULT_CSS = "LinesView { width: auto; height: auto; }"

    def __init__(self, classes: str | None = None):
        super().__init__(classes=classes)
        self._lines: list[list[Segment]] = []
        self._strips: list[Strip | None] = []
        self._width = 0
        self._strip_width = -1
        self._style = None
        self._auto_width: bool | None = None
        self._drawn_for: int | None = None

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._style = None
        self._strips = [None] * len(self._lines)

    def set_lines(
        self, lines: list[list[Segment]], width: int | None = None, drawn_for: int | None = None
    ) -> None:
        """Show `lines`; `width` (cells) if known, else measured. `drawn_for`: the width the
        caller drew them for (lines drawn for another width do not keep the old height)."""
        if lines == self._lines:
            return  # nothing changed: no repaint
        if width is None:
            width = max((Segment.get_line_length(line) for line in lines), default=0)
        same_width, self._drawn_for = drawn_for == self._drawn_for, drawn_for
        if len(lines) < len(self._lines) and same_width:
            # Keep the height a panel once had (a top-5 list that sometimes has a sixth
            # line): a shorter panel would re-lay out the whole screen on every step. Not
            # across widths: lines drawn for a narrower width (a box drawn before its
            # first layout) would leave blank rows, and make the screen depend on history.
            lines = lines + [[] for _ in range(len(self._lines) - len(lines))]
            if lines == self._lines:
                return
        # A width set in CSS (1fr) does not depend on the content: only auto widths re-layout.
        if self._auto_width is None:  # read once: our own inline width below is no CSS
            self._auto_width = self.styles.width is None or self.styles.width.is_auto
        resized = len(lines) != len(self._lines) or (self._auto_width and width != self._width)
        self._lines, self._width = lines, width
        self._strips = [None] * len(lines)
        if resized:
            # The size as an inline style, not only as content size: Textual caches a
            # widget's box model by its layout count, which a layout refresh asked while
            # one is pending does not bump, so a box sometimes kept its old height (a
            # panel cut short by a line). A style change always misses that cache.
            self.styles.height = len(lines)
            if self._auto_width:
                self.styles.width = width
        self.refresh(layout=resized)

    def blank(self) -> None:
        """Show as many empty lines at the same width: no new layout."""
        self.set_lines([[] for _ in self._lines], self._width, drawn_for=self._drawn_for)

    def set_renderable(self, renderable: RenderableType, width: int) -> None:
        console = self.app.console
        options = console.options.update(width=max(1, width), no_wrap=False, highlight=False)
        self.set_lines(console.render_lines(renderable, options, pad=False), drawn_for=width)

    @property
    def is_blank(self) -> bool:
        return not any(self._lines)

    @property
    def line_count(self) -> int:
        return len(self._lines)

    def get_content_width(self, container, viewport) -> int:
        return self._width

    def get_content_height(self, container, viewport, width) -> int:
        return len(self._lines)

    def render_line(self, y: int) -> Strip:
        if self._style is None:
            self._style = self.rich_style  # walks the DOM: once per style change, not per line
        width = self.size.width
        if width != self._strip_width:  # strips are cached at one width
            self._strip_width = width
            self._strips = [None] * len(self._lines)
        if y >= len(self._lines):
            return Strip.blank(width, self._style)
        strip = self._strips[y]
        if strip is None:
            # Segments without a background take the widget's (the theme's). The same Strip
            # object is returned on every repaint: Textual caches work per Strip.
            strip = Strip(self._lines[y]).apply_style(self._style)
            strip = strip.crop_extend(0, width, self._style)
            self._strips[y] = strip
        return strip
