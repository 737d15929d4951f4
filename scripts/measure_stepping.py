"""Measure stepping headless: memory and per-frame compute as an input gets long.

    PYTHONPATH=. python scripts/measure_stepping.py textgen --chars 10000
    PYTHONPATH=. python scripts/measure_stepping.py anomaly
    PYTHONPATH=. python scripts/measure_stepping.py to-end --scenario forecast-sine
    PYTHONPATH=. python scripts/measure_stepping.py to-end --scenario anomaly-sensor \
        --set data.length=30000
    PYTHONPATH=. python scripts/measure_stepping.py after-training
    PYTHONPATH=. python scripts/measure_stepping.py after-training --scenario forecast-co2 --runs 5
    PYTHONPATH=. python scripts/measure_stepping.py textgen --chars 100000
    PYTHONPATH=. python scripts/measure_stepping.py walk --scenario ntm-copy
    PYTHONPATH=. python scripts/measure_stepping.py walk --scenario mann-one-shot
    PYTHONPATH=. python scripts/measure_stepping.py walk --scenario ntm-copy --input 120
    PYTHONPATH=. python scripts/measure_stepping.py after-training --only ntm-copy w2v-sentiment
    PYTHONPATH=. python scripts/measure_stepping.py after-training --only compare-cells --runs 20
    PYTHONPATH=. python scripts/measure_stepping.py textgen --scenario long-range-lstm --text AB

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

from tui_lab.registry import build_lab, bundled_names, resolve


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
    """The first frame (it walks the input, and on the first walk of a process loads the
    compiled kernels), then step one at a time to the end, then time single frames there."""
    rss0, hwm0 = memory_mb()
    ms, frame = timed(steps.frame)
    rss1, hwm1 = memory_mb()
    print(
        f"{label}: the first frame (walk) {ms:.1f} ms; RSS {rss0:.0f} -> {rss1:.0f} MB "
        f"(+{rss1 - rss0:.0f}), peak +{hwm1 - hwm0:.0f} MB"
    )
    rss0, hwm0 = rss1, hwm1
    start = time.perf_counter()
    times = []
    # The end is the Stepper's last step (a sequence lab's BPTT steps follow its T forward
    # ones); the older protocol had no Stepper, and its frame's T was the end.
    stepper = hasattr(steps, "walk")
    while True:
        ms, frame = timed(steps.step)
        times.append(ms)
        end = steps.length if stepper else frame.T
        at = steps.t if stepper else frame.t
        if at == end - 1 or len(times) > end + 5:
            break
    total = time.perf_counter() - start
    rss1, hwm1 = memory_mb()
    print(
        f"{label}: stepped {len(times)} steps in {total:.1f} s (the first {times[0]:.1f} ms); "
        f"RSS {rss0:.0f} -> {rss1:.0f} MB (+{rss1 - rss0:.0f}), "
        f"peak +{hwm1 - hwm0:.0f} MB"
    )
    rest = times[1:] or times
    print(
        f"  per step: median {statistics.median(rest):.2f} ms, max {max(rest):.2f} ms; "
        f"the last 100: median {statistics.median(times[-100:]):.2f} ms"
    )
    for name in ("back", "step", "first", "last"):
        ms = [timed(getattr(steps, name))[0] for _ in range(5)]
        print(f"  {name} at t = {at}: median {statistics.median(ms):.2f} ms")


def textgen(chars: int, scenario: str, pattern: str = "") -> None:
    """An own input of `chars` characters: the lab's text (char_rnn), or `pattern`
    repeated (any kind that takes typed input)."""
    lab = build_lab(resolve(scenario))
    pattern = pattern or lab.text
    text = (pattern * (chars // len(pattern) + 1))[:chars]
    steps = stepper_of(lab)
    try:
        ms, _ = timed(lambda: steps.reset(text))
    except ValueError as error:
        print(f"{scenario}, {chars:,}-character own input: refused: {error}")
        return
    print(f"{scenario}, {chars:,}-character own input: reset (walk) {ms:.0f} ms")
    step_to_end(steps, f"{scenario} x {chars:,} chars")


def to_end(name: str, overrides: list[str]) -> None:
    """A scenario's lab built and its kernels loaded (the warm-up the screen runs when it
    opens a lab), then its default input stepped to the end (memory: RSS)."""
    rss0, _ = memory_mb()
    lab = build_lab(resolve(name).with_overrides(overrides))
    rss1, _ = memory_mb()
    for _, call in lab.warmup_tasks():
        call()
    rss2, _ = memory_mb()
    print(f"{name}: building the lab RSS {rss0:.0f} -> {rss1:.0f} MB, warm-up -> {rss2:.0f} MB")
    step_to_end(stepper_of(lab), " ".join([name, *overrides]))


def walk(scenario: str, own_input: str | None) -> None:
    """Step a scenario's default input to its end (a Word2Vec step is an update), after the
    lab's JIT warm-up, so that compile time and memory stay out of the figures."""
    lab = build_lab(resolve(scenario))
    for _, task in lab.warmup_tasks():
        task()
    steps = stepper_of(lab)
    if own_input is not None:
        ms, _ = timed(lambda: steps.reset(own_input))
        print(f"{scenario}, own input {own_input!r}: reset (walk) {ms:.0f} ms")
    step_to_end(steps, scenario)
    arrays = walk_bytes(getattr(steps, "walk", None))
    print(f"  the walk's arrays: {arrays / 1e6:.2f} MB" if arrays else "  (no Walk arrays)")


