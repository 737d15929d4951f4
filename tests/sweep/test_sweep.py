"""Sweeps on a real Dask LocalCluster (2 worker processes): each run is exactly
`tui-lab run`, the aggregate is the runs' own numbers, resume skips finished runs, a
diverging grid point is recorded, a dying worker costs one retry, Ctrl-C keeps what
finished, and `--scheduler` reaches a cluster started with `dask scheduler`/`dask worker`."""

import csv
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

import numpy as np
import pytest

from tui_lab import cli, registry, runner
from tui_lab.scenario import ScenarioError
from tui_lab.sweep import build_plan, run_sweep

TINY = ["--set", "train.updates=40", "--set", "data.eval_size=64"]


def single_run(name, overrides, out):
    loaded = registry.resolve(name).with_overrides(overrides)
    return runner.run(loaded, out, quiet=True)


def test_each_run_equals_tui_lab_run_and_the_aggregate_equals_the_runs(tmp_path, capsys):
    out = tmp_path / "sweep"
    code = cli.main(
        [
            "sweep",
            "many-to-one",
            "--seeds",
            "0-1",
            "--grid",
            "model.cell=rnn,gru",
            *TINY,
            "--threshold",
            "accuracy>=0.5",
            "--workers",
            "2",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    ids = [
        "model.cell=rnn_seed=0",
        "model.cell=rnn_seed=1",
        "model.cell=gru_seed=0",
        "model.cell=gru_seed=1",
    ]
    singles = {}
    for run_id in ids:
        cell = run_id.split("_")[0].split("=")[1]
        seed = int(run_id[-1])
        overrides = [
            "train.updates=40",
            "data.eval_size=64",
            f"model.cell={cell}",
            f"scenario.seed={seed}",
        ]
        single = single_run("many-to-one", overrides, tmp_path / "single" / run_id)
        singles[run_id] = single.summary
        swept = json.loads((out / "runs" / run_id / "summary.json").read_text())
        assert {k: v for k, v in swept.items() if k != "wall_s"} == {
            k: v for k, v in single.summary.items() if k != "wall_s"
        }
        ours = np.load(out / "runs" / run_id / "checkpoint.npz")
        theirs = np.load(tmp_path / "single" / run_id / "checkpoint.npz")
        assert sorted(ours.files) == sorted(theirs.files)
        for key in ours.files:
            np.testing.assert_array_equal(ours[key], theirs[key])
        assert sorted(p.name for p in (out / "runs" / run_id).iterdir()) == sorted(
            p.name for p in (tmp_path / "single" / run_id).iterdir()
        )

    assert (summary["runs"], summary["done"], summary["failed"]) == (4, 4, 0)
    for point, cell in zip(summary["points"], ("rnn", "gru"), strict=True):
        assert point["grid"] == {"model.cell": cell}
        accuracies = [singles[f"model.cell={cell}_seed={s}"]["metrics"]["accuracy"] for s in (0, 1)]
        stats = point["metrics"]["accuracy"]
        assert stats["mean"] == pytest.approx(statistics.fmean(accuracies), abs=0)
        assert stats["sd"] == pytest.approx(statistics.stdev(accuracies), abs=0)
        assert (stats["min"], stats["max"], stats["n"]) == (min(accuracies), max(accuracies), 2)
        assert point["thresholds"] == [
            {"threshold": "accuracy>=0.5", "met": sum(a >= 0.5 for a in accuracies), "n": 2}
        ]

    lines = [json.loads(line) for line in (out / "sweep.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == ids
    assert set(lines[0]) >= {"id", "seed", "overrides", "status", "exit_code", "wall_s", "metrics"}
    rows = list(csv.DictReader((out / "sweep.csv").open()))
    assert [row["id"] for row in rows] == ids and rows[2]["model.cell"] == "gru"
    assert float(rows[1]["accuracy"]) == singles[ids[1]]["metrics"]["accuracy"]


def test_resume_skips_finished_runs_and_reruns_an_interrupted_one(tmp_path):
    out = tmp_path / "sweep"
    plan = build_plan("many-to-one", "0-1", [], TINY[1::2], [])
    environment = dict(os.environ)
    first = run_sweep(plan, out, workers=2, quiet=True)
    # Dask's nanny writes OMP/OPENBLAS_NUM_THREADS=1 into this process's environment;
    # later Numba code here would refuse a changed thread setting
    assert dict(os.environ) == environment
    assert first.exit_code == 0 and sorted(first.ran) == ["seed=0", "seed=1"]
    stamp = (out / "runs" / "seed=0" / "summary.json").stat().st_mtime_ns

    # seed 1 was interrupted: its summary says so, and it must run again
    interrupted = out / "runs" / "seed=1" / "summary.json"
    summary = json.loads(interrupted.read_text())
    interrupted.write_text(json.dumps({**summary, "status": "interrupted"}))

    more = build_plan("many-to-one", "0-2", [], TINY[1::2], [])
    second = run_sweep(more, out, workers=2, quiet=True)
    assert second.exit_code == 0 and sorted(second.ran) == ["seed=1", "seed=2"]
    assert (out / "runs" / "seed=0" / "summary.json").stat().st_mtime_ns == stamp
    assert second.summary["runs"] == 3 and second.summary["done"] == 3
    assert len((out / "sweep.jsonl").read_text().splitlines()) == 3

    third = run_sweep(more, out, workers=2, quiet=True)
    assert third.ran == [] and third.summary["done"] == 3  # nothing left: no cluster at all


def test_resume_refuses_a_folder_of_other_settings(tmp_path):
    out = tmp_path / "sweep"
    run_sweep(build_plan("many-to-one", "0", [], TINY[1::2], []), out, workers=1, quiet=True)
    other = build_plan("many-to-one", "0", [], ["train.updates=41", "data.eval_size=64"], [])
    with pytest.raises(ScenarioError, match="was made with --set"):
        run_sweep(other, out, workers=1, quiet=True)


def test_a_diverging_grid_point_is_recorded_and_the_others_run(tmp_path):
    out = tmp_path / "sweep"
    plan = build_plan(
        "exploding-gradients",
        "0-1",
        ["train.clip=1,0"],
        ["train.updates=30", "data.eval_size=64"],
        [],
    )
    result = run_sweep(plan, out, workers=2, quiet=True)
    assert result.exit_code == 0  # a diverged run ran
    clipped, unclipped = result.points
    assert (clipped.done, clipped.diverged) == (2, 0)
    assert (unclipped.done, unclipped.diverged, unclipped.failed) == (0, 2, 0)
    records = [json.loads(x) for x in (out / "sweep.jsonl").read_text().splitlines()]
    diverged = [r for r in records if r["grid"] == {"train.clip": "0"}]
    assert all(r["exit_code"] == 3 and r["status"].startswith("diverged") for r in diverged)
    for record in diverged:  # the last good checkpoint is there, as with `tui-lab run`
        assert (out / "runs" / record["id"] / "checkpoint.npz").exists()


def test_a_worker_that_dies_is_retried_once_then_the_run_is_failed(tmp_path, monkeypatch):
    from crashy import always_dies, dies_once

    plan = build_plan("many-to-one", "0-2", [], TINY[1::2], [])
    out = tmp_path / "always"
    result = run_sweep(plan, out, workers=2, quiet=True, task_function=always_dies)
    assert result.exit_code == 1
    records = {r["id"]: r for r in map(json.loads, (out / "sweep.jsonl").read_text().splitlines())}
    assert records["seed=1"]["status"] == "failed"
    assert "died" in records["seed=1"]["message"]
    assert records["seed=0"]["status"] == records["seed=2"]["status"] == "done"
    assert not (out / "runs" / "seed=1" / "summary.json").exists()

    monkeypatch.setenv("TUI_LAB_TEST_MARKER", str(tmp_path / "marker"))
    once = run_sweep(plan, tmp_path / "once", workers=2, quiet=True, task_function=dies_once)
    assert (tmp_path / "marker").exists()  # it did die once
    assert once.exit_code == 0 and once.summary["done"] == 3


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery needs POSIX")
def test_ctrl_c_keeps_finished_runs_and_the_same_command_finishes_the_rest(tmp_path):
    out = tmp_path / "sweep"
    command = [
        sys.executable,
        "-m",
        "tui_lab.cli",
        "sweep",
        "many-to-one",
        "--seeds",
        "0-5",
        "--set",
        "train.updates=1500",
        "--workers",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while (
        time.time() < deadline
        and process.poll() is None
        and not list(out.glob("runs/*/summary.json"))
    ):
        time.sleep(0.2)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    finished = {p.parent.name for p in out.glob("runs/*/summary.json")}
    assert 1 <= len(finished) < 6
    recorded = [json.loads(x)["id"] for x in (out / "sweep.jsonl").read_text().splitlines()]
    assert set(recorded) == finished

    command[command.index("--quiet")] = "--json"
    again = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["done"] == 6
    assert f"{len(finished)} of 6 runs already finished" in again.stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_scheduler_address_runs_on_a_dask_cluster_started_by_hand(tmp_path, capsys):
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = [sys.executable, "-m", "dask"]
    logs = tmp_path / "logs"
    logs.mkdir()
    scheduler = subprocess.Popen(
        [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=(logs / "scheduler.out").open("w"),
        stderr=subprocess.STDOUT,
    )
    worker = subprocess.Popen(
        [
            *dask,
            "worker",
            address,
            "--nworkers",
            "1",
            "--nthreads",
            "1",
            "--no-dashboard",
            "--host",
            "127.0.0.1",
        ],
        stdout=(logs / "worker.out").open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        from dask.distributed import Client

        with Client(address, timeout="30s") as client:
            client.wait_for_workers(1, timeout=60)
        out = tmp_path / "sweep"
        code = cli.main(
            [
                "sweep",
                "many-to-one",
                "--seeds",
                "0-1",
                *TINY,
                "--scheduler",
                address,
                "--out",
                str(out),
                "--json",
            ]
        )
        assert code == 0, capsys.readouterr().err
        summary = json.loads(capsys.readouterr().out)
        assert summary["done"] == 2
        for seed in (0, 1):
            swept = json.loads((out / "runs" / f"seed={seed}" / "summary.json").read_text())
            single = single_run("many-to-one", [*TINY[1::2], f"scenario.seed={seed}"], None)
            assert swept["metrics"] == single.summary["metrics"]
        with Client(address, timeout="30s") as client:  # one retry after a worker dies
            # a lambda travels by value: the scheduler process cannot import this test module
            assert (
                client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.allowed_failures) == 1
            )
    finally:
        for process in (worker, scheduler):
            process.terminate()
        for process in (worker, scheduler):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert worker.returncode is not None and scheduler.returncode is not None


def test_the_scenario_file_and_its_data_travel_with_the_runs(tmp_path):
    """A worker needs no copy of the user's files: both are deleted before the runs start."""
    folder = tmp_path / "mine"
    (folder / "texts").mkdir(parents=True)
    (folder / "texts" / "poem.txt").write_text(
        "the cat sat on the mat, the dog sat on the log. " * 3
    )
    (folder / "poem.toml").write_text(
        '[scenario]\nname = "poem"\nkind = "char_rnn"\n\n[data]\npath = "texts/poem.txt"\n'
        "seq_length = 4\n\n[model]\nhidden = 8\n\n[train]\nepochs = 2\n"
    )
    plan = build_plan(str(folder / "poem.toml"), "0-1", [], [], [])
    expected = runner.run(
        registry.load(folder / "poem.toml").with_overrides(["scenario.seed=1"]), None, quiet=True
    ).summary
    (folder / "texts" / "poem.txt").unlink()
    (folder / "poem.toml").unlink()
    result = run_sweep(plan, tmp_path / "sweep", workers=2, quiet=True)
    assert result.exit_code == 0 and result.summary["done"] == 2
    swept = json.loads((tmp_path / "sweep" / "runs" / "seed=1" / "summary.json").read_text())
    assert swept["metrics"] == expected["metrics"]
    assert swept["file"] == str(folder / "poem.toml")  # recorded as `tui-lab run` records it
