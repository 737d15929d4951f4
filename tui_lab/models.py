"""Parameter-owning models over the kernels, with PyTorch's names and semantics.

`Recurrent` is torch.nn.RNN / LSTM / GRU: stacked layers, optionally
bidirectional, sequence-first. Its state_dict() keys are PyTorch's
(`weight_ih_l0`, `weight_hh_l1_reverse`, ...), so a torch state dict converted
to numpy loads unchanged and gives the same outputs. `Linear` is nn.Linear.

Each forward keeps what its backward needs; backward returns gradients keyed
by state-dict name, plus "input" (and "h0"/"c0" for the initial state).
"""

from __future__ import annotations

import numpy as np

from kernels import gru, lstm, rnn

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
GATE_NAMES = {"rnn": (), "lstm": ("i", "f", "g", "o"), "gru": ("r", "z", "n")}
_KERNELS = {"rnn": rnn, "lstm": lstm, "gru": gru}
_PARAM_KINDS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


class Recurrent:
    """torch.nn.{RNN,LSTM,GRU}(input_size, hidden_size, num_layers, bidirectional).

    forward(x [T, B, I], state) -> (out [T, B, D*H], state_n) where D = 2 if
    bidirectional, state is h [L*D, B, H] (LSTM: a tuple (h, c)), as in torch.
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        nonlinearity: str = "tanh",
        dtype=np.float32,
        rng: np.random.Generator | None = None,
    ):
        if cell not in GATES:
            raise ValueError(f"cell must be one of {', '.join(GATES)}, got {cell!r}")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.cell = cell
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.directions = 2 if bidirectional else 1
        self.nonlinearity = nonlinearity
        self.dtype = np.dtype(dtype)
        rng = rng if rng is not None else np.random.default_rng(0)
        bound = 1.0 / np.sqrt(hidden_size)  # torch's init: U(-1/sqrt(H), 1/sqrt(H)) for all
        gated = GATES[cell] * hidden_size
        self.params: dict[str, np.ndarray] = {}
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.directions
            for direction in range(self.directions):
                shapes = {
                    "weight_ih": (gated, layer_input),
                    "weight_hh": (gated, hidden_size),
                    "bias_ih": (gated,),
                    "bias_hh": (gated,),
                }
                for kind, shape in shapes.items():
                    name = self.param_name(kind, layer, direction)
                    self.params[name] = rng.uniform(-bound, bound, shape).astype(self.dtype)
        self._traces: list[list] = []

    @staticmethod
    def param_name(kind: str, layer: int, direction: int) -> str:
        return f"{kind}_l{layer}" + ("_reverse" if direction == 1 else "")

    def layer_params(self, layer: int, direction: int = 0) -> dict[str, np.ndarray]:
        """The kernel's params dict for one layer and direction (views, not copies)."""
        return {kind: self.params[self.param_name(kind, layer, direction)] for kind in _PARAM_KINDS}

    # ---- state dict ---------------------------------------------------------------
    def parameters(self) -> dict[str, np.ndarray]:
        return self.params

    def state_dict(self) -> dict[str, np.ndarray]:
        return {name: value.copy() for name, value in self.params.items()}

    def load_state_dict(self, state: dict) -> None:
        """Load arrays keyed by PyTorch's names (torch tensors -> numpy first)."""
        missing = set(self.params) - set(state)
        unexpected = set(state) - set(self.params)
        if missing or unexpected:
            raise KeyError(
                f"state dict mismatch: missing {sorted(missing)}, unexpected {sorted(unexpected)}"
            )
        for name, value in state.items():
            value = np.asarray(value)
            if value.shape != self.params[name].shape:
                raise ValueError(
                    f"{name}: expected shape {self.params[name].shape}, got {value.shape}"
                )
            self.params[name][...] = value

    # ---- forward / backward ---------------------------------------------------------
    def zero_state(self, batch: int):
        shape = (self.num_layers * self.directions, batch, self.hidden_size)
        h = np.zeros(shape, self.dtype)
        return (h, np.zeros(shape, self.dtype)) if self.cell == "lstm" else h

    def _run_cell(self, x, h0, c0, params):
        kernel = _KERNELS[self.cell]
        if self.cell == "lstm":
            return kernel.forward(x, h0, c0, params)
        if self.cell == "rnn":
            return kernel.forward(x, h0, params, self.nonlinearity)
        return kernel.forward(x, h0, params)

    def forward(self, x: np.ndarray, state=None):
        """x: [T, B, I] -> (out [T, B, D*H], h_n [L*D, B, H] or (h_n, c_n) for LSTM)."""
        x = np.ascontiguousarray(x, dtype=self.dtype)
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x must be [T, B, {self.input_size}], got {x.shape}")
        batch = x.shape[1]
        if state is None:
            state = self.zero_state(batch)
        h0_all, c0_all = state if self.cell == "lstm" else (state, None)
        h_n, c_n = [], []
        self._traces = []
        layer_input = x
        for layer in range(self.num_layers):
            outputs, traces = [], []
            for direction in range(self.directions):
                index = layer * self.directions + direction
                h0 = np.ascontiguousarray(h0_all[index], dtype=self.dtype)
                c0 = None if c0_all is None else np.ascontiguousarray(c0_all[index], self.dtype)
                seq = layer_input if direction == 0 else np.ascontiguousarray(layer_input[::-1])
                trace = self._run_cell(seq, h0, c0, self.layer_params(layer, direction))
                traces.append(trace)
                outputs.append(trace.out if direction == 0 else trace.out[::-1])
                h_n.append(trace.h_n)
                if c0_all is not None:
                    c_n.append(trace.c_n)
            self._traces.append(traces)
            layer_input = np.ascontiguousarray(
                outputs[0] if self.directions == 1 else np.concatenate(outputs, axis=2)
            )
        h_n = np.stack(h_n)
        return layer_input, ((h_n, np.stack(c_n)) if self.cell == "lstm" else h_n)

    @property
    def traces(self) -> list[list]:
        """traces[layer][direction] of the last forward (the kernels' trace objects)."""
        return self._traces

    def backward(self, d_out: np.ndarray | None, d_state_n=None) -> dict[str, np.ndarray]:
        """Gradients of the last forward. d_out: [T, B, D*H]; d_state_n like the state.

        Returns state-dict names -> gradient, plus "input" [T, B, I], "h0" (and "c0")."""
        if not self._traces:
            raise RuntimeError("backward() before forward()")
        H = self.hidden_size
        if d_state_n is None:
            d_h_n_all = d_c_n_all = None
        elif self.cell == "lstm":
            d_h_n_all, d_c_n_all = d_state_n
        else:
            d_h_n_all, d_c_n_all = d_state_n, None
        grads: dict[str, np.ndarray] = {}
        d_h0 = [None] * (self.num_layers * self.directions)
        d_c0 = [None] * (self.num_layers * self.directions)
        d_layer_out = d_out
        for layer in reversed(range(self.num_layers)):
            d_input = None
            for direction in range(self.directions):
                index = layer * self.directions + direction
                trace = self._traces[layer][direction]
                d_piece = None
                if d_layer_out is not None:
                    d_piece = d_layer_out[:, :, direction * H : (direction + 1) * H]
                    if direction == 1:
                        d_piece = d_piece[::-1]
                    d_piece = np.ascontiguousarray(d_piece, dtype=self.dtype)
                d_h_n = None if d_h_n_all is None else np.ascontiguousarray(d_h_n_all[index])
                if self.cell == "lstm":
                    d_c_n = None if d_c_n_all is None else np.ascontiguousarray(d_c_n_all[index])
                    layer_grads = lstm.backward(trace, d_piece, d_h_n, d_c_n)
                    d_c0[index] = layer_grads["c0"]
                else:
                    layer_grads = _KERNELS[self.cell].backward(trace, d_piece, d_h_n)
                d_h0[index] = layer_grads["h0"]
                for kind in _PARAM_KINDS:
                    grads[self.param_name(kind, layer, direction)] = layer_grads[kind]
                d_x = layer_grads["input"]
                if direction == 1:
                    d_x = d_x[::-1]
                d_input = d_x if d_input is None else d_input + d_x
            d_layer_out = d_input
        grads["input"] = d_layer_out
        grads["h0"] = np.stack(d_h0)
        if self.cell == "lstm":
            grads["c0"] = np.stack(d_c0)
        return grads


