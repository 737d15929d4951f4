"""Sizes of one MANN and where each parameter lives in its flat parameter vector.

As for the NTM (kernels/ntm/layout.py), every parameter is a view into one flat vector: the
optimizer and the checkpoint see named arrays, the gradient is one vector. The names follow
the NTM's, so both memory networks read the same in a state dict.

Head block layout (one block per head, R blocks stacked; M = memory width):

    key [M] | add [M] | alpha | beta (only with key_strength)

key: the read key (tanh), compared by cosine similarity with every memory row; add: what the
head writes (tanh); alpha: the write gate's logit, sigma(alpha) interpolating between the slot
read last step and the least-used slot; beta: a key strength (softplus) multiplying the
cosine before the read softmax. The paper has no beta (its read is softmax(K), whose sharpest
weighting over 128 slots puts e^2 = 7.4 times the weight of the worst slot on the best);
key_strength = False is the paper's read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kernels._flat import FlatParameters, views  # noqa: F401 (views: this package's API)


@dataclass(frozen=True)
class MANNShape(FlatParameters):
    """inputs X (the sample and the previous step's one-hot label), classes Y, LSTM hidden H,
    memory slots N x width M, heads R (each reads and writes; R = 0 is a plain LSTM), and
    whether each head has a learned key strength."""

    inputs: int
    classes: int
    hidden: int = 200
    slots: int = 128
    width: int = 40
    heads: int = 4
    key_strength: bool = True

    def __post_init__(self):
        for name in ("inputs", "classes", "hidden", "slots", "width"):
            if getattr(self, name) < 1:
                raise ValueError(f"MANNShape.{name} must be >= 1, got {getattr(self, name)}")
        if self.heads < 0:
            raise ValueError(f"MANNShape.heads must be >= 0, got {self.heads}")
        if self.heads > self.slots:
            raise ValueError(
                f"{self.heads} heads need as many least-used slots; memory has {self.slots}"
            )

    @property
    def gate_rows(self) -> int:
        """G = 4H: the LSTM's i, f, g, o pre-activations."""
        return 4 * self.hidden

    @property
    def block(self) -> int:
        """Head-projection rows per head."""
        return 2 * self.width + 1 + int(self.key_strength)

    @property
    def head_rows(self) -> int:
        """P: rows of the fused head projection."""
        return self.heads * self.block

    @property
    def memory_slots(self) -> int:
        """Slots the trace arrays hold: none without heads (the LSTM baseline)."""
        return self.slots if self.heads else 0

    @property
    def read_inputs(self) -> int:
        """R * M: the read vectors the controller sees (of the previous step) and the output
        layer sees (of this step)."""
        return self.heads * self.width

    @property
    def controller_inputs(self) -> int:
        return self.inputs + self.read_inputs

    @property
    def output_inputs(self) -> int:
        return self.hidden + self.read_inputs

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """name -> shape, in flat-vector order (heads.* are zero-size without heads)."""
        G, H, P = self.gate_rows, self.hidden, self.head_rows
        return {
            "controller.weight_ih": (G, self.controller_inputs),
            "controller.weight_hh": (G, H),
            "controller.bias": (G,),
            "heads.weight": (P, H),
            "heads.bias": (P,),
            "output.weight": (self.classes, self.output_inputs),
            "output.bias": (self.classes,),
        }


def init_params(shape: MANNShape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """A fresh flat parameter vector: the controller as PyTorch's LSTM (uniform +-1/sqrt(H),
    forget-gate bias 1), the head and output layers Xavier-uniform with zero biases."""
    flat = np.zeros(shape.size, dtype=np.float64)
    p = views(shape, flat)
    H = shape.hidden
    bound = 1.0 / np.sqrt(H)
    for name in ("controller.weight_ih", "controller.weight_hh"):
        p[name][...] = rng.uniform(-bound, bound, p[name].shape)
    p["controller.bias"][H : 2 * H] = 1.0
    for name in ("heads", "output"):
        rows, cols = p[f"{name}.weight"].shape
        if rows:
            xavier = np.sqrt(6.0 / (rows + cols))
            p[f"{name}.weight"][...] = rng.uniform(-xavier, xavier, (rows, cols))
    return flat.astype(dtype)
