"""Time the first step after opening a lab as a person sees it: in a real terminal (tmux).

    python scripts/measure_first_step_tmux.py [SCENARIO] [--size 140x45] [--repeat 3]

Starts `python -m tui_lab.app SCENARIO` in a detached tmux session of that size, waits
until the lab has opened (the status line reads "t = - of") and the screen has been
still for a second, presses Right, then polls `tmux capture-pane` until the status line
reads "t = 0 of" and the pane stops changing. Reported per run: key -> the first pane
showing t = 0, and key -> the last change (the panels of the first step all drawn).
Then presses Right again for a later step, for comparison. Polling costs ~2-5 ms per
capture, so figures are good to a few ms. Run with PYTHONPATH pointing at the checkout.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import subprocess
import sys
import time

VERBOSE = False
SESSION = "first-step"
SOCKET = f"tui-lab-measure-{os.getpid()}"  # a tmux server of our own (the machine is shared)


def tmux(*args: str) -> str:
    command = ["tmux", "-L", SOCKET, *args]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def pane() -> str:
    return tmux("capture-pane", "-p", "-t", SESSION)


def wait_still(predicate, still_s: float, timeout: float) -> str:
    """Poll until predicate(text) holds and the pane has not changed for still_s."""
    deadline = time.perf_counter() + timeout
    last, since = None, time.perf_counter()
    while time.perf_counter() < deadline:
        text = pane()
        if text != last:
            last, since = text, time.perf_counter()
        elif predicate(text) and time.perf_counter() - since >= still_s:
            return text
        time.sleep(0.01)
    raise RuntimeError(f"timed out; the pane shows:\n{last}")


def press_and_time(key: str, marker: str, settle_s: float = 1.0) -> tuple[float, float]:
    """(key -> first pane with marker, key -> last change within settle_s of quiet), ms."""
    before = pane()
    start = time.perf_counter()
    tmux("send-keys", "-t", SESSION, key)
    first = last = None
    previous = before
    changes = []
    while True:
        text = pane()
        now = time.perf_counter()
        if text != previous:
            previous, last = text, now
            changes.append(f"{(now - start) * 1000:.0f}")
            if first is None and marker in text:
                first = now
        if first is not None and now - last >= settle_s:
            break
        if now - start > 30:
            raise RuntimeError(f"no {marker!r} within 30 s; the pane shows:\n{text}")
        time.sleep(0.002)
    if VERBOSE:
        print(f"  {key}: the pane changed at {', '.join(changes)} ms")
    return (first - start) * 1000, (last - start) * 1000


def one_run(scenario: str, width: int, height: int) -> tuple[float, float, float, float]:
    env = f"PYTHONPATH={os.environ.get('PYTHONPATH', '')}"
    command = f"{env} {sys.executable} -m tui_lab.app {scenario}"
    tmux("new-session", "-d", "-s", SESSION, "-x", str(width), "-y", str(height), command)
    try:
        wait_still(lambda text: "t = - of" in text, still_s=1.0, timeout=300)
        first_seen, first_done = press_and_time("Right", "t = 0 of")
        if " of 1 " in pane():  # one step only (one-to-one): no second step to time
            return first_seen, first_done, math.nan, math.nan
        later_seen, later_done = press_and_time("Right", "t = 1 of")
        return first_seen, first_done, later_seen, later_done
    finally:
        subprocess.run(["tmux", "-L", SOCKET, "kill-server"], capture_output=True)
        while (
            subprocess.run(["tmux", "-L", SOCKET, "has-session"], capture_output=True).returncode
            == 0
        ):
            time.sleep(0.1)  # the next run starts a new server on this socket


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", nargs="?", default="char-textgen-lstm")
    parser.add_argument("--size", default="140x45")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--verbose", action="store_true", help="when the pane changed")
    args = parser.parse_args()
    global VERBOSE
    VERBOSE = args.verbose
    width, height = (int(part) for part in args.size.split("x"))
    runs = []
    for index in range(args.repeat):
        runs.append(one_run(args.scenario, width, height))
        seen, done, later_seen, later_done = runs[-1]
        print(
            f"run {index + 1}: first step shown {seen:.0f} ms, all drawn {done:.0f} ms; "
            f"second step shown {later_seen:.0f} ms, all drawn {later_done:.0f} ms"
        )
    columns = list(zip(*runs, strict=True))
    print(
        f"{args.scenario} at {args.size} in tmux, median of {args.repeat}: first step shown "
        f"{statistics.median(columns[0]):.0f} ms, all drawn {statistics.median(columns[1]):.0f}"
        f" ms; second step shown {statistics.median(columns[2]):.0f} ms, all drawn "
        f"{statistics.median(columns[3]):.0f} ms"
    )


if __name__ == "__main__":
    main()
