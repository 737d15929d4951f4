"""Weights in and out of PyTorch: safetensors files under torch's state-dict names.

`tui-lab run ... --out D` writes `D/model.safetensors`; `tui-lab --open FILE.safetensors
--scenario NAME` and `[model] weights = "FILE.safetensors"` read one. The file is the
safetensors format (the `safetensors` package's numpy API; torch is never imported), each
tensor in PyTorch's layout, so `model.load_state_dict(safetensors.torch.load_file(path))`
works unchanged on the torch model below, and `safetensors.torch.save_file(
model.state_dict(), path)` writes a file tui-lab opens.

Names, per lab kind (L layers, D = 2 if bidirectional else 1, G = 1 / 4 / 3 gate blocks
for RNN / LSTM (i, f, g, o) / GRU (r, z, n), as torch):

char_rnn, sequence, forecast, anomaly: the recurrent layer under "rnn.", a linear head
under "head.":

    rnn.weight_ih_l{k}[_reverse]  [G*H, I] (k = 0) or [G*H, D*H]
    rnn.weight_hh_l{k}[_reverse]  [G*H, H]
    rnn.bias_ih_l{k}[_reverse], rnn.bias_hh_l{k}[_reverse]  [G*H]
    head.weight [C, D*H], head.bias [C]

    class Net(nn.Module):                     # loads the file unchanged
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(input_size=I, hidden_size=H, num_layers=L, bidirectional=...)
            self.head = nn.Linear(D * H, C)   # on every step's output (sequence-first x)

    (nn.RNN takes nonlinearity="relu" when the scenario sets it.) The inputs are one-hot
    [T, B, I]: char_rnn's I is the sorted characters of the text, sequence's the task's
    symbols; forecast feeds the scaled series [T, B, 1] and reads the head at the last step.
    `describe_torch_model(lab)` prints the exact modules of a scenario.

compare: one Net per cell in an nn.ModuleDict: "rnn.rnn.weight_ih_l0", "lstm.head.weight",
"gru.rnn.bias_hh_l0", ...

w2v_sentiment: one Net per variant in an nn.ModuleDict ("onehot.rnn.weight_ih_l0",
"frozen.head.bias", "finetuned.rnn.weight_hh_l0", ...), the fine-tuned variant's
nn.Embedding(V, E) as "finetuned.embedding.weight" [V, E], and the Word2Vec matrices
"w2v.W_in" [V, E] (the word vectors, the frozen variant's inputs) and "w2v.W_out" [V, E].

seq2seq (documented names, no stock torch module): "encoder.*" an nn.GRU(V, H), "decoder.*"
an nn.GRU(V + 1 [+ H with attention], H), "head.weight" [V, H or 2H], "head.bias" [V], and
with attention "attention.w_k" [A, H], "attention.w_q" [A, H], "attention.v" [A], where the
score of source step j is v . tanh(w_q s + w_k h_j) (see tui_lab/seq2seq.py).

ntm (documented names; X inputs, Y outputs, R read heads, N x W memory, G = 4H for the
LSTM controller (gates i, f, g, o) and H for the feed-forward one):
"controller.weight_ih" [G, X + R*W], "controller.weight_hh" [G, H], "controller.bias" [G]
(torch's bias_ih + bias_hh in one), "controller.h0" [H], "controller.c0" [H] (the learnt
initial state), "heads.weight" [P, H], "heads.bias" [P] (each head's raw key, beta, g,
gamma, shift, erase, add: kernels/ntm/layout.py), "output.weight" [Y, H + R*W],
"output.bias" [Y], "read0" [R, W], "weight0_logits" [heads, N]. The feed-forward
controller has no weight_hh, h0 or c0; the plain LSTM baseline (model.controller_only)
has controller.* and output.* only.

mann (documented names; X = the sample's pixels + the classes, R heads, memory width M,
P = R * (2M + 1 [+ 1 with a key strength]): kernels/mann/layout.py): "controller.weight_ih"
[4H, X + R*M], "controller.weight_hh" [4H, H], "controller.bias" [4H], "heads.weight" [P, H],
"heads.bias" [P] (each head's raw key, add, write gate, key strength), "output.weight"
[Y, H + R*M], "output.bias" [Y]; the LSTM baseline (model.controller_only) has no heads.*.

word2vec: "W_in" [V, E] (the word vectors) and "W_out" [V, E], rows in vocabulary order.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import numpy as np

from tui_lab.files import atomic_write_bytes
from tui_lab.scenario import Field, ScenarioError

WEIGHTS = Field(
    "path",
    "",
    doc="a .safetensors file of weights under PyTorch's names to start from "
    "(tui_lab/interop.py lists them)",
)
_RECURRENT_KINDS = ("char_rnn", "sequence", "forecast", "anomaly")


# ---- names --------------------------------------------------------------------------
def _recurrent_name(name: str) -> str:
    """Our Recurrent's bare names go under "rnn."; the head keeps "head."."""
    return name if name.startswith("head.") else f"rnn.{name}"


