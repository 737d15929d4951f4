"""Which slots the NTM's weighting histories show: the stretch of the ring the heads use."""

import numpy as np

from tui_lab.labs._ntm_view import visited_window


def _window(first, size, slots):
    return {(first + i) % slots for i in range(size)}


def test_the_window_holds_a_stretch_that_wraps_around_the_ring():
    visited = np.array([[120, 121], [124, 126], [127, 0], [3, 5]])
    first, inside = visited_window(visited, 128, 32)
    assert inside
    assert set(visited.ravel()) <= _window(first, 32, 128)
    # Centred on the stretch 120..5 (14 slots), not on the linear middle of 0..127.
    assert first == (120 + 14 // 2 - 16) % 128


def test_a_stretch_in_the_middle_is_centred():
    first, inside = visited_window(np.arange(40, 61), 128, 32)
    assert inside and first == 40 + 21 // 2 - 16


def test_heads_that_land_anywhere_are_reported():
    first, inside = visited_window(np.array([0, 40, 80, 120]), 128, 32)
    assert not inside
    assert visited_window(np.array([3]), 8, 32) == (0, True)  # every slot fits
