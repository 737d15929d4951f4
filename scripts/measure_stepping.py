"""Measure stepping headless: memory and per-frame compute as an input gets long.

    PYTHONPATH=. python scripts/measure_stepping.py textgen --chars 10000
    PYTHONPATH=. python scripts/measure_stepping.py anomaly
    PYTHONPATH=. python scripts/measure_stepping.py mann
    PYTHONPATH=. python scripts/measure_stepping.py after-training
    PYTHONPATH=. python scripts/measure_stepping.py textgen --chars 100000

Memory is the process's resident set (VmRSS, and the peak VmHWM) from
/proc/self/status, before and after stepping to the end. Each case runs in its own
process, so one case's peak does not hide another's. Works on the Stepper protocol
(tui_lab/labs/stepper.py) and, for before/after numbers, on the older one where the
lab itself had step/back/first/last/reset.
"""

from __future__ import annotations

import argparse
import statistics
import time

from tui_lab.labs import build_lab
from tui_lab.scenario import bundled_names, resolve


def memory_mb() -> tuple[float, float]:
    """(VmRSS, VmHWM) of this process in MB."""
    found = {}
    with open("/proc/self/status") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def stepper_of(lab):
    try:
        from tui_lab.labs.stepper import Stepper
    except ImportError:  # the older protocol: the lab steps itself
        return lab
    return Stepper(lab)


def timed(call) -> tuple[float, object]:
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1e3, result


def step_to_end(steps, label: str) -> None:
    """Step one at a time to the end, then time single frames there."""
    rss0, hwm0 = memory_mb()
    start = time.perf_counter()
    times = []
    frame = steps.frame()
    while True:
        ms, frame = timed(steps.step)
        times.append(ms)
        if frame.t == frame.T - 1 or len(times) > frame.T + 5:
            break
    total = time.perf_counter() - start
    rss1, hwm1 = memory_mb()
    print(
        f"{label}: stepped {len(times)} steps in {total:.1f} s (the first, which walks the "
        f"input, {times[0]:.1f} ms); RSS {rss0:.0f} -> {rss1:.0f} MB (+{rss1 - rss0:.0f}), "
        f"peak +{hwm1 - hwm0:.0f} MB"
    )
    rest = times[1:] or times
    print(
        f"  per step: median {statistics.median(rest):.2f} ms, max {max(rest):.2f} ms; "
        f"the last 100: median {statistics.median(times[-100:]):.2f} ms"
    )
    for name in ("back", "step", "first", "last"):
        ms = [timed(getattr(steps, name))[0] for _ in range(5)]
        print(f"  {name} at t = {frame.t}: median {statistics.median(ms):.2f} ms")


def textgen(chars: int, scenario: str) -> None:
    lab = build_lab(resolve(scenario))
    text = (lab.text * (chars // len(lab.text) + 1))[:chars]
    steps = stepper_of(lab)
    try:
        ms, _ = timed(lambda: steps.reset(text))
    except ValueError as error:
        print(f"{scenario}, {chars:,}-character own input: refused: {error}")
        return
    print(f"{scenario}, {chars:,}-character own input: reset (walk) {ms:.0f} ms")
    step_to_end(steps, f"{scenario} x {chars:,} chars")


def anomaly() -> None:
    lab = build_lab(resolve("anomaly-sensor"))
    step_to_end(stepper_of(lab), "anomaly-sensor")


def mann() -> None:
    """One held-out episode of mann-one-shot: memory 128 x 40 and weights at every step."""
    lab = build_lab(resolve("mann-one-shot"))
    step_to_end(stepper_of(lab), "mann-one-shot")


def after_training(updates: int, names: list[str]) -> None:
    """Step to the middle of the default input, train, time the next frame."""
    for name in names or bundled_names():
        lab = build_lab(resolve(name))
        steps = stepper_of(lab)
        frame = steps.frame()
        for _ in range(max(frame.T // 2, 1)):
            frame = steps.step()
        lab.train(updates)
        ms, frame = timed(steps.frame)
        again, _ = timed(steps.frame)
        print(
            f"{name:28s} t = {frame.t:4d} / {frame.T:4d}: next frame after {updates} updates "
            f"{ms:7.1f} ms (then {again:.1f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=("textgen", "anomaly", "mann", "after-training"))
    parser.add_argument("--chars", type=int, default=10_000)
    parser.add_argument("--scenario", default="char-textgen-lstm")
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--only", nargs="*", default=[], help="after-training: these scenarios")
    args = parser.parse_args()
    if args.case == "textgen":
        textgen(args.chars, args.scenario)
    elif args.case == "anomaly":
        anomaly()
    elif args.case == "mann":
        mann()
    else:
        after_training(args.updates, args.only)


if __name__ == "__main__":
    main()
