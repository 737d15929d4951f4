"""A sweep on a local Dask cluster against the same runs one after another.

    python scripts/bench_sweep.py [--scenario long-range-lstm] [--workers 2]

Runs a 2 x 3 sweep (2 grid values x seeds 0-2) with `tui-lab sweep --workers N`, and the
same six runs as six `tui-lab run` commands in a row, and prints both wall times (start-
up, cluster start and Numba cache loads included: what a user waits for) and their
ratio. The first pass warms Numba's cache so that neither side pays for compiling.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def tui_lab(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "tui_lab.cli", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="long-range-lstm")
    parser.add_argument("--grid", default="model.gate_bias=3,0")
    parser.add_argument("--seeds", default="0-2")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    key, values = args.grid.split("=", 1)
    first, last = (int(part) for part in args.seeds.split("-"))
    with tempfile.TemporaryDirectory() as temp:
        tui_lab("run", args.scenario, "--quiet", "--set", "train.updates=5")  # warm the cache
        sequential = 0.0
        for value in values.split(","):
            for seed in range(first, last + 1):
                sequential += tui_lab(
                    "run", args.scenario, "--set", f"{key}={value}", "--seed", str(seed),
                    "--quiet", "--out", str(Path(temp) / f"{value}-{seed}"),
                )
        swept = tui_lab(
            "sweep", args.scenario, "--grid", args.grid, "--seeds", args.seeds,
            "--workers", str(args.workers), "--quiet", "--out", str(Path(temp) / "sweep"),
        )
    runs = len(values.split(",")) * (last - first + 1)
    print(f"{args.scenario}, {runs} runs ({args.grid} x seeds {args.seeds})")
    print(f"one after another (tui-lab run x {runs}): {sequential:.1f} s")
    print(f"tui-lab sweep --workers {args.workers}: {swept:.1f} s")
    print(f"ratio: {sequential / swept:.2f}x")


if __name__ == "__main__":
    main()
