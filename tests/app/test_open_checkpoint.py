"""`tui-lab --open`: a trained checkpoint opens in the lab with its weights and its step."""

import numpy as np

from tui_lab.app.app import TuiLabApp
from tui_lab.cli import checkpoint_lab
from tui_lab.registry import build_lab, resolve, save_checkpoint


async def test_a_saved_ntm_opens_trained(tmp_path, wait_for):
    scenario = resolve("ntm-copy").with_overrides(["model.hidden=8", "model.slots=16"])
    trained = build_lab(scenario)
    trained.train(5)
    save_checkpoint(trained, tmp_path / "checkpoint.npz")

    lab = checkpoint_lab(tmp_path)  # the folder `tui-lab run --out` writes
    assert lab.train_step == 5 and lab.loss_history == trained.loss_history
    np.testing.assert_array_equal(lab.flat, trained.flat)

    app = TuiLabApp(lab.scenario, lab=lab)
    async with app.run_test(size=(140, 45)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.frame is not None, what="first frame")
        await pilot.press("right")
        await wait_for(pilot, lambda: screen.frame.t == 0, what="t = 0")
        assert "train step 5" in screen.query_one("#status").text
        # the frame comes from the trained weights: the output at t = 0 is the trained model's
        episode = trained.walk().input  # the first episode stepping draws, in either lab
        expected = trained.run(episode, threaded=False).logits[0, 0]
        shown = screen.frame.panel("output bits").bits[0]
        np.testing.assert_allclose(shown, 1 / (1 + np.exp(-expected)), rtol=1e-6)
