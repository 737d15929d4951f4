"""A Sequence panel: the input strip with the current position marked.

Tokens are characters (drawn touching, with visible stand-ins for space and
newline), words (separated by spaces) or bit vectors (a grid: one line per
bit, one column per step). When a unit is selected and the sequence has a
trace for it, every token's background shows that unit's value at that step:
the strip becomes a picture of what the unit responds to.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text

from tui_lab.frames import Sequence
from tui_lab.render import colors
from tui_lab.render.heatmap import legend
from tui_lab.render.options import RenderOptions

VISIBLE = {" ": "␣", "\n": "⏎", "\t": "⇥", "": "·"}
MAX_LINES = 4


def show_token(token: str) -> str:
    return VISIBLE.get(token, token)


def selected_trace(sequence: Sequence, options: RenderOptions) -> np.ndarray | None:
    """[T] values of the selected unit along the sequence, or None."""
    selection = options.selection
    if selection is None or selection.trace not in sequence.traces:
        return None
    trace = sequence.traces[selection.trace]
    if trace.ndim != 2 or not 0 <= selection.col < trace.shape[1]:
        return None
    return trace[:, selection.col]


def _scale_for(values: np.ndarray) -> str:
    finite = values[np.isfinite(values)]
    if finite.size and finite.min() >= 0 and finite.max() <= 1:
        return "unit"
    return "diverging"


def _window(count: int, position: int, budget: int) -> tuple[int, int]:
    """A slice of `count` items of about `budget` length that contains `position`."""
    if count <= budget:
        return 0, count
    start = min(max(0, position - budget // 2), count - budget)
    return start, start + budget


def sequence_renderable(sequence: Sequence, options: RenderOptions) -> Text:
    trace = selected_trace(sequence, options)
    head = _head(sequence, trace, options)
    if sequence.bits is not None:
        body = _bits(sequence, trace, options)
    else:
        body = _tokens(sequence, trace, options)
    return Text("\n").join([head, body])


def _head(sequence: Sequence, trace, options: RenderOptions) -> Text:
    head = Text(no_wrap=True, overflow="ellipsis")
    T, t = len(sequence.tokens), sequence.position
    head.append(f"t = {t}" if t >= 0 else "t = - (before the first step)", "bold")
    head.append(f" of {T}", "dim")
    if 0 <= t < T and sequence.bits is None:
        head.append(f"  reading {show_token(sequence.tokens[t])!r}")
        if sequence.targets is not None and t < len(sequence.targets):
            head.append(f" -> next {show_token(sequence.targets[t])!r}", "dim")
    if trace is not None:
        head.append(f"   colour = {options.selection.label()}  ", "italic")
        head.append_text(legend(_scale_for(trace), trace, options))
    return head


def _tokens(sequence: Sequence, trace, options: RenderOptions) -> Text:
    tokens = sequence.tokens
    characters = all(len(token) <= 1 for token in tokens)
    gap = "" if characters else " "
    shown = [show_token(token) for token in tokens]
    average = (sum(len(s) for s in shown) / max(1, len(shown))) + len(gap)
    budget = max(8, int(options.width * MAX_LINES / max(1.0, average)))
    start, stop = _window(len(tokens), max(sequence.position, 0), budget)
    if trace is not None:
        span = colors.value_range(_scale_for(trace), trace)
        lvls = colors.levels(trace, span)
    text = Text()
    if start > 0:
        text.append("… ", "dim")
    caret_at = None
    for index in range(start, stop):
        current = index == sequence.position
        if current:
            caret_at = len(text)
        if trace is not None and index < len(trace) and options.color:
            style = colors.cell_style(int(lvls[index]), span.scale, options.dark, current, current)
        elif current:
            style = colors.plain_style(bold=True, reverse=True)
        elif index > sequence.position:
            style = "dim"
        else:
            style = ""
        text.append(shown[index], style)
        if gap and index + 1 < stop:
            text.append(gap)
    if stop < len(tokens):
        text.append(" …", "dim")
    if caret_at is not None and len(text) <= options.width:
        text.append("\n" + " " * caret_at + "^", "bold")
    return text


def _append_runs(line: Text, cells) -> None:
    """Append (char, style) cells, one span per run of equal styles (fast to render)."""
    run, style = "", None
    for char, cell_style in cells:
        if cell_style is style:
            run += char
            continue
        if run:
            line.append(run, style)
        run, style = char, cell_style
    if run:
        line.append(run, style)


def _bits(sequence: Sequence, trace, options: RenderOptions) -> Text:
    bits = sequence.bits
    T, width = bits.shape
    label_width = len(str(width - 1)) + 1
    start, stop = _window(T, max(sequence.position, 0), max(4, options.width - label_width - 2))
    window = np.asarray(bits[start:stop], dtype=np.float64)
    lvls = colors.levels(window, colors.Range("unit", 0.0, 1.0)).tolist()
    ones = (window >= 0.5).tolist()
    current = sequence.position - start
    lines: list[Text] = []
    header = Text(" " * label_width, no_wrap=True)
    if 0 <= current < stop - start:
        header.append(" " * current + "v", "bold")
    lines.append(header)
    for row in range(width):
        line = Text(str(row).rjust(label_width - 1) + " ", "dim", no_wrap=True)
        cells = []
        for index in range(stop - start):
            char = "█" if ones[index][row] else "·"
            if options.color:
                # The colour carries the value; a dot marks a 0 so the grid reads as a grid.
                char = "·" if lvls[index][row] == 0 else " "
                style = colors.cell_style(lvls[index][row], "unit", options.dark, index == current)
            else:
                style = colors.plain_style(reverse=index == current)
            cells.append((char, style))
        _append_runs(line, cells)
        lines.append(line)
    if trace is not None and options.color:
        span = colors.value_range(_scale_for(trace), trace)
        trace_lvls = colors.levels(trace[start:stop], span).tolist()
        line = Text("u".rjust(label_width - 1) + " ", "dim", no_wrap=True)
        _append_runs(
            line, [(" ", colors.cell_style(lvl, span.scale, options.dark)) for lvl in trace_lvls]
        )
        lines.append(line)
    return Text("\n", no_wrap=True).join(lines)