def torch_name(kind: str, name: str) -> str:
    """A lab parameter's name -> its name in the safetensors file (PyTorch's state dict)."""
    if kind in _RECURRENT_KINDS:
        return _recurrent_name(name)
    if kind == "compare":  # "lstm/weight_ih_l0" -> "lstm.rnn.weight_ih_l0"
        cell, _, rest = name.partition("/")
        return f"{cell}.{_recurrent_name(rest)}"
    if kind == "w2v_sentiment" and name == "finetuned.embedding":
        return "finetuned.embedding.weight"  # an nn.Embedding's state-dict name
    return name


def torch_parameters(lab) -> dict[str, np.ndarray]:
    """torch name -> the lab's live parameter array (not a copy)."""
    named = {torch_name(lab.kind, name): value for name, value in lab.parameters().items()}
    if len(named) != len(lab.parameters()):
        raise AssertionError(f"{lab.kind}: two parameters map to one torch name")
    return named


def state_dict(lab) -> dict[str, np.ndarray]:
    """torch name -> a C-contiguous copy of the parameter."""
    named = torch_parameters(lab)
    return {name: np.ascontiguousarray(value).copy() for name, value in named.items()}


# ---- the torch modules a file loads into --------------------------------------------
def _module_parts(lab) -> dict[str, object]:
    """prefix -> our Recurrent or Linear, for the kinds made of torch's stock modules."""
    kind = lab.kind
    if kind in ("char_rnn", "forecast", "anomaly"):
        return {"rnn": lab.rnn, "head": lab.head}
    if kind == "sequence":
        return {"rnn": lab.net.rnn, "head": lab.net.head}
    if kind == "compare":
        parts = {}
        for cell, sub in lab.labs.items():
            parts[f"{cell}.rnn"], parts[f"{cell}.head"] = sub.net.rnn, sub.net.head
        return parts
    if kind == "w2v_sentiment":
        parts = {}
        for variant, (rnn, head) in lab.models.items():
            parts[f"{variant}.rnn"], parts[f"{variant}.head"] = rnn, head
        return parts
    if kind == "seq2seq":
        return {"encoder": lab.net.encoder, "decoder": lab.net.decoder, "head": lab.net.head}
    return {}


