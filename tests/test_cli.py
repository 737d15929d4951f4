"""The command line: exit codes, outputs, one-line errors without tracebacks."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tui_lab import cli


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "tui_lab.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_run_writes_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    code = cli.main(
        ["run", "char-textgen", "--set", "train.epochs=2", "--out", str(out), "--quiet"]
    )
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["kind"] == "char_rnn" and summary["seed"] == 0 and summary["steps"] == 4
    assert set(summary) >= {"scenario", "kind", "seed", "steps", "wall_s", "metrics"}
    assert 0.0 <= summary["metrics"]["accuracy"] <= 1.0
    assert (out / "checkpoint.npz").exists() and (out / "generated.txt").exists()
    lines = (out / "metrics.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["step"] == 4
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_bad_input_is_exit_2_with_one_line_and_no_traceback(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[scenario]\nname = "x"\nkind = "char_rnn"\n[data]\ntext = "abcdef"\n[model]\nhiden = 3\n'
    )
    result = run_cli("run", str(bad))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{bad}: unknown key model.hiden (did you mean 'hidden'?)" in result.stderr
    result = run_cli("run", "char-textgen", "--set", "model.hidden=-4")
    assert (
        result.returncode == 2
        and "model.hidden: expected an integer from 1 to 2048, got -4" in result.stderr
    )
    result = run_cli("check", str(tmp_path / "missing.toml"))
    assert result.returncode == 2 and "no such scenario file" in result.stderr


def test_check_and_list(capsys):
    assert cli.main(["check", "scenarios/char-textgen.toml"]) == 0
    assert "ok (char_rnn" in capsys.readouterr().out
    assert cli.main(["list"]) == 0
    assert "char-textgen" in capsys.readouterr().out


def test_divergence_exits_3_and_keeps_the_last_good_checkpoint(tmp_path):
    out = tmp_path / "diverge"
    result = run_cli(
        "run",
        "char-textgen",
        "--set",
        "train.optimizer=sgd",
        "--set",
        "train.lr=10.0",
        "--set",
        "model.nonlinearity=relu",
        "--set",
        "train.epochs=300",
        "--set",
        "data.seq_length=40",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.returncode == 3, result.stderr
    assert "diverged" in result.stderr and "Traceback" not in result.stderr
    summary = json.loads((out / "summary.json").read_text())
    import numpy as np

    with np.load(out / "checkpoint.npz") as checkpoint:
        weights = [checkpoint[k] for k in checkpoint.files if k.startswith("param/")]
    assert all(np.isfinite(w).all() for w in weights)
    assert summary["steps"] < summary["diverged_at_update"] <= summary["total_steps"]


def test_resume_matches_an_uninterrupted_run(tmp_path):
    import numpy as np

    args = ["--set", "model.cell=gru", "--set", "model.hidden=8", "--quiet"]
    assert (
        cli.main(
            [
                "run",
                "char-textgen",
                *args,
                "--set",
                "train.epochs=6",
                "--out",
                str(tmp_path / "whole"),
            ]
        )
        == 0
    )
    assert (
        cli.main(
            [
                "run",
                "char-textgen",
                *args,
                "--set",
                "train.epochs=2",
                "--out",
                str(tmp_path / "part"),
            ]
        )
        == 0
    )
    # continue the short run under the longer scenario: same seed, same data order
    from tui_lab import registry, runner

    longer = registry.resolve("char-textgen").with_overrides(
        ["model.cell=gru", "model.hidden=8", "train.epochs=6"]
    )
    result = runner.run(longer, resume=tmp_path / "part", quiet=True)
    assert result.exit_code == 0 and result.lab.train_step == 12
    with (
        np.load(tmp_path / "whole" / "checkpoint.npz") as whole,
        np.load(tmp_path / "part" / "checkpoint.npz") as part,
    ):
        for key in whole.files:
            if key.startswith("param/"):
                np.testing.assert_array_equal(whole[key], part[key])


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery needs POSIX")
def test_ctrl_c_saves_a_checkpoint_and_exits_130(tmp_path):
    out = tmp_path / "interrupted"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tui_lab.cli",
            "run",
            "char-textgen",
            "--set",
            "train.epochs=100000",
            "--set",
            "train.batch_size=1",
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 120
    while (
        time.time() < deadline and not (out / "metrics.jsonl").exists() and process.poll() is None
    ):
        time.sleep(0.2)
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and 0 < summary["steps"] < summary["total_steps"]
    assert (out / "checkpoint.npz").exists()


def test_open_errors_name_the_path(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("hello")
    np_file = tmp_path / "other.npz"
    import numpy as np

    np.savez(np_file, weights=np.zeros(3))
    cases = [
        ([str(tmp_path / "missing")], f"--open {tmp_path / 'missing'}: no such file"),
        ([str(tmp_path)], f"--open {tmp_path}: no checkpoint.npz in that folder"),
        (
            [str(tmp_path / "notes.txt")],
            f"--open {tmp_path / 'notes.txt'}: not a tui-lab checkpoint (expected the .npz",
        ),
        ([str(np_file)], "not a tui-lab checkpoint (expected the .npz that `tui-lab run --out`"),
        ([str(tmp_path), "char-textgen"], "--open takes the scenario stored in the checkpoint"),
    ]
    for args, message in cases:
        assert cli.main(["--open", *args]) == 2
        err = capsys.readouterr().err
        assert err.startswith("tui-lab: ") and message in err, err
    assert "no 'meta' entry" in (cli.main(["--open", str(np_file)]), capsys.readouterr().err)[1]
