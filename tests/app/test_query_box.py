"""`/` opens the query box; the Word2Vec lab answers on the compute thread."""

from tui_lab.app.app import TuiLabApp
from tui_lab.app.screens.prompt import PromptScreen
from tui_lab.registry import resolve


async def test_query_box_answers_with_the_labs_own_answer(wait_for, notifications):
    app = TuiLabApp(resolve("word2vec-skipgram"))
    async with app.run_test(size=(120, 40)) as pilot:
        lab_screen = app.screen
        await wait_for(pilot, lambda: lab_screen.frame is not None, what="first frame")
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.screen, PromptScreen), what="query box")
        await pilot.press(*"king - man + woman", "enter")
        await wait_for(
            pilot,
            lambda: any(t.startswith("king - man + woman:") for t in notifications(app)),
            what="the answer",
        )
        expected = lab_screen.session.lab.query("king - man + woman")
        shown = [t for t in notifications(app) if t.startswith("king - man + woman:")][0]
        assert shown == f"king - man + woman: {expected}"


async def test_kinds_without_queries_say_so(wait_for, notifications):
    app = TuiLabApp(resolve("char-textgen"))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: app.screen.frame is not None, what="first frame")
        await pilot.press("slash")
        await wait_for(
            pilot,
            lambda: "this lab kind answers no queries" in " ".join(notifications(app)),
            what="the warning",
        )
