"""The Player alone (no app): when it asks for steps, and how it starts and stops."""

import subprocess
import sys

from tui_lab.app.player import MAX_IN_FLIGHT, SPEEDS, Player


class Calls:
    def __init__(self):
        self.steps = 0
        self.firsts = 0
        self.in_flight = 0

    def player(self, speed_index: int = 3) -> Player:
        def step():
            self.steps += 1

        def first():
            self.firsts += 1

        return Player(step, first, lambda: self.in_flight, speed_index)


def test_paused_player_asks_for_nothing():
    calls = Calls()
    player = calls.player()
    assert not any(player.tick(now / 50) for now in range(100))
    assert calls.steps == 0
    assert player.status() == f"paused · speed {SPEEDS[3]}/s"


def test_playing_keeps_the_speed_on_a_coarse_timer():
    calls = Calls()
    player = calls.player()
    player.fastest()
    player.toggle(t=0, T=100)
    for tick in range(1, 51):  # 1 s of a 50 Hz timer
        player.tick(tick / 50)
    assert abs(calls.steps - SPEEDS[-1]) <= 1
    assert calls.firsts == 0
    assert player.status() == f"playing {SPEEDS[-1]}/s"


def test_a_stall_is_not_made_up_with_a_burst():
    calls = Calls()
    player = calls.player(speed_index=0)  # 1 step/s
    player.toggle(t=0, T=100)
    player.tick(1.0)
    calls.steps = 0
    for tick in range(500, 520):  # the timer comes back after 4 s, then 20 ms ticks
        player.tick(tick / 100)
    assert calls.steps <= 2


def test_no_more_than_max_in_flight_steps_queued():
    calls = Calls()
    player = calls.player()
    player.fastest()
    player.toggle(t=0, T=100)
    calls.in_flight = MAX_IN_FLIGHT
    assert not any(player.tick(tick / 50) for tick in range(1, 50))
    calls.in_flight = MAX_IN_FLIGHT - 1
    assert player.tick(1.0)


def test_play_at_the_end_starts_over_and_stops_at_the_end():
    calls = Calls()
    player = calls.player()
    player.toggle(t=9, T=10)
    assert player.playing and calls.firsts == 1
    player.shown(t=5, T=10)
    assert player.playing
    player.shown(t=9, T=10)
    assert not player.playing
    player.toggle(t=4, T=10)
    assert player.playing and calls.firsts == 1
    player.toggle(t=5, T=10)
    assert not player.playing


def test_speed_stays_in_range():
    player = Calls().player(speed_index=0)
    player.slower()
    assert player.speed == SPEEDS[0]
    for _ in range(len(SPEEDS) + 2):
        player.faster()
    assert player.speed == SPEEDS[-1]


def test_player_imports_no_textual():
    code = "import sys, tui_lab.app.player; print('textual' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr
