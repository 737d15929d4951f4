"""Helpers for driving the app with Pilot."""

import asyncio

import pytest

from tui_lab.app.compute import shared


async def _wait_for(pilot, predicate, timeout: float = 90.0, what: str = "condition"):
    """Let the app run until predicate() is true (frames arrive from the compute thread).

    The timeout only bounds a failure: the first lab a run opens compiles its kernels on a
    cold Numba cache, which took 25-30 s on a loaded 2-core machine for the recurrent cells
    (their register-tiled products compile slower than BLAS calls did)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def _notifications(app) -> list[str]:
    return [f"{n.title}: {n.message}" for n in app._notifications]


@pytest.fixture
def wait_for():
    return _wait_for


@pytest.fixture
def notifications():
    return _notifications


@pytest.fixture(autouse=True)
def drain_compute_thread():
    """Each test starts and ends with an idle compute thread (no job of the last app runs on)."""
    yield
    assert shared().wait_idle(timeout=30), "compute thread still busy after the test"


# ---- a small fake lab with hand-built frames (layout and error-path tests) ----------
import threading  # noqa: E402

import numpy as np  # noqa: E402

from tui_lab.frames import Frame, Matrix, Scalars, Sequence  # noqa: E402
from tui_lab.labs.base import OWN_INPUT, Lab, Walk  # noqa: E402
from tui_lab.scenario import COMMON, Field, Scenario  # noqa: E402

FAKE_SCHEMA = {
    "scenario": COMMON,
    "train": {"lr": Field("float", 0.1, min=0.0, max=1.0, live=True)},
}


def fake_scenario() -> Scenario:
    values = {
        "scenario": {
            "name": "Fake lab",
            "kind": "fake",
            "description": "",
            "topic": "recurrent cells",
            "seed": 0,
        },
        "train": {"lr": 0.1},
    }
    return Scenario(values, FAKE_SCHEMA, "<fake>")


class FakeLab(Lab):
    """T = 5 steps over "hello"; h_t [2, 6] with unit traces; fails at step `fail_at`."""

    kind = "fake"
    capabilities = frozenset({OWN_INPUT})

    def __init__(self, fail_at: int | None = None, warm_gate: threading.Event | None = None):
        super().__init__(fake_scenario())
        self.fail_at = fail_at
        self.warm_gate = warm_gate
        rng = np.random.default_rng(0)
        self.trace = np.tanh(rng.normal(size=(5, 2, 6)))
        self.text = "hello"

    def walk(self, input=None):
        return Walk(
            self.text if input is None else input, len(self.text if input is None else input)
        )

    def _sequence(self, walk, t):
        traces = {"h": self.trace[:, 0], "c": self.trace[:, 1]}
        return Sequence("input", tuple(walk.input), t, traces=traces)

    def frame(self, walk, t):
        if t < 0:
            return Frame("fake", -1, walk.length, (self._sequence(walk, -1),))
        if t == self.fail_at:
            raise RuntimeError(f"kernel exploded at step {t}")
        h = Matrix(
            "h_t",
            self.trace[t % 5],
            "diverging",
            ("h", "c"),
            None,
            units="hidden",
            row_traces=("h", "c"),
        )
        gates = Matrix(
            "gates", (self.trace[t % 5] + 1) / 2, "unit", ("i", "f"), None, units="hidden"
        )
        return Frame(
            "fake",
            t,
            walk.length,
            (self._sequence(walk, t), h, gates, Scalars("metrics", {"t": t})),
        )

    def warmup_tasks(self):
        if self.warm_gate is None:
            return []
        return [("fake kernel", lambda: self.warm_gate.wait(10))]

    def parameters(self):
        return {}

    def total_train_steps(self):
        return 3

    def train_one(self):
        return 1.0


@pytest.fixture
def make_fake_lab():
    return FakeLab
