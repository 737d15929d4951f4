"""The PyTorch MANN of scripts/bench_mann_vs_torch.py computes what the kernels compute (same
weights, float64): logits and every gradient. The benchmark then compares like with like,
and autograd checks the hand-written backward a second way. Skipped without torch."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from kernels.mann import MANNShape, backward, forward, init_params, views

torch = pytest.importorskip("torch")
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "bench_mann_vs_torch.py"


def torch_mann():
    spec = importlib.util.spec_from_file_location("bench_mann_vs_torch", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TorchMANN


@pytest.mark.parametrize("key_strength", [True, False])
def test_torch_mann_matches_the_kernels(key_strength):
    shape = MANNShape(7, 3, hidden=5, slots=6, width=4, heads=2, key_strength=key_strength)
    rng = np.random.default_rng(0)
    flat = init_params(shape, rng, np.float64) + rng.normal(0, 0.3, shape.size)
    p = views(shape, flat)
    model = torch_mann()(shape).double()
    with torch.no_grad():
        for ours, theirs in (
            ("controller.weight_ih", model.controller.weight_ih),
            ("controller.weight_hh", model.controller.weight_hh),
            ("controller.bias", model.controller.bias_ih),
            ("heads.weight", model.heads.weight),
            ("heads.bias", model.heads.bias),
            ("output.weight", model.out.weight),
            ("output.bias", model.out.bias),
        ):
            theirs.copy_(torch.from_numpy(p[ours]))
        model.controller.bias_hh.zero_()
    x = rng.random((6, 3, 7))
    labels = rng.integers(0, 3, (6, 3))
    trace = forward(shape, flat, x)
    logits = model(torch.from_numpy(x))
    np.testing.assert_allclose(logits.detach().numpy(), trace.logits.transpose(1, 0, 2), atol=1e-12)
    loss = torch.nn.functional.cross_entropy(
        logits.reshape(-1, 3), torch.from_numpy(labels).reshape(-1), reduction="sum"
    )
    loss.backward()
    losses, grads = backward(trace, labels)
    assert losses.sum() == pytest.approx(loss.item(), rel=1e-12)
    for ours, theirs in (
        ("controller.weight_ih", model.controller.weight_ih),
        ("controller.weight_hh", model.controller.weight_hh),
        ("controller.bias", model.controller.bias_ih),
        ("heads.weight", model.heads.weight),
        ("output.weight", model.out.weight),
    ):
        np.testing.assert_allclose(grads[ours], theirs.grad.numpy(), atol=1e-12, err_msg=ours)
