"""Play mode: play/pause, the speed, and when the next step is due. No Textual here.

The lab screen owns one Player, calls `tick(now)` from its timer and `shown(t, T)` for
each Frame it receives; the Player asks for steps through the callables it was given
(the screen's session), so it can be driven and tested without an app.
"""

from __future__ import annotations

from collections.abc import Callable

SPEEDS = (1, 2, 5, 10, 20, 25)
"""Steps per second that + and - move between."""

MAX_IN_FLIGHT = 2
"""Steps queued and not yet shown. One step may be computing while the next waits, so
the compute thread never idles between two play steps, and the queue never grows."""


class Player:
    """step(): ask for the next step; first(): go back to t = -1; in_flight(): jobs queued
    and not finished."""

    def __init__(
        self,
        step: Callable[[], None],
        first: Callable[[], None],
        in_flight: Callable[[], int],
        speed_index: int = 3,
    ):
        self._step = step
        self._first = first
        self._in_flight = in_flight
        self.playing = False
        self.speed_index = speed_index
        self._last_step = 0.0

    @property
    def speed(self) -> int:
        """Steps per second."""
        return SPEEDS[self.speed_index]

    def toggle(self, t: int, T: int) -> None:
        """Space: pause, or play from where the screen is (from the start if at the end)."""
        if not self.playing and t >= T - 1:
            self._first()
        self.playing = not self.playing

    def pause(self) -> None:
        self.playing = False

    def faster(self) -> None:
        self.speed_index = min(self.speed_index + 1, len(SPEEDS) - 1)

    def slower(self) -> None:
        self.speed_index = max(self.speed_index - 1, 0)

    def fastest(self) -> None:
        self.speed_index = len(SPEEDS) - 1

    def shown(self, t: int, T: int) -> None:
        """A frame arrived: playing stops at the last step."""
        if self.playing and t >= T - 1:
            self.playing = False

    def tick(self, now: float) -> bool:
        """Ask for a step if one is due at `now` (seconds); True if it did."""
        if not self.playing or self._in_flight() >= MAX_IN_FLIGHT:
            return False
        interval = 1 / self.speed
        if now - self._last_step < interval:
            return False
        # Keep the average rate despite the timer's granularity (no drift, no burst).
        self._last_step = max(self._last_step + interval, now - interval)
        self._step()
        return True

    def status(self) -> str:
        return f"playing {self.speed}/s" if self.playing else f"paused · speed {self.speed}/s"
