"""PyTorch interop: safetensors files under torch's state-dict names, both ways.

The fixture in tests/fixtures/torch was made once with torch (make_fixture.py); these tests
never import torch."""

from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from tui_lab import cli, interop
from tui_lab.registry import build_lab, resolve
from tui_lab.scenario import ScenarioError

FIXTURE = Path(__file__).parent / "fixtures" / "torch"
SHAPE = ["model.hidden=3", "model.num_layers=2"]  # the fixture's Net (bidirectional-tagging)


def fixture_lab(cell: str, extra=()):
    scenario = resolve("bidirectional-tagging").with_overrides(
        [f"model.cell={cell}", *SHAPE, *extra]
    )
    return build_lab(scenario)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_torch_trained_weights_give_torchs_outputs(cell):
    lab = fixture_lab(cell)
    interop.load_weights(lab, FIXTURE / f"{cell}.safetensors")
    io = np.load(FIXTURE / f"{cell}_io.npz")
    state = (io["h0"], io["c0"]) if cell == "lstm" else io["h0"]
    out, state_n = lab.net.rnn.forward(io["x"], state)
    np.testing.assert_allclose(out, io["out"], rtol=0, atol=1e-6)
    h_n = state_n[0] if cell == "lstm" else state_n
    np.testing.assert_allclose(h_n, io["h_n"], rtol=0, atol=1e-6)
    if cell == "lstm":
        np.testing.assert_allclose(state_n[1], io["c_n"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(lab.net.forward(io["x"]), io["logits"], rtol=0, atol=1e-6)


def test_scenario_weights_key_loads_the_file():
    lab = fixture_lab("gru", [f"model.weights={FIXTURE / 'gru.safetensors'}"])
    stored = load_file(FIXTURE / "gru.safetensors")
    assert np.array_equal(
        lab.net.params["weight_hh_l1_reverse"], stored["rnn.weight_hh_l1_reverse"]
    )
    assert np.array_equal(lab.net.params["head.bias"], stored["head.bias"])


def test_run_out_writes_model_safetensors_under_torch_names(tmp_path):
    out = tmp_path / "run"
    code = cli.main(["run", "bidirectional-tagging", "--quiet", "--out", str(out),
                     "--set", "train.updates=3", "--set", "model.cell=lstm", *sum((["--set", s] for s in SHAPE), [])])  # fmt: skip
    assert code == 0
    stored = load_file(out / "model.safetensors")
    with np.load(out / "checkpoint.npz") as checkpoint:
        params = {
            k[len("param/") :]: checkpoint[k] for k in checkpoint.files if k.startswith("param/")
        }
    assert sorted(stored) == sorted(
        [f"rnn.{kind}_l{layer}{suffix}" for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
         for layer in (0, 1) for suffix in ("", "_reverse")] + ["head.weight", "head.bias"]
    )  # fmt: skip
    for name, value in params.items():
        assert np.array_equal(stored[interop.torch_name("sequence", name)], value), name
    # ... and the same names and shapes as the torch model the fixture came from
    torch_made = load_file(FIXTURE / "lstm.safetensors")
    assert {k: v.shape for k, v in stored.items()} == {k: v.shape for k, v in torch_made.items()}


def test_safetensors_round_trip_into_a_fresh_lab(tmp_path):
    trained = fixture_lab("lstm")
    trained.net.params["head.bias"][...] = [1.5, -2.0, 0.25, 3.0]
    interop.save_weights(trained, tmp_path / "m.safetensors")
    other = build_lab(trained.scenario.with_overrides(["scenario.seed=5"]))
    assert not np.array_equal(other.net.params["weight_ih_l0"], trained.net.params["weight_ih_l0"])
    interop.load_weights(other, tmp_path / "m.safetensors")
    for name, value in trained.parameters().items():
        assert np.array_equal(other.parameters()[name], value), name


def test_open_safetensors_steps_the_torch_model(monkeypatch):
    opened = {}
    monkeypatch.setattr(
        "tui_lab.app.run_app", lambda scenario, folders, lab: opened.update(lab=lab)
    )
    args = ["--open", str(FIXTURE / "gru.safetensors"), "--scenario", "bidirectional-tagging",
            "--set", "model.cell=gru", *sum((["--set", s] for s in SHAPE), [])]  # fmt: skip
    assert cli.main(args) == 0
    stored = load_file(FIXTURE / "gru.safetensors")
    assert np.array_equal(opened["lab"].net.params["weight_ih_l1"], stored["rnn.weight_ih_l1"])
    assert opened["lab"].scenario.get("model.weights") == str(FIXTURE.resolve() / "gru.safetensors")


def test_wrong_shape_exits_2_naming_tensor_and_shapes(capsys):
    path = FIXTURE / "lstm.safetensors"
    args = ["--open", str(path), "--scenario", "bidirectional-tagging",
            "--set", "model.cell=lstm", "--set", "model.hidden=4", "--set", "model.num_layers=2"]  # fmt: skip
    assert cli.main(args) == 2
    assert capsys.readouterr().err == (
        f"tui-lab: --open {path}: tensor 'rnn.weight_ih_l0' has shape (12, 4), expected (16, 4) "
        "for scenario 'bidirectional-tagging' (rnn = nn.LSTM(input_size=4, hidden_size=4, "
        "num_layers=2, bidirectional=True); head = nn.Linear(8, 4))\n"
    )


def test_wrong_names_and_missing_tensors_are_named(tmp_path):
    stored = load_file(FIXTURE / "lstm.safetensors")
    bare = {k.removeprefix("rnn."): v for k, v in stored.items()}  # a plain nn.LSTM + head
    save_file(bare, tmp_path / "bare.safetensors")
    with pytest.raises(ScenarioError) as error:
        interop.load_weights(fixture_lab("lstm"), tmp_path / "bare.safetensors")
    assert (
        "tensor 'bias_hh_l0' (12,) is not a parameter of scenario 'bidirectional-tagging'"
        in str(error.value)
    )
    assert "did you mean 'rnn.bias_hh_l0'?" in str(error.value)
    del stored["head.bias"]
    save_file(stored, tmp_path / "partial.safetensors")
    with pytest.raises(
        ScenarioError,
        match=r"partial.safetensors: missing tensor 'head.bias' \(expected shape \(4,\)\)",
    ):
        interop.load_weights(fixture_lab("lstm"), tmp_path / "partial.safetensors")


def test_bad_files_exit_2_without_traceback(tmp_path, capsys):
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"\x00\x01 not a safetensors header")
    for args, expected in [
        (
            ["--open", str(junk), "--scenario", "one-to-one"],
            f"--open {junk}: not a safetensors file",
        ),
        (
            ["--open", str(tmp_path / "none.safetensors"), "--scenario", "one-to-one"],
            "none.safetensors: no such file",
        ),
        (["--open", str(junk)], "a .safetensors file holds weights only; name the scenario"),
        (["--scenario", "one-to-one"], "--scenario NAME goes with --open FILE.safetensors"),
    ]:
        assert cli.main(args) == 2
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err and err.count("\n") == 1


def test_names_of_the_other_kinds():
    assert interop.torch_name("compare", "lstm/weight_hh_l0") == "lstm.rnn.weight_hh_l0"
    assert interop.torch_name("compare", "gru/head.bias") == "gru.head.bias"
    assert (
        interop.torch_name("w2v_sentiment", "finetuned.embedding") == "finetuned.embedding.weight"
    )
    assert (
        interop.torch_name("w2v_sentiment", "onehot.rnn.weight_ih_l0") == "onehot.rnn.weight_ih_l0"
    )
    seq2seq = build_lab(resolve("attention-reverse").with_overrides(["model.hidden=4"]))
    assert sorted(interop.state_dict(seq2seq)) == sorted(
        [f"{part}.{kind}_l0" for part in ("encoder", "decoder")
         for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        + ["attention.w_k", "attention.w_q", "attention.v", "head.weight", "head.bias"]
    )  # fmt: skip


NTM_NAMES = {"controller.weight_ih", "controller.weight_hh", "controller.bias", "controller.h0",
             "controller.c0", "heads.weight", "heads.bias", "output.weight", "output.bias",
             "read0", "weight0_logits"}  # fmt: skip


@pytest.mark.parametrize("name", ["ntm-copy", "ntm-copy-feedforward"])
def test_ntm_weights_round_trip_under_their_documented_names(tmp_path, name):
    small = ["model.hidden=6", "model.slots=8", "model.width=3", "data.bits=2"]
    scenario = resolve(name).with_overrides(small)
    trained = build_lab(scenario)
    interop.save_weights(trained, tmp_path / "ntm.safetensors")
    stored = load_file(tmp_path / "ntm.safetensors")
    recurrent = {"controller.weight_hh", "controller.h0", "controller.c0"}
    assert set(stored) == (NTM_NAMES if name == "ntm-copy" else NTM_NAMES - recurrent)
    assert stored["controller.weight_ih"].shape == ((4 if name == "ntm-copy" else 1) * 6, 2 + 1 + 3)
    fresh = build_lab(scenario.with_overrides(["scenario.seed=9"]))
    assert not np.array_equal(fresh.parameters()["heads.weight"], stored["heads.weight"])
    interop.load_weights(fresh, tmp_path / "ntm.safetensors")
    for key, value in trained.parameters().items():
        assert np.array_equal(fresh.parameters()[key], value), key


def test_scenario_file_weights_are_found_beside_it_and_misfits_exit_2(tmp_path, capsys):
    (tmp_path / "gru.safetensors").write_bytes((FIXTURE / "gru.safetensors").read_bytes())
    text = resolve("bidirectional-tagging").with_overrides(["model.cell=gru", *SHAPE]).to_toml()
    toml = tmp_path / "mine.toml"
    toml.write_text(text.replace('weights = ""', 'weights = "gru.safetensors"'))
    lab = build_lab(resolve(str(toml)))
    stored = load_file(FIXTURE / "gru.safetensors")
    assert np.array_equal(lab.net.params["bias_ih_l1_reverse"], stored["rnn.bias_ih_l1_reverse"])
    assert cli.main(["run", str(toml), "--quiet", "--set", "model.hidden=5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"tui-lab: {toml}: model.weights: {tmp_path / 'gru.safetensors'}: tensor "
        "'rnn.weight_ih_l0' has shape (9, 4), expected (15, 4) for scenario 'mine'"
    )
