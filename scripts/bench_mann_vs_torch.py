"""Training throughput of the one-shot MANN: tui-lab's kernels vs a straightforward PyTorch MANN.

Both models are the mann-one-shot scenario's (or the sizes given): LSTM controller, memory
N x M, R heads each with a key, an add vector, a write gate (and a key strength), least-
recently-used writes, 5-way episodes of 50 steps of 20 x 20 glyphs, float32, softmax cross-
entropy on every step, one Adam update per batch. The episodes are made once, before timing,
and both models train on the same ones (making them is not what is compared; its cost is
printed apart). PyTorch runs once per --torch-threads value (torch.set_num_threads; default
1 and 2: on a loaded 2-core machine two torch threads wait on each other and run several times
slower than one, so the ratio is taken against the faster of the two). Ours runs on one thread
("ours") and, at batch > 1, in parallel chunks of episodes on Numba's threads ("ours-prange").
All are measured alternately in rounds inside one process, so machine load hits them alike;
sequences (episodes) per wall second and per CPU second of the process (all its threads) are
printed, the best round of each, and the ratio best ours / best PyTorch.

    python scripts/bench_mann_vs_torch.py [--seconds 10] [--rounds 3] [--batches 1 16]
                                          [--torch-threads 1 2] [--set model.hidden=200 ...]

torch is used only here, for the comparison; tui-lab never imports it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# Before torch loads its libgomp, which Numba's OpenMP layer then shares (one libgomp.so.1 per
# process): with libgomp's default spin-waiting, on this 2-core machine shared with other jobs
# the 2-thread runs of both took several times longer than 1 thread (pytorch-2t 2.5-5 seq/s,
# ours-prange 250 against ours 1040-1260 at batch 16). kernels/__init__.py sets the same
# default, too late once torch is imported. A value set outside is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numba  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kernels.mann import GAMMA, MEMORY_INIT, backward, forward, init_params, views  # noqa: E402
from kernels.optim import Adam, clip_global_norm  # noqa: E402
from tui_lab.labs.mann import glyph_spec, model_shape  # noqa: E402
from tui_lab.registry import resolve  # noqa: E402
from tui_lab.tasks.glyphs import batch_for_update  # noqa: E402


class TorchMANN(nn.Module):
    """The textbook PyTorch MANN (as in the public reproductions): LSTMCell controller, the
    memory ops written with tensor ops per time step, the least-used slots by topk."""

    def __init__(self, shape):
        super().__init__()
        self.s = shape
        R, M = shape.heads, shape.width
        self.controller = nn.LSTMCell(shape.inputs + R * M, shape.hidden)
        self.heads = nn.Linear(shape.hidden, shape.head_rows)
        self.out = nn.Linear(shape.hidden + R * M, shape.classes)

    def forward(self, x):
        s = self.s
        T, B, _ = x.shape
        R, N, M = s.heads, s.slots, s.width
        h = x.new_zeros(B, s.hidden)
        c = x.new_zeros(B, s.hidden)
        reads = x.new_zeros(B, R * M)
        w_read = x.new_zeros(B, R, N)
        usage = x.new_zeros(B, N)
        mem = x.new_full((B, N, M), MEMORY_INIT)
        rows = torch.arange(B)
        outs = []
        for t in range(T):
            h, c = self.controller(torch.cat([x[t], reads], 1), (h, c))
            raw = self.heads(h).view(B, R, s.block)
            key, add = torch.tanh(raw[..., :M]), torch.tanh(raw[..., M : 2 * M])
            sigma = torch.sigmoid(raw[..., 2 * M : 2 * M + 1])
            least = torch.topk(usage, R, dim=1, largest=False).indices  # [B, R]
            w_lu = F.one_hot(least, N).to(x.dtype)
            w_write = sigma * w_read + (1 - sigma) * w_lu
            keep = torch.ones(B, N)
            keep[rows, least[:, 0]] = 0.0
            mem = mem * keep.unsqueeze(2) + torch.bmm(w_write.transpose(1, 2), add)
            norms = key.norm(dim=2, keepdim=True) * mem.norm(dim=2).unsqueeze(1)  # [B, R, N]
            sim = torch.bmm(key, mem.transpose(1, 2)) / (norms + 1e-8)  # cosine, as ours
            if s.key_strength:
                sim = F.softplus(raw[..., 2 * M + 1 :]) * sim
            w_read = torch.softmax(sim, dim=2)
            read = torch.bmm(w_read, mem)  # [B, R, M]
            usage = GAMMA * usage + w_read.sum(1) + w_write.sum(1)
            reads = read.reshape(B, R * M)
            outs.append(self.out(torch.cat([h, reads], 1)))
        return torch.stack(outs)


def torch_trainer(shape, threads):
    torch.manual_seed(0)
    model = TorchMANN(shape)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def update(ep):
        torch.set_num_threads(threads)
        x = torch.from_numpy(ep.inputs)
        y = torch.from_numpy(ep.labels)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, shape.classes), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()

    return update


def ours_trainer(shape, threaded):
    flat = init_params(shape, np.random.default_rng(0), np.float32)
    params = {k: v for k, v in views(shape, flat).items() if v.size}
    opt = Adam(params, lr=1e-4)

    last = [None]  # the previous update's trace, whose arrays forward reuses

    def update(ep):
        trace = last[0] = forward(shape, flat, ep.inputs, GAMMA, threaded, reuse=last[0])
        _, grads = backward(trace, ep.labels, None, 1.0 / ep.labels.size, threaded)
        clip_global_norm([grads.pop("flat")], 10.0)
        opt.step({k: grads[k] for k in params})

    return update


def measure(update, pool, seconds):
    """-> (sequences per wall second, sequences per CPU second of this process)."""
    update(pool[0])  # warm-up (JIT compile / allocator)
    done, k = 0, 1
    start, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        ep = pool[k % len(pool)]
        update(ep)
        done += ep.labels.shape[1]
        k += 1
    return done / (time.perf_counter() - start), done / (time.process_time() - cpu)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--torch-threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--set", action="append", default=[], help="scenario override, k=v")
    args = ap.parse_args(argv)
    scenario = resolve("mann-one-shot").with_overrides(args.set)
    spec, shape = glyph_spec(scenario), model_shape(scenario)
    print(
        f"mann-one-shot: LSTM {shape.hidden}, memory {shape.slots} x {shape.width}, "
        f"{shape.heads} heads, key strength {shape.key_strength}, {spec.classes}-way, "
        f"T = {spec.length}, X = {shape.inputs}, {shape.size:,} parameters; float32, "
        f"{args.rounds} rounds x {args.seconds:g} s, torch threads {args.torch_threads}, "
        f"Numba threads {numba.get_num_threads()}"
    )
    for batch in args.batches:
        start = time.process_time()
        pool = [batch_for_update(spec, 0, k, batch) for k in range(8)]
        made = (time.process_time() - start) / (8 * batch)
        runners = {f"pytorch-{n}t": torch_trainer(shape, n) for n in args.torch_threads}
        runners["ours"] = ours_trainer(shape, threaded=False)
        if batch > 1:
            runners["ours-prange"] = ours_trainer(shape, threaded=True)
        rates = {name: [] for name in runners}
        for _ in range(args.rounds):
            for name, update in runners.items():
                rates[name].append(measure(update, pool, args.seconds))
        wall = {name: max(r[0] for r in rs) for name, rs in rates.items()}
        cpu = {name: max(r[1] for r in rs) for name, rs in rates.items()}
        for label, best in (("wall", wall), ("cpu", cpu)):
            line = ", ".join(f"{name} {rate:.1f}" for name, rate in best.items())
            ours = max(v for k, v in best.items() if k.startswith("ours"))
            theirs = max(v for k, v in best.items() if k.startswith("pytorch"))
            print(f"batch {batch:2d} seq/{label}-s: {line}; best ours / best pytorch = "
                  f"{ours / theirs:.1f}x")  # fmt: skip
        print(f"batch {batch:2d} making the episodes: {1e3 * made:.2f} ms CPU per episode")


if __name__ == "__main__":
    main()
