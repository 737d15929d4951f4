"""Numba flags of the MANN kernels: the NTM's (see kernels/ntm/flags.py for why "reassoc" and
why not "contract")."""

from kernels.ntm.flags import REASSOC

__all__ = ["REASSOC"]
