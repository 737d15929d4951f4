"""Tests step a lab through one Stepper per lab, as the screen does."""

from __future__ import annotations

import weakref

from tui_lab.labs.stepper import Stepper

_steppers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def stepper(lab) -> Stepper:
    """The Stepper of `lab` (made on first use, then the same one)."""
    if lab not in _steppers:
        _steppers[lab] = Stepper(lab)
    return _steppers[lab]
