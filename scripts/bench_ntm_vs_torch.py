"""Training throughput of the copy-preset NTM: tui-lab's kernels vs a straightforward PyTorch NTM.

Both models: LSTM controller 100 units, memory 128 x 20, one read and one write head, shifts
-1..+1, 8-bit copy task with lengths 1-20 (the same batches), float32, BCE on the output phase,
one optimizer update (RMSProp, Graves' settings in ours, torch.optim.RMSprop centred with
momentum in PyTorch's) per batch. PyTorch runs with torch.set_num_threads(2). The two are
measured alternately in rounds inside one process, so machine load hits both alike;
sequences per wall second and per CPU second of the process (all its threads) are printed.

    python scripts/bench_ntm_vs_torch.py [--seconds 10] [--rounds 3] [--batches 1 16]
                                         [--torch-threads 2]

torch is used only here, for the comparison; tui-lab never imports it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kernels.ntm import NTMShape, backward, forward, init_params, views  # noqa: E402
from kernels.optim import RMSPropGraves, clip_elementwise, clip_global_norm  # noqa: E402
from tui_lab.tasks.ntm_tasks import TaskSpec, batch_for_update  # noqa: E402

HIDDEN, SLOTS, WIDTH, SHIFT = 100, 128, 20, 1


class TorchNTM(nn.Module):
    """The textbook PyTorch NTM (as in the public reproductions): LSTMCell controller,
    one read head and one write head, memory ops written with tensor ops per time step."""

    def __init__(self, inputs, outputs):
        super().__init__()
        self.controller = nn.LSTMCell(inputs + WIDTH, HIDDEN)
        self.read_head = nn.Linear(HIDDEN, WIDTH + 3 + 2 * SHIFT + 1)
        self.write_head = nn.Linear(HIDDEN, 3 * WIDTH + 3 + 2 * SHIFT + 1)
        self.out = nn.Linear(HIDDEN + WIDTH, outputs)
        self.h0 = nn.Parameter(torch.randn(1, HIDDEN) * 0.05)
        self.c0 = nn.Parameter(torch.randn(1, HIDDEN) * 0.05)
        self.read0 = nn.Parameter(torch.randn(1, WIDTH) * 0.05)
        self.w0 = nn.Parameter(torch.randn(2, SLOTS))

    @staticmethod
    def address(params, mem, w_prev):
        key = torch.tanh(params[:, :WIDTH])
        beta = F.softplus(params[:, WIDTH : WIDTH + 1])
        g = torch.sigmoid(params[:, WIDTH + 1 : WIDTH + 2])
        gamma = 1 + F.softplus(params[:, WIDTH + 2 : WIDTH + 3])
        shift = torch.softmax(params[:, WIDTH + 3 : WIDTH + 4 + 2 * SHIFT], dim=1)
        sim = F.cosine_similarity(mem, key.unsqueeze(1), dim=2, eps=1e-8)
        wc = torch.softmax(beta * sim, dim=1)
        wg = g * wc + (1 - g) * w_prev
        ws = sum(
            torch.roll(wg, s, dims=1) * shift[:, s + SHIFT : s + SHIFT + 1]
            for s in range(-SHIFT, SHIFT + 1)
        )
        return torch.softmax(gamma * torch.log(ws.clamp_min(1e-8)), dim=1)

    def forward(self, x):
        T, B, _ = x.shape
        h, c = self.h0.expand(B, -1), self.c0.expand(B, -1)
        read = self.read0.expand(B, -1)
        w0 = torch.softmax(self.w0, dim=1)
        w_read, w_write = w0[0].expand(B, -1), w0[1].expand(B, -1)
        mem = torch.full((B, SLOTS, WIDTH), 1e-6)
        outs = []
        for t in range(T):
            h, c = self.controller(torch.cat([x[t], read], dim=1), (h, c))
            rp, wp = self.read_head(h), self.write_head(h)
            w_read = self.address(rp, mem, w_read)
            w_write = self.address(wp, mem, w_write)
            read = torch.bmm(w_read.unsqueeze(1), mem).squeeze(1)
            o = WIDTH + 4 + 2 * SHIFT
            erase = torch.sigmoid(wp[:, o : o + WIDTH])
            add = torch.tanh(wp[:, o + WIDTH : o + 2 * WIDTH])
            mem = mem * (1 - w_write.unsqueeze(2) * erase.unsqueeze(1)) + w_write.unsqueeze(
                2
            ) * add.unsqueeze(1)
            outs.append(self.out(torch.cat([h, read], dim=1)))
        return torch.stack(outs)


def torch_trainer(spec):
    torch.manual_seed(0)
    model = TorchNTM(spec.input_width, spec.output_width)
    opt = torch.optim.RMSprop(
        model.parameters(), lr=1e-4, alpha=0.95, momentum=0.9, centered=True, eps=1e-4
    )

    def update(ep):
        x = torch.from_numpy(ep.inputs.astype(np.float32))
        y = torch.from_numpy(ep.targets.astype(np.float32))
        m = torch.from_numpy(ep.mask.astype(np.float32)).unsqueeze(2)
        logits = model(x)
        loss = (F.binary_cross_entropy_with_logits(logits, y, reduction="none") * m).sum()
        opt.zero_grad()
        (loss / x.shape[1]).backward()
        torch.nn.utils.clip_grad_value_(model.parameters(), 10.0)
        opt.step()

    return update


def ours_trainer(spec, threaded):
    shape = NTMShape(spec.input_width, spec.output_width, HIDDEN, SLOTS, WIDTH)
    flat = init_params(shape, np.random.default_rng(0), np.float32)
    params = views(shape, flat)
    opt = RMSPropGraves(params)

    def update(ep):
        trace = forward(shape, flat, ep.inputs, ep.lengths, threaded)
        _, grads = backward(trace, ep.targets, ep.mask, 1.0 / ep.lengths.size, threaded)
        clip_global_norm([grads["flat"]], 100.0)
        clip_elementwise(grads["flat"], 10.0)
        opt.step({k: v for k, v in grads.items() if k != "flat"})

    return update


def measure(update, spec, batch, seconds):
    """-> (sequences per wall second, sequences per CPU second of this process)."""
    update(batch_for_update(spec, 0, 0, batch))  # warm-up (JIT compile / allocator)
    done, k = 0, 1
    start, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        update(batch_for_update(spec, 0, k, batch))
        done += batch
        k += 1
    return done / (time.perf_counter() - start), done / (time.process_time() - cpu)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    ap.add_argument(
        "--torch-threads",
        type=int,
        default=2,
        help="torch.set_num_threads (on a busy machine 1 is faster)",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(args.torch_threads)
    spec = TaskSpec("copy")
    print(
        f"copy task, lengths 1-20, float32, {args.rounds} rounds x {args.seconds:g} s each, "
        f"torch threads {args.torch_threads}"
    )
    for batch in args.batches:
        runners = {"pytorch": torch_trainer(spec), "ours": ours_trainer(spec, threaded=False)}
        if batch > 1:
            runners["ours-prange"] = ours_trainer(spec, threaded=True)
        rates = {name: [] for name in runners}
        for _ in range(args.rounds):
            for name, update in runners.items():
                rates[name].append(measure(update, spec, batch, args.seconds))
        wall = {name: max(r[0] for r in rs) for name, rs in rates.items()}
        cpu = {name: max(r[1] for r in rs) for name, rs in rates.items()}
        for label, best in (("wall", wall), ("cpu", cpu)):
            line = ", ".join(f"{name} {rate:.1f}" for name, rate in best.items())
            ratio = max(v for k, v in best.items() if k != "pytorch") / best["pytorch"]
            print(f"batch {batch:2d} seq/{label}-s: {line}; best ours / pytorch = {ratio:.1f}x")


if __name__ == "__main__":
    main()
