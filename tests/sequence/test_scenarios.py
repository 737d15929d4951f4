"""Every bundled scenario of issue 6 runs a few updates headless; exploding gradients diverge
without clipping (exit 3, checkpoint kept) and train with it."""

import json

import numpy as np
import pytest
from stepping import stepper

from tui_lab import registry
from tui_lab.registry import load_checkpoint
from tui_lab.runner import EXIT_DIVERGED, EXIT_OK, run

NAMES = [
    "one-to-one",
    "one-to-many",
    "many-to-one",
    "many-to-many-tagging",
    "encoder-decoder",
    "bidirectional-tagging",
    "stacked",
    "long-range-rnn",
    "long-range-lstm",
    "long-range-gru",
    "exploding-gradients",
    "compare-cells",
    "attention-reverse",
]


def test_all_are_bundled_under_rnn_types():
    for name in NAMES:
        loaded = registry.resolve(name)
        assert loaded.topic == "rnn types"
        assert "FIGURES" not in loaded.description
        assert f"tui-lab run {name}" in loaded.description  # says how to reproduce its figures


@pytest.mark.parametrize("name", NAMES)
def test_runs_a_few_updates_headless(name, tmp_path):
    short = registry.resolve(name).with_overrides(["train.updates=3", "data.eval_size=16"])
    result = run(short, tmp_path, quiet=True)
    assert result.exit_code == EXIT_OK
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["steps"] == 3 and summary["status"] == "done"
    metrics = summary["metrics"]
    accuracy = [value for key, value in metrics.items() if key.endswith("accuracy")]
    assert accuracy and all(0.0 <= value <= 1.0 for value in accuracy)
    assert (tmp_path / "checkpoint.npz").exists()
    lab = result.lab
    stepper(lab).reset()
    frames = [stepper(lab).step() for _ in range(stepper(lab).length)]
    assert frames[-1].t in (0, stepper(lab).length - 1)


def test_exploding_without_clipping_diverges_and_keeps_a_checkpoint(tmp_path):
    loud = registry.resolve("exploding-gradients").with_overrides(
        ["train.clip=0", "train.updates=40"]
    )
    result = run(loud, tmp_path, quiet=True)
    assert result.exit_code == EXIT_DIVERGED
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"].startswith("diverged") and summary["steps"] < 40
    kept = load_checkpoint(tmp_path / "checkpoint.npz")
    assert all(np.isfinite(p).all() for p in kept.parameters().values())


def test_exploding_with_clipping_trains_through_the_same_updates(tmp_path):
    clipped = registry.resolve("exploding-gradients").with_overrides(["train.updates=40"])
    result = run(clipped, tmp_path, quiet=True)
    assert result.exit_code == EXIT_OK
    assert result.summary["metrics"]["grad_norm_max"] > 100  # the gradients did explode
    assert result.summary["metrics"]["grad_ratio_init"] > 10
