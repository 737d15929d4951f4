"""Sweep arguments: parsing, and bad input that exits 2 before any run starts."""

import json

import pytest

from tui_lab import cli
from tui_lab.scenario import ScenarioError
from tui_lab.sweep.plan import build_plan, parse_grid, parse_seeds, parse_threshold
from tui_lab.sweep.results import RunRecord, aggregate, flatten_numeric


def test_seeds_ranges_and_lists():
    assert parse_seeds("0-4") == [0, 1, 2, 3, 4]
    assert parse_seeds("0,3,7") == [0, 3, 7]
    assert parse_seeds("0-2, 9") == [0, 1, 2, 9]
    assert parse_seeds("5") == [5]


def test_grid_values_keep_arrays_and_quotes():
    assert parse_grid("model.cell=rnn,lstm,gru") == ("model.cell", ["rnn", "lstm", "gru"])
    assert parse_grid("data.eval_lengths=[20,40],[80]") == (
        "data.eval_lengths",
        ["[20,40]", "[80]"],
    )
    assert parse_grid('data.text="a,b",c') == ("data.text", ['"a,b"', "c"])


def test_threshold_meets_only_on_the_right_side():
    claim = parse_threshold("wrong_bits_by_length.40<=1")
    assert claim.metric == "wrong_bits_by_length.40" and claim.op == "<="
    assert claim.met({"wrong_bits_by_length.40": 1.0})
    assert not claim.met({"wrong_bits_by_length.40": 1.01})
    assert not claim.met({})  # a run that lacks the metric does not meet the claim
    assert parse_threshold("accuracy>=0.9").met({"accuracy": 0.95})
    assert not parse_threshold("accuracy>=0.9").met({"accuracy": 0.85})


def test_plan_is_the_product_of_the_grid_and_the_seeds():
    plan = build_plan(
        "many-to-one",
        "0,2",
        ["model.cell=rnn,gru", "model.hidden=4,8"],
        ["train.updates=5"],
        [],
    )
    ids = [run.run_id for run in plan.runs]
    assert ids == [
        "model.cell=rnn_model.hidden=4_seed=0",
        "model.cell=rnn_model.hidden=4_seed=2",
        "model.cell=rnn_model.hidden=8_seed=0",
        "model.cell=rnn_model.hidden=8_seed=2",
        "model.cell=gru_model.hidden=4_seed=0",
        "model.cell=gru_model.hidden=4_seed=2",
        "model.cell=gru_model.hidden=8_seed=0",
        "model.cell=gru_model.hidden=8_seed=2",
    ]
    # the overrides are what `tui-lab run --set ... --seed N` would record
    assert plan.runs[1].overrides == (
        "train.updates=5",
        "model.cell=rnn",
        "model.hidden=4",
        "scenario.seed=2",
    )
    assert len(plan.grid_points()) == 4