class Linear:
    """torch.nn.Linear: y = x @ weight.T + bias. weight: [out, in], bias: [out]."""

    def __init__(self, in_features: int, out_features: int, dtype=np.float32, rng=None):
        rng = rng if rng is not None else np.random.default_rng(0)
        bound = 1.0 / np.sqrt(in_features)  # torch's kaiming_uniform(a=sqrt(5)) bound
        self.params = {
            "weight": rng.uniform(-bound, bound, (out_features, in_features)).astype(dtype),
            "bias": rng.uniform(-bound, bound, (out_features,)).astype(dtype),
        }
        self._x: np.ndarray | None = None

    def parameters(self) -> dict[str, np.ndarray]:
        return self.params

    def forward(self, x: np.ndarray) -> np.ndarray:
        """x: [N, in] -> [N, out]."""
        self._x = x
        return x @ self.params["weight"].T + self.params["bias"]

    def backward(self, d_y: np.ndarray) -> dict[str, np.ndarray]:
        """d_y: [N, out] -> {"weight", "bias", "input"}."""
        if self._x is None:
            raise RuntimeError("backward() before forward()")
        return {
            "weight": d_y.T @ self._x,
            "bias": d_y.sum(axis=0),
            "input": d_y @ self.params["weight"],
        }


def prefixed(prefix: str, arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """{"weight": w} -> {"head.weight": w}: one flat namespace for a model's parts."""
    return {f"{prefix}.{name}": value for name, value in arrays.items()}
