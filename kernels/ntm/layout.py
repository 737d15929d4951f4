"""Sizes of one NTM and where each parameter lives in its flat parameter vector.

All parameters sit in one flat vector so that the batch kernel can keep one gradient row per
episode ([B, P]) and reduce them in a fixed order (deterministic for any thread count). The
named arrays handed to optimizers and checkpoints are views into that vector.

Head parameter layout (one row of the head projection per value, heads stacked read heads
first, then write heads; `width` = memory width W, `shifts` = S = 2 * shift_range + 1):

    key [W] | beta | g | gamma | shift [S] | (write heads only) erase [W] | add [W]
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from kernels._flat import FlatParameters, views  # noqa: F401 (views: this package's API)

KEY = 0  # offsets inside one head's block; beta, g, gamma follow the key
CONTROLLERS = ("lstm", "feedforward")


@dataclass(frozen=True)
class NTMShape(FlatParameters):
    """inputs X, outputs Y, controller hidden H, memory slots N x width W,
    read heads R, write heads Wh (R = Wh = 0 is a plain LSTM), shift range s (shifts -s..s),
    controller "lstm" or "feedforward" (h_t = tanh(W_ih u_t + b): no state of its own, so
    everything the NTM carries from step to step goes through memory, reads and weightings).
    """

    inputs: int
    outputs: int
    hidden: int = 100
    slots: int = 128
    width: int = 20
    read_heads: int = 1
    write_heads: int = 1
    shift_range: int = 1
    controller: str = "lstm"

    def __post_init__(self):
        if self.controller not in CONTROLLERS:
            raise ValueError(
                f"NTMShape.controller must be one of {CONTROLLERS}, got {self.controller!r}"
            )
        for name in ("inputs", "outputs", "hidden", "slots", "width"):
            if getattr(self, name) < 1:
                raise ValueError(f"NTMShape.{name} must be >= 1, got {getattr(self, name)}")
        if self.read_heads < 0 or self.write_heads < 0:
            raise ValueError("head counts must be >= 0")
        if self.shift_range < 0 or 2 * self.shift_range + 1 > self.slots:
            raise ValueError(f"shift_range {self.shift_range} does not fit {self.slots} slots")

    @property
    def recurrent(self) -> bool:
        return self.controller == "lstm"

    @property
    def gate_rows(self) -> int:
        """G: rows of the controller's input weight (4H for the LSTM's i, f, g, o; H)."""
        return 4 * self.hidden if self.recurrent else self.hidden

    @property
    def heads(self) -> int:
        return self.read_heads + self.write_heads

    @property
    def shifts(self) -> int:
        return 2 * self.shift_range + 1

    @property
    def read_block(self) -> int:
        """Head-projection rows per read head."""
        return self.width + 3 + self.shifts

    @property
    def write_block(self) -> int:
        return self.read_block + 2 * self.width

    @property
    def head_rows(self) -> int:
        """P: rows of the fused head projection (all heads' raw parameters)."""
        return self.read_heads * self.read_block + self.write_heads * self.write_block

    @property
    def controller_inputs(self) -> int:
        """The controller sees x_t and the R read vectors of the previous step."""
        return self.inputs + self.read_heads * self.width

    @property
    def output_inputs(self) -> int:
        """The output layer sees h_t and the R read vectors of this step."""
        return self.hidden + self.read_heads * self.width

    def head_offsets(self) -> np.ndarray:
        """[heads] start row of each head's block in the head projection."""
        offsets = [k * self.read_block for k in range(self.read_heads)]
        base = self.read_heads * self.read_block
        offsets += [base + k * self.write_block for k in range(self.write_heads)]
        return np.array(offsets, dtype=np.int64)

    def param_shapes(self) -> dict[str, tuple[int, ...]]:
        """name -> shape, in flat-vector order. A feed-forward controller keeps the LSTM's
        names with no recurrent weight and no initial state (zero-size entries), so that every
        NTM has the same parameter list for the kernels."""
        H, P, G = self.hidden, self.head_rows, self.gate_rows
        state = H if self.recurrent else 0
        shapes = {
            "controller.weight_ih": (G, self.controller_inputs),
            "controller.weight_hh": (G, state),
            "controller.bias": (G,),
            "controller.h0": (state,),
            "controller.c0": (state,),
            "heads.weight": (P, H),
            "heads.bias": (P,),
            "output.weight": (self.outputs, self.output_inputs),
            "output.bias": (self.outputs,),
            "read0": (self.read_heads, self.width),
            "weight0_logits": (self.heads, self.slots),
        }
        return shapes


INIT_SCHEMES = ("ntm", "pytorch")
GROWN_LOGIT_GAP = 30.0  # a grown memory's new slots start this far below the lowest logit


def grown_logits(logits: np.ndarray, slots: int) -> np.ndarray:
    """Initial-weighting logits [heads, N] -> [heads, slots] (slots >= N): the new slots get
    logits GROWN_LOGIT_GAP below the lowest, so the initial weighting stays the trained one
    (a new slot weighs ~1e-13 of the largest)."""
    extra = slots - logits.shape[-1]
    if extra < 0:
        raise ValueError(f"a memory of {logits.shape[-1]} slots cannot shrink to {slots}")
    fill = float(logits.min()) - GROWN_LOGIT_GAP if logits.size else 0.0
    return np.pad(logits, ((0, 0), (0, extra)), constant_values=fill)


def with_slots(shape: NTMShape, flat: np.ndarray, slots: int) -> tuple[NTMShape, np.ndarray]:
    """The same model on a memory of `slots` rows (>= shape.slots): no weight depends on N
    but the initial weighting's logits, which grow_logits extends. Returns (shape, flat);
    the flat vector is a new one unless slots == shape.slots."""
    if slots == shape.slots:
        return shape, flat
    grown = replace(shape, slots=slots)
    new_flat = np.empty(grown.size, dtype=flat.dtype)
    old, new = views(shape, flat), views(grown, new_flat)
    for name, value in old.items():
        if name == "weight0_logits":
            new[name][...] = grown_logits(value, slots)
        else:
            new[name][...] = value
    return grown, new_flat


def init_params(
    shape: NTMShape, rng: np.random.Generator, dtype=np.float32, scheme: str = "ntm"
) -> np.ndarray:
    """A fresh flat parameter vector.

    scheme "pytorch": PyTorch's LSTM and Linear default, uniform(+-1/sqrt(H)) for the controller
    and heads and uniform(+-1/sqrt(fan_in)) for the output layer, with forget-gate bias 1.

    scheme "ntm" (loudinthecloud/pytorch-ntm's init): controller weights uniform(+-5/sqrt(I + H))
    with zero biases, heads Xavier-uniform with gain 1.4, the output layer Xavier-uniform, both
    biases N(0, 0.01). On repeat copy this is the difference between finding the memory
    algorithm within 10-70k sequences (seeds 0-4) and memorising in the controller for 100k.
    Both halves counted on an earlier build (with FMA contraction, see flags.py): with only the
    controller wide, seeds 1 / 2 ended at 0.14 / 43 wrong bits; with only the heads and output
    wide, at 8.0 / 0.28 (both wide: 0.0 / 0.0; neither: 33 / 23).

    Both: learned initial state h0, c0 and read vectors ~ N(0, 0.05), initial weighting logits
    ~ N(0, 1) (random logits break the symmetry a uniform initial weighting would have)."""
    if scheme not in INIT_SCHEMES:
        raise ValueError(f"init scheme must be one of {INIT_SCHEMES}, got {scheme!r}")
    flat = np.zeros(shape.size, dtype=np.float64)
    p = views(shape, flat)
    H = shape.hidden
    if scheme == "pytorch":
        bound = 1.0 / np.sqrt(H)
        for name in ("controller.weight_ih", "controller.weight_hh", "heads.weight"):
            p[name][...] = rng.uniform(-bound, bound, p[name].shape)
        p["controller.bias"][...] = rng.uniform(-bound, bound, shape.gate_rows)
        if shape.recurrent:
            p["controller.bias"][H : 2 * H] += 1.0
        p["heads.bias"][...] = rng.uniform(-bound, bound, shape.head_rows)
        out_bound = 1.0 / np.sqrt(shape.output_inputs)
        p["output.weight"][...] = rng.uniform(-out_bound, out_bound, p["output.weight"].shape)
        p["output.bias"][...] = rng.uniform(-out_bound, out_bound, shape.outputs)
    else:
        bound = 5.0 / np.sqrt(shape.controller_inputs + H)
        for name in ("controller.weight_ih", "controller.weight_hh"):
            p[name][...] = rng.uniform(-bound, bound, p[name].shape)
        for name, gain in (("heads", 1.4), ("output", 1.0)):
            rows, cols = p[f"{name}.weight"].shape
            xavier = gain * np.sqrt(6.0 / (rows + cols))
            p[f"{name}.weight"][...] = rng.uniform(-xavier, xavier, (rows, cols))
            p[f"{name}.bias"][...] = rng.normal(0.0, 0.01, rows)
    p["controller.h0"][...] = rng.normal(0.0, 0.05, p["controller.h0"].shape)
    p["controller.c0"][...] = rng.normal(0.0, 0.05, p["controller.c0"].shape)
    p["read0"][...] = rng.normal(0.0, 0.05, p["read0"].shape)
    p["weight0_logits"][...] = rng.normal(0.0, 1.0, p["weight0_logits"].shape)
    return flat.astype(dtype)