def walk_bytes(value, seen=None) -> int:
    """Bytes of the distinct numpy buffers a Walk holds (fields, dicts, lists, tuples)."""
    import dataclasses

    import numpy as np

    seen = set() if seen is None else seen
    if isinstance(value, np.ndarray):
        base = value
        while isinstance(base.base, np.ndarray):
            base = base.base
        if id(base) in seen:
            return 0
        seen.add(id(base))
        return base.nbytes
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        items = [getattr(value, f.name) for f in dataclasses.fields(value)]
    elif isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        return 0
    return sum(walk_bytes(item, seen) for item in items)


def after_training(updates: int, names: list[str], runs: int) -> None:
    """Step to the middle of the default input, train, time the next frame; `runs` times
    per scenario (train, frame, train, frame, ...) on one lab."""
    for name in names or bundled_names():
        lab = build_lab(resolve(name))
        steps = stepper_of(lab)
        frame = steps.frame()
        for _ in range(max(frame.T // 2, 1)):
            frame = steps.step()
        first, again = [], []
        for _ in range(runs):
            lab.train(updates)
            ms, frame = timed(steps.frame)
            first.append(ms)
            again.append(timed(steps.frame)[0])
        shown = " ".join(f"{ms:.1f}" for ms in first)
        print(
            f"{name:28s} t = {frame.t:4d} / {frame.T:4d}: next frame after {updates} updates "
            f"{statistics.median(first):7.1f} ms median, max {max(first):.1f} "
            f"(then {statistics.median(again):.1f} ms){'  runs: ' + shown if runs > 1 else ''}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case", choices=("textgen", "anomaly", "to-end", "walk", "after-training"))
    parser.add_argument("--chars", type=int, default=10_000)
    parser.add_argument(
        "--scenario",
        default=None,
        help="textgen, to-end: the scenario (char-textgen-lstm, anomaly-sensor); "
        "walk: this one; after-training: this one alone",
    )
    parser.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="to-end: overrides"
    )
    parser.add_argument("--text", default="", help="textgen: repeat this as the own input")
    parser.add_argument("--input", help="walk: this own input (an NTM sequence length, a text)")
    parser.add_argument("--updates", type=int, default=50)
    parser.add_argument("--runs", type=int, default=1, help="after-training: per scenario")
    parser.add_argument("--only", nargs="*", default=[], help="after-training: these scenarios")
    args = parser.parse_args()
    if args.case == "textgen":
        textgen(args.chars, args.scenario or "char-textgen-lstm", args.text)
    elif args.case in ("anomaly", "to-end"):
        to_end(args.scenario or "anomaly-sensor", args.set)
    elif args.case == "walk":
        walk(args.scenario or "char-textgen-lstm", args.input)
    else:
        names = args.only + ([args.scenario] if args.scenario else [])
        after_training(args.updates, names, args.runs)


if __name__ == "__main__":
    main()
