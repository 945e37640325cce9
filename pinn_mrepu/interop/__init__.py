"""Bridges to other PINN libraries (optional dependencies, imported lazily): :mod:`pinn_mrepu.interop.deepxde`."""

__all__ = []  # each bridge needs its optional dependency: import pinn_mrepu.interop.deepxde explicitly
