"""Smoothness honesty: can a network of this activation and depth represent the derivatives an equation uses?

An MLP whose activation is piecewise polynomial of degree d (ReLU d = 1, RePU_p d = p, MRePU_p d = p + 1) is,
with L hidden layers, piecewise polynomial of degree at most d^L in its inputs: every derivative of order
k > d^L vanishes identically (ReLU with u_xx for any depth; RePU_2 with u_xxx for one hidden layer).  Such a
run cannot fit the equation; it is still a legitimate experiment, so this is a warning, not an error.

A C^c activation with c < k (MRePU_2 is C^1) gives k-th derivatives that jump where a pre-activation crosses a
kink: the residual is discontinuous in the parameters, which is where quasi-Newton line searches stall
(results/mrepu_kink.md).  That is a second, milder warning.

Whether the kink matters for a given network is measurable: :func:`kink_crossings` counts the hidden neurons whose
pre-activation takes values on both sides of a kink over a set of points (the kink surface then lies inside the
domain and the derivatives jump across it).  A neuron wholly on one side is smooth there (MRePU left of -1 is 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from pinn_mrepu.activations import Activation

__all__ = ["KinkCrossings", "kink_crossings", "smoothness_warnings"]


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


@dataclass(frozen=True)
class KinkCrossings:
    """Where an MLP's hidden pre-activations lie relative to its activation's kinks, over a set of points.

    Attributes:
        crossing: per hidden layer, the neurons whose pre-activation is on both sides of a kink at the points.
        width: per hidden layer, the neurons.
        beyond: fraction of (point, neuron) pre-activations below the lowest kink (MRePU: z < -1, where it is 0).
        closest: the smallest distance |z - kink| over every point and neuron (inf without kinks).
    """

    crossing: tuple[int, ...]
    width: tuple[int, ...]
    beyond: float
    closest: float

    @property
    def total(self) -> int:
        """Crossing neurons over all hidden layers: 0 means the network is smooth on the points' hull (up to
        what the points resolve)."""
        return sum(self.crossing)


def kink_crossings(model: torch.nn.Module, points: torch.Tensor) -> KinkCrossings:
    """:class:`KinkCrossings` of ``model`` (a :class:`~pinn_mrepu.nn.MLP`, or a wrapper holding one as ``.net``, such
    as the hard-constraint output transform) at ``points`` (N, d) in the model's input coordinates."""
    net = getattr(model, "net", model)
    if not all(hasattr(net, a) for a in ("normalise", "linears", "activation")):
        raise TypeError(f"kink_crossings needs a pinn_mrepu MLP, got {type(net).__name__}")
    kinks = sorted(getattr(net.activation, "kinks", ()))
    param = next(net.parameters())
    crossing, width, below, count, closest = [], [], 0, 0, math.inf
    with torch.no_grad():
        h = net.normalise(torch.as_tensor(points, dtype=param.dtype, device=param.device))
        for lin in net.linears[:-1]:
            z = lin(h)
            low, high = z.amin(dim=0), z.amax(dim=0)
            crossing.append(int(sum(((low < k) & (high > k)).sum() for k in kinks)) if kinks else 0)
            width.append(z.shape[1])
            if kinks:
                below += int((z < kinks[0]).sum())
                closest = min(closest, min(float((z - k).abs().min()) for k in kinks))
            count += z.numel()
            h = net.activation(z)
    return KinkCrossings(tuple(crossing), tuple(width), below / count if count else 0.0, closest)
