"""The reference derivative engine: nested reverse-mode ``torch.autograd.grad`` with ``create_graph=True``.

Each distinct derivative is computed once: all first derivatives come from one backward pass, and each needed
higher derivative from one more pass over the lower one it extends.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from .fields import FieldSpec

__all__ = ["autograd_fields"]


def autograd_fields(
    model: torch.nn.Module,
    points: torch.Tensor,
    specs: Sequence[FieldSpec],
    *,
    outputs: Sequence[str] = ("u",),
    create_graph: bool = True,
) -> dict[str, torch.Tensor]:
    """Reference engine: nested reverse-mode autograd.  See :func:`compute_fields`."""
    with torch.enable_grad():  # derivatives need a graph even when called under torch.no_grad()
        return _autograd_fields(model, points, specs, outputs=outputs, create_graph=create_graph)


def _autograd_fields(model, points, specs, *, outputs, create_graph):
    x = points.detach().clone().requires_grad_(True)
    y = model(x)
    cache: dict[tuple[str, tuple[int, ...]], torch.Tensor] = {}
    for k, name in enumerate(outputs):
        cache[(name, ())] = y[:, k : k + 1]
    # Full gradient rows already computed, keyed by (output, lower order): one backward gives all d columns.
    rows: dict[tuple[str, tuple[int, ...]], torch.Tensor] = {}

    def get(out: str, order: tuple[int, ...]) -> torch.Tensor:
        key = (out, order)
        if key in cache:
            return cache[key]
        lower, last = order[:-1], order[-1]
        if (out, lower) not in rows:
            base = get(out, lower)
            if not base.requires_grad:  # the lower derivative is constant (e.g. piecewise-linear net)
                rows[(out, lower)] = torch.zeros_like(x)
            else:
                (g,) = torch.autograd.grad(base.sum(), x, create_graph=True, allow_unused=True)
                rows[(out, lower)] = torch.zeros_like(x) if g is None else g
        cache[key] = rows[(out, lower)][:, last : last + 1]
        return cache[key]

    result = {}
    for spec in specs:
        if spec.output == "":
            result[spec.name] = points[:, spec.order[0] : spec.order[0] + 1]
        else:
            result[spec.name] = get(spec.output, spec.order)
    if not create_graph:
        result = {k: v.detach() for k, v in result.items()}
    return result
