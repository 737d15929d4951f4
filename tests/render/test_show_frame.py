import io
import re
import subprocess
import sys

import numpy as np
from rich.console import Console

from tui_lab.frames import Series
from tui_lab.render import RenderOptions, render_panel, show_frame, status_text
from tui_lab.render.series import plot_rows, resample, series_renderable

COLOUR_CODE = re.compile(r"\x1b\[[0-9;]*[34]8;[25];")


def test_show_frame_prints_every_panel(frame):
    console = Console(file=io.StringIO(), width=100, force_terminal=True, color_system="truecolor")
    show_frame(frame, console)
    out = console.file.getvalue()
    for panel in frame.panels:
        assert panel.name in out
    assert "t = 2 of 5 · train step 7 · loss 1.2500" in out
    assert COLOUR_CODE.search(out)  # truecolour backgrounds


def test_show_frame_honours_no_color(frame):
    console = Console(file=io.StringIO(), width=100, force_terminal=True, no_color=True)
    show_frame(frame, console)
    out = console.file.getvalue()
    assert not COLOUR_CODE.search(out)
    assert "h_t" in out


def test_status_text_before_the_first_step(frame):
    from dataclasses import replace

    assert status_text(replace(frame, t=-1, loss=None)) == "t = - of 5 · train step 7 · loss -"


def test_every_panel_kind_renders_at_80_columns(frame):
    console = Console(file=io.StringIO(), width=80)
    for panel in frame.panels:
        console.print(render_panel(panel, RenderOptions(width=76)))
    assert "<- actual next" in console.file.getvalue()


def test_resample_averages_bins():
    assert resample(np.arange(4.0), 2).tolist() == [0.5, 2.5]
    assert resample(np.arange(3.0), 10).tolist() == [0.0, 1.0, 2.0]


def test_plot_rows_fill_from_the_bottom():
    rows = plot_rows(np.array([0.0, 1.0]), 2, 0.0, 1.0)
    assert rows == [" █", "▁█"]


def test_series_reports_last_min_max_and_gaps():
    series = Series("loss", {"loss": np.array([3.0, np.nan, 1.0, 2.0])})
    first = series_renderable(series, RenderOptions(width=40)).plain.split("\n")[0]
    assert first == "loss  last 2  min 1  max 3  n = 4 steps"


def test_render_never_imports_textual():
    code = "import sys, tui_lab.render; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
