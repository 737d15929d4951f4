"""LinesView: the height it keeps between draws, and the height it is laid out to."""

from rich.segment import Segment
from textual.app import App, ComposeResult

from tui_lab.app.widgets.lines import LinesView


def lines(n: int) -> list[list[Segment]]:
    return [[Segment(f"line {i}")] for i in range(n)]


class One(App):
    def compose(self) -> ComposeResult:
        yield LinesView()


async def test_keeps_its_height_at_one_width_not_across_widths():
    app = One()
    async with app.run_test(size=(40, 20)) as pilot:
        view = app.query_one(LinesView)
        view.set_lines(lines(6), drawn_for=30)
        view.set_lines(lines(5), drawn_for=30)  # a top-5 list that had a sixth line
        assert view.line_count == 6
        view.set_lines(lines(4), drawn_for=38)  # drawn for another width: its own height
        assert view.line_count == 4
        await pilot.pause()
        assert view.size.height == 4


async def test_is_laid_out_to_its_line_count_after_each_change():
    app = One()
    async with app.run_test(size=(40, 20)) as pilot:
        view = app.query_one(LinesView)
        for count in (2, 3, 7, 1):
            view.set_lines(lines(count), drawn_for=count)  # another width each time
            await pilot.pause()
            assert view.size.height == count
