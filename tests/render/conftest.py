"""Hand-built Frames for the renderer tests."""

import numpy as np
import pytest

from tui_lab.frames import Frame, Matrix, Scalars, Sequence, Series, Text, TopK


def make_frame(t: int = 2, h_scale: float = 1.0) -> Frame:
    T, H = 5, 4
    rng = np.random.default_rng(0)
    trace = np.tanh(rng.normal(size=(T, H)))
    h = trace[max(t, 0)] * h_scale
    gates = 1 / (1 + np.exp(-rng.normal(size=(3, H))))
    return Frame(
        "test frame",
        t,
        T,
        (
            Sequence("input", tuple("ab cd"), t, traces={"h0": trace}, targets=tuple("b cd?")),
            Matrix("h_t", h, "diverging", ("h",), None, units="hidden", row_traces=("h0",)),
            Matrix("gates", gates, "unit", ("r", "z", "n"), None, units="hidden"),
            Matrix("w", rng.normal(size=(3, 3)), "diverging", group="weights"),
            TopK("next", (("b", 0.6), ("c", 0.3)), target="b"),
            Scalars("metrics", {"loss": 1.25, "cell": "gru"}),
            Series("loss", {"loss": np.linspace(2.0, 1.0, 30)}),
            Text("generated", "ab cd ab"),
        ),
        train_step=7,
        loss=1.25,
    )


@pytest.fixture
def frame() -> Frame:
    return make_frame()
