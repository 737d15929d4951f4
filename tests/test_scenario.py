"""Scenario validation: every bad input names the file, the key and what was expected."""

import pytest

from tui_lab import registry
from tui_lab.scenario import ScenarioError

GOOD = """
[scenario]
name = "tiny"
kind = "char_rnn"
seed = 3

[data]
text = "hello world"
seq_length = 3

[model]
cell = "gru"
hidden = 8
"""


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_file_fills_defaults(tmp_path):
    loaded = registry.load(write(tmp_path, GOOD))
    assert loaded.kind == "char_rnn" and loaded.seed == 3
    assert loaded.get("model.cell") == "gru"
    assert loaded.get("train.lr") == 0.001  # default from the kind's schema
    assert loaded.get("model.num_layers") == 1


@pytest.mark.parametrize(
    "edit,message",
    [
        (("hidden = 8", "hiden = 8"), "s.toml: unknown key model.hiden (did you mean 'hidden'?)"),
        (
            ("hidden = 8", 'hidden = "big"'),
            "s.toml: model.hidden: expected an integer from 1 to 2048, got 'big'",
        ),
        (
            ("hidden = 8", "hidden = 0"),
            "s.toml: model.hidden: expected an integer from 1 to 2048, got 0",
        ),
        (
            ("hidden = 8", "hidden = 1e9"),
            "s.toml: model.hidden: expected an integer from 1 to 2048, got 1000000000",
        ),
        (
            ('cell = "gru"', 'cell = "lstn"'),
            "s.toml: model.cell: expected one of 'rnn', 'lstm', 'gru', got 'lstn' (did you mean 'lstm'?)",
        ),
        (("[model]", "[modle]"), "s.toml: unknown section [modle] (did you mean 'model'?)"),
        (
            ("seq_length = 3", "seq_length = nan"),
            "s.toml: data.seq_length: expected an integer from 1 to 1000, got nan",
        ),
        (('kind = "char_rnn"', 'kind = "char_rn"'), "s.toml: scenario.kind: expected one of"),
        (('name = "tiny"', ""), "s.toml: scenario.name is missing: expected a string"),
        (
            ("seq_length = 3", "seq_length = 30"),
            "s.toml: data.seq_length = 30 needs a text longer than that",
        ),
        (
            ("hidden = 8", "hidden = 8\nnum_layers = true"),
            "s.toml: model.num_layers: expected an integer from 1 to 4, got True",
        ),
        (
            ("seed = 3", "seed = -1"),
            "s.toml: scenario.seed: expected an integer from 0 to 4.29497e+09, got -1",
        ),
        (("[data]", "[data"), "s.toml: not valid TOML"),
    ],
)
def test_bad_values_name_file_key_and_expectation(tmp_path, edit, message):
    old, new = edit
    assert old in GOOD
    with pytest.raises(ScenarioError) as error:
        registry.load(write(tmp_path, GOOD.replace(old, new)))
    assert str(error.value).startswith(str(tmp_path))  # the full path of the file
    assert message in str(error.value)


def test_float_nan_and_inf_rejected(tmp_path):
    for bad in ("nan", "inf", "-inf"):
        text = GOOD.replace("[model]", f"[train]\nlr = {bad}\n\n[model]")
        with pytest.raises(
            ScenarioError, match=f"train.lr: expected a number from 1e-07 to 10, got {bad}"
        ):
            registry.load(write(tmp_path, text))


def test_counts_that_would_run_for_days_are_refused(tmp_path):
    text = GOOD.replace("[model]", "[train]\nepochs = 100000\nbatch_size = 1\n\n[model]")
    text = text.replace('text = "hello world"', 'text = "' + "abcdefghij" * 100 + '"')
    with pytest.raises(ScenarioError, match="would run for days; at most 50,000,000"):
        registry.load(write(tmp_path, text))


def test_overrides_use_the_same_validation(tmp_path):
    loaded = registry.load(write(tmp_path, GOOD))
    changed = loaded.with_overrides(["model.cell=lstm", "train.lr=0.5", "model.hidden=16"])
    assert (changed.get("model.cell"), changed.get("train.lr"), changed.get("model.hidden")) == (
        "lstm",
        0.5,
        16,
    )
    with pytest.raises(
        ScenarioError,
        match=r"\(with --set\): model.hidden: expected an integer from 1 to 2048, got 0",
    ):
        loaded.with_overrides(["model.hidden=0"])
    with pytest.raises(ScenarioError, match="unknown key train.rate"):
        loaded.with_overrides(["train.rate=1"])
    with pytest.raises(ScenarioError, match="expected section.key=value"):
        loaded.with_overrides(["model.hidden"])
    with pytest.raises(ScenarioError, match="must be section.key"):
        loaded.with_overrides(["hidden=3"])


def test_to_toml_reproduces_the_scenario(tmp_path):
    loaded = registry.load(write(tmp_path, GOOD)).with_overrides(
        ['data.text="a \\"quoted\\"\\nline"']
    )
    again = registry.parse(loaded.to_toml(), "exported")
    assert again.values == loaded.values


def test_missing_file_and_unknown_bundled_name(tmp_path):
    with pytest.raises(ScenarioError, match="no such scenario file"):
        registry.resolve(str(tmp_path / "nope.toml"))
    with pytest.raises(ScenarioError, match="did you mean 'char-textgen'"):
        registry.resolve("char-textgn")


def test_every_bundled_scenario_is_valid():
    names = registry.bundled_names()
    assert "char-textgen" in names
    for path in registry.bundled_paths():
        loaded = registry.load(path)
        assert loaded.description.strip(), f"{path.name} has no description"


def test_overrides_run_the_kinds_cross_field_checks(tmp_path):
    loaded = registry.load(write(tmp_path, GOOD))
    with pytest.raises(ScenarioError, match="data.seq_length = 20 needs a text longer than that"):
        loaded.with_overrides(["data.seq_length=20"])
    with pytest.raises(ScenarioError, match="data.seq_length = 20 needs a text longer than that"):
        loaded.with_value("data.seq_length", 20)
