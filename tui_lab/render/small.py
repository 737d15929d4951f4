"""The small panels: Scalars (key/value), TopK (ranked predictions), Text."""

from __future__ import annotations

import numpy as np
from rich.table import Table
from rich.text import Text as RichText

from tui_lab.frames import Scalars, Text, TopK
from tui_lab.render import colors
from tui_lab.render.options import RenderOptions

BAR_WIDTH = 16


def scalars_renderable(panel: Scalars, options: RenderOptions) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="dim", no_wrap=True)
    table.add_column(no_wrap=True)
    for key, value in panel.values.items():
        shown = f"{value:.5g}" if isinstance(value, float) else str(value)
        table.add_row(key, shown)
    return table


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """A horizontal bar of eighth-blocks, `fraction` (0..1) of `width` cells long."""
    fraction = min(1.0, max(0.0, float(fraction))) if np.isfinite(fraction) else 0.0
    eighths = int(round(fraction * width * 8))
    full, rest = divmod(eighths, 8)
    return ("█" * full + ("▏▎▍▌▋▊▉"[rest - 1] if rest else "")).ljust(width)


def topk_renderable(panel: TopK, options: RenderOptions) -> RichText:
    """`'e' ███▌ 41.0% <- actual next`, one line per prediction, best first."""
    width = max(4, min(BAR_WIDTH, options.width - 24))
    label_width = max([len(repr(label)) for label, _ in panel.items] + [3])
    text = RichText(no_wrap=True, overflow="ellipsis")
    for index, (label, prob) in enumerate(panel.items):
        hit = panel.target is not None and label == panel.target
        if index:
            text.append("\n")
        style = ("bold green" if options.color else "bold") if hit else ""
        text.append(repr(label).rjust(label_width), style)
        text.append(" " + bar(prob, width), "green" if options.color else "")
        text.append(f" {prob:6.1%}")
        if hit:
            text.append(" <- actual next", "dim")
    if panel.target is not None and all(label != panel.target for label, _ in panel.items):
        text.append(f"\nactual next {panel.target!r} is not in the top {len(panel.items)}", "dim")
    return text


def text_renderable(panel: Text, options: RenderOptions) -> RichText:
    if panel.values is None or not options.color:
        return RichText(panel.text)
    span = colors.value_range(panel.scale, panel.values)
    lvls = colors.levels(panel.values, span)
    text = RichText()
    for index, char in enumerate(panel.text):
        if index < len(lvls):
            text.append(char, colors.cell_style(int(lvls[index]), panel.scale, options.dark))
        else:
            text.append(char)
    return text
