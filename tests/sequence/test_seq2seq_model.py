"""tui_lab.seq2seq: the encoder-decoder's gradients against finite differences (float64)."""

import numpy as np
import pytest
from gradcheck import numeric_grad

from tui_lab.seq2seq import Seq2Seq


@pytest.mark.parametrize("attend", [False, True])
def test_gradients_match_finite_differences(attend):
    rng = np.random.default_rng(0)
    model = Seq2Seq(4, 3, attend, attention_size=2, rng=rng, dtype=np.float64)
    for value in model.params.values():
        value *= 3.0  # larger weights: attention gradients well above finite-difference noise
    source = rng.integers(0, 4, (3, 2))
    targets = rng.integers(0, 4, (3, 2))
    loss, grads = model.loss_and_grads(source, targets)
    for name, value in model.params.items():
        numeric = numeric_grad(lambda: model.loss_and_grads(source, targets)[0], value)
        err = np.abs(grads[name] - numeric).max() / max(np.abs(numeric).max(), 1e-12)
        assert err < 1e-6, (name, err)
    assert np.isfinite(loss)


def test_attention_rows_are_distributions_over_the_source():
    rng = np.random.default_rng(1)
    model = Seq2Seq(5, 4, True, rng=rng)
    codes, record = model.decode(rng.integers(0, 5, (6, 3)), 4)
    assert codes.shape == (4, 3)
    assert record["alpha"].shape == (4, 3, 6)
    np.testing.assert_allclose(record["alpha"].sum(axis=2), 1.0, rtol=1e-5)