def _torch_module(part) -> str:
    if hasattr(part, "cell"):
        cls = {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU"}[part.cell]
        relu = part.cell == "rnn" and part.nonlinearity == "relu"
        extra = ", nonlinearity='relu'" if relu else ""
        return (
            f"nn.{cls}(input_size={part.input_size}, hidden_size={part.hidden_size}, "
            f"num_layers={part.num_layers}, bidirectional={part.bidirectional}{extra})"
        )
    out_features, in_features = part.params["weight"].shape
    return f"nn.Linear({in_features}, {out_features})"


def describe_torch_model(lab) -> str:
    """One line: the torch modules whose state dict the lab's file holds, e.g.
    "rnn = nn.LSTM(input_size=4, hidden_size=16, num_layers=1, bidirectional=False);
    head = nn.Linear(16, 4)". Kinds without stock modules: their documented names."""
    parts = _module_parts(lab)
    if not parts:
        return f"{lab.kind}'s documented names (tui_lab/interop.py)"
    return "; ".join(f"{prefix} = {_torch_module(part)}" for prefix, part in parts.items())


# ---- files --------------------------------------------------------------------------
def save_weights(lab, path: str | Path) -> None:
    """Write the lab's parameters as a safetensors file, atomically."""
    from safetensors.numpy import save

    metadata = {"format": "pt", "tui_lab.kind": lab.kind, "torch": describe_torch_model(lab)}
    atomic_write_bytes(path, save(state_dict(lab), metadata=metadata))


def read_safetensors(path: str | Path, label: str = "") -> dict[str, np.ndarray]:
    """A safetensors file -> name -> array. A missing or unreadable file is a ScenarioError
    whose message starts with `label` (default: the path)."""
    from safetensors.numpy import load

    path = Path(path)
    label = label or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScenarioError(f"{label}: no such file") from None
    except IsADirectoryError:
        raise ScenarioError(f"{label}: is a folder, expected a .safetensors file") from None
    except OSError as error:
        raise ScenarioError(f"{label}: cannot read: {error.strerror}") from None
    try:
        return load(data)
    except Exception as error:  # safetensors raises its own error types for bad headers
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ScenarioError(
            f"{label}: not a safetensors file of tensors numpy can hold ({reason})"
        ) from None


def load_weights(lab, path: str | Path, label: str = "") -> None:
    """Copy a safetensors file's tensors into the lab's parameters, by torch name.

    Every name and shape is checked before anything is copied: a tensor the lab does not
    have, a wrong shape, a non-float dtype or a missing tensor is a ScenarioError that starts
    with `label` (default: the path) and names the tensor, its shape and the expected one."""
    label = label or str(path)
    arrays = read_safetensors(path, label)
    targets = torch_parameters(lab)
    model = f"scenario {lab.scenario.stem!r} ({describe_torch_model(lab)})"
    for name in sorted(arrays):
        if name not in targets:
            close = difflib.get_close_matches(name, list(targets), n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ScenarioError(
                f"{label}: tensor {name!r} {tuple(arrays[name].shape)} is not a parameter of "
                f"{model}; {hint}expected tensors: {_listing(targets)}"
            )
    for name, target in targets.items():  # the model's own order: the first misfit is reported
        value = arrays.get(name)
        if value is None:
            continue
        if value.shape != target.shape:
            raise ScenarioError(
                f"{label}: tensor {name!r} has shape {tuple(value.shape)}, "
                f"expected {tuple(target.shape)} for {model}"
            )
        if value.dtype.kind != "f":
            raise ScenarioError(
                f"{label}: tensor {name!r} has dtype {value.dtype}, expected floats"
            )
    # A zero-size tensor carries nothing: it may be absent (torch drops none, but a file
    # written by hand may).
    missing = [name for name, target in targets.items() if name not in arrays and target.size]
    if missing:
        raise ScenarioError(
            f"{label}: missing tensor {missing[0]!r} (expected shape "
            f"{tuple(targets[missing[0]].shape)}) for {model}"
            + (f"; {len(missing) - 1} more missing" if len(missing) > 1 else "")
        )
    for name, value in arrays.items():
        targets[name][...] = value
    lab.changed()  # frames stepped so far came from the old weights


def _listing(names, limit: int = 8) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def resolve_weights_path(scenario, value: str) -> Path:
    """model.weights: absolute, else next to the scenario file, else from the working folder."""
    path = Path(value).expanduser()
    if not path.is_absolute() and scenario.path is not None:
        beside = scenario.path.parent / path
        if beside.exists():
            return beside
    return path


def apply_scenario_weights(lab) -> None:
    """Load [model] weights into a freshly built lab, if the scenario names a file."""
    value = lab.scenario.values.get("model", {}).get("weights", "")
    if value:
        path = resolve_weights_path(lab.scenario, value)
        load_weights(lab, path, f"{lab.scenario.source}: model.weights: {path}")