@pytest.mark.parametrize(
    "args, message",
    [
        (["nosuch"], "tui-lab: nosuch: no such scenario file or bundled scenario"),
        (["many-to-one", "--seeds", "3-1"], "tui-lab: --seeds '3-1': range 3-1 runs backwards"),
        (
            ["many-to-one", "--seeds", "a"],
            "tui-lab: --seeds 'a': expected seeds like 0-4, 0,3,7 or 0-2,9",
        ),
        (["many-to-one", "--seeds", "1,1"], "tui-lab: --seeds '1,1': seed 1 given twice"),
        (
            ["many-to-one", "--grid", "model.cell"],
            "tui-lab: --grid 'model.cell': expected section.key=v1,v2,...",
        ),
        (
            ["many-to-one", "--grid", "model.nokey=1,2"],
            "tui-lab: --grid model.nokey=1: ",
        ),
        (
            ["many-to-one", "--grid", "model.cell=rnn,foo"],
            "model.cell: expected one of 'rnn', 'lstm', 'gru', got 'foo'",
        ),
        (
            ["many-to-one", "--grid", "model.cell=rnn,rnn"],
            "tui-lab: --grid 'model.cell=rnn,rnn': a value is given twice",
        ),
        (
            ["many-to-one", "--grid", "scenario.seed=1,2"],
            "tui-lab: --grid 'scenario.seed=1,2': seeds are swept with --seeds, not --grid",
        ),
        (
            ["many-to-one", "--grid", "model.cell=rnn", "--set", "model.cell=gru"],
            "tui-lab: --grid model.cell: model.cell is also given by --set; give it once",
        ),
        (
            ["many-to-one", "--set", "model.hidden=abc"],
            "model.hidden: expected an integer from 1 to 1024, got 'abc'",
        ),
        (
            ["many-to-one", "--threshold", "acc=3"],
            "tui-lab: --threshold 'acc=3': expected METRIC<=VALUE or METRIC>=VALUE",
        ),
        (["many-to-one", "--workers", "0"], "tui-lab: --workers 0: expected a whole number >= 1"),
        (
            ["many-to-one", "--workers", "2", "--scheduler", "tcp://127.0.0.1:1"],
            "tui-lab: --workers: the cluster at --scheduler brings its own workers",
        ),
    ],
)
def test_bad_arguments_exit_2_before_any_run(tmp_path, capsys, args, message):
    out = tmp_path / "sweep"
    assert cli.main(["sweep", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not out.exists()  # nothing ran, nothing written


def test_unknown_key_error_names_the_key_and_what_the_section_has():
    with pytest.raises(ScenarioError) as error:
        build_plan("many-to-one", None, ["model.nokey=1,2"], [], [])
    assert "unknown key model.nokey; model has: cell, hidden" in str(error.value)


def test_aggregate_counts_outcomes_and_averages_done_runs_only():
    plan = build_plan("many-to-one", "0-2", [], ["train.updates=5"], ["accuracy>=0.5"])
    first, second, third = plan.runs
    records = {
        first.run_id: RunRecord.from_summary(
            first, {"status": "done", "wall_s": 1.0, "metrics": {"accuracy": 0.25}}, 0
        ),
        second.run_id: RunRecord.from_summary(
            second, {"status": "done", "wall_s": 1.0, "metrics": {"accuracy": 0.75}}, 0
        ),
        third.run_id: RunRecord.from_summary(
            third, {"status": "diverged: at 3", "wall_s": 1.0, "metrics": {"loss": 1.0}}, 3
        ),
    }
    (point,) = aggregate(plan, records)
    assert (point.runs, point.done, point.diverged, point.failed) == (3, 2, 1, 0)
    stats = point.metrics["accuracy"]
    assert (stats.n, stats.mean, stats.min, stats.max) == (2, 0.5, 0.25, 0.75)
    assert stats.sd == pytest.approx(0.3535533905932738)
    assert "loss" not in point.metrics  # the diverged run's last loss is not averaged
    assert point.thresholds[0][1] == 1  # 1 of 3 met: the diverged run meets nothing
    assert json.loads(json.dumps(point.to_json()))["thresholds"] == [
        {"threshold": "accuracy>=0.5", "met": 1, "n": 3}
    ]


def test_flatten_keeps_nested_numbers_and_drops_text_and_booleans():
    flat = flatten_numeric(
        {"a": 1, "b": {"40": 2.5, "x": "text"}, "attention": True, "task": "parity"}
    )
    assert flat == {"a": 1.0, "b.40": 2.5}


def test_dry_run_lists_the_runs_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "sweep"
    args = ["sweep", "many-to-one", "--seeds", "0-1", "--grid", "model.cell=rnn,gru"]
    assert cli.main([*args, "--set", "train.updates=5", "--out", str(out), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "model.cell=rnn_seed=0: --set train.updates=5 --set model.cell=rnn --set scenario.seed=0",
        "model.cell=rnn_seed=1: --set train.updates=5 --set model.cell=rnn --set scenario.seed=1",
        "model.cell=gru_seed=0: --set train.updates=5 --set model.cell=gru --set scenario.seed=0",
        "model.cell=gru_seed=1: --set train.updates=5 --set model.cell=gru --set scenario.seed=1",
    ]
    assert not out.exists()
