"""Hard constraints: an output transform that satisfies boundary/initial conditions exactly.

    u(x) = base(x) + factor(x) · N(x)

with ``base`` and ``factor`` expressions over the coordinates (e.g. for Burgers ``base = -sin(pi*x)``,
``factor = t*(1 - x**2)``: u(x, 0) = -sin(πx) and u(±1, t) = 0 hold for every network N).  Configured as
``network.output_transform: {base: "...", factor: "..."}``.

The autograd engine differentiates the wrapped model directly.  Other engines compute the network's fields and
this module combines them with the expressions' derivatives by the general Leibniz rule over derivative
positions, ∂^o(f·N) = Σ_{S ⊆ o} ∂^S f · ∂^{o∖S} N, so a fast engine never needs to know about the transform.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import combinations

import torch
from torch import nn

from .fields import FieldSpec

__all__ = ["OutputTransform", "transformed_fields", "net_specs", "combine_fields"]


class OutputTransform(nn.Module):
    """``u = base(x) + factor(x) * net(x)``; ``base``/``factor`` map ``(N, d)`` to ``(N, 1)`` (no parameters)."""

    def __init__(self, net: nn.Module, base: Callable[[torch.Tensor], torch.Tensor],
                 factor: Callable[[torch.Tensor], torch.Tensor]):
        super().__init__()
        self.net = net
        self.base = base
        self.factor = factor

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + self.factor(x) * self.net(x)


def _expression_derivatives(fn, x: torch.Tensor, orders: set[tuple[int, ...]]) -> dict[tuple[int, ...], torch.Tensor]:
    """Derivatives of a coordinate function for every multi-index in ``orders`` (detached; also correct when
    called under ``torch.no_grad()``, which would otherwise turn every derivative into zero)."""
    with torch.enable_grad():
        return _expression_derivatives_(fn, x, orders)


def _expression_derivatives_(fn, x: torch.Tensor, orders: set[tuple[int, ...]]) -> dict[tuple[int, ...], torch.Tensor]:
    closed = {order[:k] for order in orders for k in range(len(order) + 1)}
    xr = x.detach().clone().requires_grad_(True)
    out: dict[tuple[int, ...], torch.Tensor] = {(): fn(xr)}
    for order in sorted(closed, key=len):
        if order in out:
            continue
        base = out[order[:-1]]
        if base.requires_grad:
            (g,) = torch.autograd.grad(base.sum(), xr, create_graph=True, allow_unused=True)
            g = torch.zeros_like(xr) if g is None else g
        else:
            g = torch.zeros_like(xr)
        out[order] = g[:, order[-1] : order[-1] + 1]
    return {k: v.detach() for k, v in out.items()}


def _subsets(order: tuple[int, ...]) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    """All (S, o∖S) splits of the positions of ``order``, as sorted index tuples."""
    splits = []
    positions = range(len(order))
    for k in range(len(order) + 1):
        for chosen in combinations(positions, k):
            s = tuple(sorted(order[i] for i in chosen))
            rest = tuple(sorted(order[i] for i in positions if i not in chosen))
            splits.append((s, rest))
    return splits


def net_specs(specs: Sequence[FieldSpec], variables: Sequence[str]) -> list[FieldSpec]:
    """The network fields the Leibniz rule needs for ``specs`` (every sub-multi-index of every order)."""
    needed: set[tuple[int, ...]] = set()
    for spec in specs:
        if spec.output:
            for s, rest in _subsets(spec.order):
                needed.update({s, rest})
    return [FieldSpec(_name(o, variables), "u", o) for o in sorted(needed, key=lambda o: (len(o), o))]


def _name(order: tuple[int, ...], variables: Sequence[str]) -> str:
    return "u" + ("_" + "".join(variables[i] for i in order) if order else "")


def combine_fields(model: OutputTransform, points: torch.Tensor, specs: Sequence[FieldSpec],
                   n: dict[str, torch.Tensor], variables: Sequence[str]) -> dict[str, torch.Tensor]:
    """Fields of ``model`` from the network's fields ``n`` (named as :func:`net_specs` names them)."""
    orders = {s for spec in specs if spec.output for s, _ in _subsets(spec.order)}
    f = _expression_derivatives(model.factor, points, orders)
    b = _expression_derivatives(model.base, points, {spec.order for spec in specs if spec.output})
    result = {}
    for spec in specs:
        if not spec.output:
            result[spec.name] = points[:, spec.order[0] : spec.order[0] + 1]
            continue
        total = b[spec.order]
        for s, rest in _subsets(spec.order):
            total = total + f[s] * n[_name(rest, variables)]
        result[spec.name] = total
    return result


def transformed_fields(model: OutputTransform, points: torch.Tensor, specs: Sequence[FieldSpec],
                       net_fields: Callable[[nn.Module, torch.Tensor, list[FieldSpec]], dict[str, torch.Tensor]],
                       variables: Sequence[str]) -> dict[str, torch.Tensor]:
    """Fields of ``model`` from the fields of ``model.net`` (via ``net_fields``) by the Leibniz rule."""
    n = net_fields(model.net, points, net_specs(specs, variables))
    return combine_fields(model, points, specs, n, variables)
