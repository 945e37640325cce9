"""Bridges to other PINN libraries (optional dependencies, imported lazily): :mod:`pinn_mrepu.interop.deepxde`."""
