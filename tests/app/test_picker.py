"""The scenario picker: grouped, filtered, the user's folders, opening."""

from tui_lab.app.app import TuiLabApp
from tui_lab.app.catalog import card, grouped, key_facts, load_catalog, matches
from tui_lab.app.screens.lab import LabScreen
from tui_lab.app.screens.picker import PickerScreen
from tui_lab.registry import resolve
from tui_lab.scenario import TOPICS


def _visible(app) -> list[str]:
    options = app.screen.query_one("#scenarios")
    return [
        options.get_option_at_index(i).id
        for i in range(options.option_count)
        if options.get_option_at_index(i).id
    ]


def test_catalog_groups_by_topic_in_order():
    catalog = load_catalog()
    assert catalog.problems == []
    topics = [topic for topic, _ in grouped(catalog.entries)]
    assert topics == [topic for topic in TOPICS if topic in topics]
    char = catalog.find(str(resolve("char-textgen").path))
    assert char is not None and char.name == "Char-RNN text generator"


def test_filter_matches_every_word_anywhere():
    entry = resolve("char-textgen")
    assert matches(entry, "char")
    assert matches(entry, "RNN generator")
    assert not matches(entry, "char zebra")
    assert ("kind", "char_rnn") in key_facts(entry)
    assert ("hidden", "50") in key_facts(entry)
    assert card(entry).startswith("# Char-RNN text generator")


def test_user_folders_are_added_and_bad_files_reported(tmp_path):
    text = resolve("char-textgen").path.read_text()
    (tmp_path / "mine.toml").write_text(text.replace("Char-RNN text generator", "My own text"))
    (tmp_path / "broken.toml").write_text("[scenario]\nname = 'x'\nkind = 'nope'\n")
    catalog = load_catalog([tmp_path, tmp_path / "missing"])
    assert "My own text" in [entry.name for entry in catalog.entries]
    assert any("broken.toml" in problem for problem in catalog.problems)
    assert any("not a folder" in problem for problem in catalog.problems)


async def test_type_to_filter_and_enter_opens(wait_for):
    app = TuiLabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        assert isinstance(app.screen, PickerScreen)
        everything = _visible(app)
        assert len(everything) == len(load_catalog().entries)
        await pilot.press(*"zzzz")
        assert _visible(app) == []
        await pilot.press("enter")
        assert isinstance(app.screen, PickerScreen)
        await pilot.press("escape")
        await pilot.press(*"char")
        shown = [key.rsplit("/", 1)[-1] for key in _visible(app)]
        assert shown == ["char-textgen.toml", "char-textgen-gru.toml", "char-textgen-lstm.toml"]
        await pilot.press(*"-l")
        assert [key.rsplit("/", 1)[-1] for key in _visible(app)] == ["char-textgen-lstm.toml"]
        await pilot.press("backspace", "backspace")
        assert "Char-RNN" in app.screen.query_one("#card")._markdown
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LabScreen), what="lab")
        await wait_for(pilot, lambda: app.screen.frame is not None, what="frame")
        await pilot.press("o")
        await wait_for(pilot, lambda: isinstance(app.screen, PickerScreen), what="back to picker")


async def test_the_users_folder_shows_in_the_picker(wait_for, notifications, tmp_path):
    text = resolve("char-textgen").path.read_text()
    (tmp_path / "mine.toml").write_text(text.replace("Char-RNN text generator", "My own text"))
    (tmp_path / "broken.toml").write_text("not toml [")
    app = TuiLabApp(scenario_dirs=[tmp_path])
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press(*"my own")
        assert _visible(app) == [str(tmp_path / "mine.toml")]
        assert any("broken.toml" in text for text in notifications(app))


def _highlighted(app) -> str:
    options = app.screen.query_one("#scenarios")
    return options.get_option_at_index(options.highlighted).id.rsplit("/", 1)[-1]


def test_exact_then_prefix_then_anywhere():
    entries = load_catalog().entries
    stems = [e.stem for _, members in grouped(entries, "ntm-copy") for e in members]
    # lstm-copy matches only through its description, which mentions ntm-copy.
    assert stems == ["ntm-copy", "ntm-copy-feedforward", "lstm-copy"]
    stems = [e.stem for _, members in grouped(entries, "lstm") for e in members]
    assert stems[0] == "lstm-copy" and "char-textgen-lstm" in stems[1:]
    assert [e.stem for _, m in grouped(entries, "NTM: copy") for e in m][0] == "ntm-copy"


async def test_typing_a_scenarios_name_highlights_it():
    app = TuiLabApp()
    async with app.run_test(size=(80, 24)) as pilot:
        app.screen.query_one("#filter").cursor_blink = False  # no repaint timer in the test
        for typed, expected in [
            ("ntm-copy", "ntm-copy.toml"),
            ("lstm", "lstm-copy.toml"),
            ("long-range-rnn", "long-range-rnn.toml"),
            ("ntm-repeat-copy", "ntm-repeat-copy.toml"),
        ]:
            await pilot.press("escape")
            await pilot.press(*typed)
            assert _highlighted(app) == expected, typed
            assert f"`{expected}`" in app.screen.query_one("#card")._markdown  # its card shows
