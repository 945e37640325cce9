"""Smoothness honesty: can a network of this activation and depth represent the derivatives an equation uses?

An MLP whose activation is piecewise polynomial of degree d (ReLU d = 1, RePU_p d = p, MRePU_p d = p + 1) is,
with L hidden layers, piecewise polynomial of degree at most d^L in its inputs: every derivative of order
k > d^L vanishes identically (ReLU with u_xx for any depth; RePU_2 with u_xxx for one hidden layer).  Such a
run cannot fit the equation; it is still a legitimate experiment, so this is a warning, not an error.

A C^c activation with c < k (MRePU_2 is C^1) gives k-th derivatives that jump where a pre-activation crosses a
kink: the residual is discontinuous in the parameters, which is where quasi-Newton line searches stall
(results/mrepu_kink.md).  That is a second, milder warning.
"""

from __future__ import annotations

import math

from pinn_mrepu.activations import Activation

__all__ = ["smoothness_warnings"]


def _label(act: Activation) -> str:
    params = ", ".join(f"{k} = {v}" for k, v in act.params.items())
    return act.name + (f" ({params})" if params else "")


def smoothness_warnings(act: Activation, depth: int, order: int) -> list[str]:
    """Warnings (plain sentences) for derivatives of order ``order`` of an MLP with ``depth`` hidden layers."""
    out = []
    if order <= 0:
        return out
    if act.degree is not None and order > act.degree ** min(depth, 64):
        total = act.degree ** depth
        out.append(f"{_label(act)} with {depth} hidden layer{'s' * (depth != 1)} is piecewise polynomial of degree "
                   f"{total}: derivatives of order {order}, which the equations use, vanish identically, so the "
                   "residual cannot be fitted")
    elif act.continuity < order:
        c = int(act.continuity) if math.isfinite(act.continuity) else act.continuity
        out.append(f"{_label(act)} is only C^{c}: derivatives of order {order}, which the equations use, jump "
                   "across its kink, which can stall quasi-Newton training (results/mrepu_kink.md)"
                   + (f"; p >= {order + 1} is C^{order}" if act.name in ("mrepu", "repu") else ""))
    return out
