"""Frames -> Rich renderables. Pure: never imports Textual.

`render_panel(panel, options)` draws one panel of any kind; `show_frame(frame,
console)` prints a whole Frame (the headless `--show` print). The screen uses
the same functions inside its widgets, so a heatmap looks the same everywhere.
"""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel as RichPanel
from rich.text import Text as RichText

from tui_lab import frames
from tui_lab.render.heatmap import heatmap, layout_for, legend, matrix_renderable, matrix_title
from tui_lab.render.options import RenderOptions, Selection
from tui_lab.render.sequence import sequence_renderable
from tui_lab.render.series import series_renderable
from tui_lab.render.small import scalars_renderable, text_renderable, topk_renderable

__all__ = [
    "RenderOptions",
    "Selection",
    "heatmap",
    "layout_for",
    "legend",
    "render_panel",
    "show_frame",
    "status_text",
]


def render_panel(panel: frames.Panel, options: RenderOptions) -> RenderableType:
    if isinstance(panel, frames.Matrix):
        return matrix_renderable(panel, options)
    if isinstance(panel, frames.Sequence):
        return sequence_renderable(panel, options)
    if isinstance(panel, frames.Series):
        return series_renderable(panel, options)
    if isinstance(panel, frames.Scalars):
        return scalars_renderable(panel, options)
    if isinstance(panel, frames.TopK):
        return topk_renderable(panel, options)
    if isinstance(panel, frames.Text):
        return text_renderable(panel, options)
    raise TypeError(f"no renderer for panel {type(panel).__name__}")


def status_text(frame: frames.Frame) -> str:
    """`t = N of T · train step S · loss L`: the line the screen always shows."""
    t = f"t = {frame.t}" if frame.t >= 0 else "t = -"
    parts = [f"{t} of {frame.T}", f"train step {frame.train_step}"]
    parts.append(f"loss {frame.loss:.4f}" if frame.loss is not None else "loss -")
    if frame.phase != "forward":
        parts.append(frame.phase)
    return " · ".join(parts)


def show_frame(frame: frames.Frame, console: Console, options: RenderOptions | None = None) -> None:
    """Print every panel of `frame` (title, status, then one box per panel)."""
    if options is None:
        color = not console.no_color and console.color_system is not None
        options = RenderOptions(width=max(20, console.width - 4), color=color)
    console.print(RichText(frame.title, "bold"))
    console.print(RichText(status_text(frame) + (f" · {frame.status}" if frame.status else "")))
    for panel in frame.panels:
        body = render_panel(panel, options)
        kind = type(panel).__name__
        title = f"{panel.name} ({kind})"
        if isinstance(panel, frames.Matrix):
            layout = layout_for(panel, options.width, options.zoom, options.color)
            title = f"{matrix_title(panel, layout)} ({kind})"
        console.print(RichPanel(Group(body), title=title, title_align="left", expand=False))
