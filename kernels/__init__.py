"""Numerics only: Numba kernels and thin numpy-level wrappers.

This package imports numpy, numba and scipy, never tui_lab, Textual or Rich.
"""
