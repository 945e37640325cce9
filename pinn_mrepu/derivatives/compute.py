"""Derivative fields: the seam between PDE residuals and how derivatives are computed.

A problem asks for fields by name (:mod:`.fields`) and an engine produces them.

Engines (the :data:`ENGINES` registry):

- ``autograd``: the reference, nested ``torch.autograd.grad`` with ``create_graph=True``; each distinct
  derivative is computed once (all first derivatives come from one backward pass; each needed higher
  derivative from one more pass over the lower one it extends).
- ``taylor``: forward Taylor-mode propagation through an :class:`~pinn_mrepu.nn.MLP`
  (:mod:`.taylor`), exact to round-off and faster (any number of outputs).

Problems never call autograd themselves; engines never know which PDE they serve.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import torch

from .autograd import autograd_fields
from .fields import FieldSpec, parse_field
from .taylor import taylor_fields, taylor_fields_many
from .transforms import OutputTransform, combine_fields, net_specs, transformed_fields

__all__ = ["compute_fields", "compute_fields_many", "ENGINES"]


def _taylor(model, points, specs, *, outputs=("u",), create_graph=True):
    return taylor_fields(model, points, specs, outputs=outputs, create_graph=create_graph)


ENGINES: dict[str, Callable[..., dict[str, torch.Tensor]]] = {"autograd": autograd_fields, "taylor": _taylor}


def compute_fields(
    model: torch.nn.Module,
    points: torch.Tensor,
    names: Iterable[str],
    *,
    variables: Sequence[str],
    outputs: Sequence[str] = ("u",),
    engine: str = "autograd",
    create_graph: bool = True,
) -> dict[str, torch.Tensor]:
    """Evaluate the named derivative fields of ``model`` at ``points``.

    Args:
        model: maps ``(N, d)`` to ``(N, len(outputs))``.
        points: ``(N, d)`` coordinates, columns ordered as ``variables``.
        names: field names such as ``"u"``, ``"u_x"``, ``"u_xx"``, ``"u_xt"`` (see module docstring).
        variables: the coordinate names, one letter each, e.g. ``("x", "t")``.
        outputs: the model's output names.
        engine: ``"autograd"`` (reference) or ``"taylor"``.
        create_graph: keep the graph so a loss built on the fields can be differentiated with respect to the
            parameters (training); ``False`` returns detached tensors (evaluation).

    Returns:
        ``{name: (N, 1) tensor}`` for every requested name.

    Raises:
        ValueError: unknown engine, output or variable.
    """
    _check_engine(engine)
    variables = tuple(variables)
    specs = _parse_request(points, names, variables, outputs)
    if all(not s.output or not s.order for s in specs):  # values only (e.g. Dirichlet terms): a plain forward
        with torch.set_grad_enabled(create_graph and torch.is_grad_enabled()):
            y = model(points)
        if y.ndim != 2 or y.shape[1] < len(outputs):
            raise ValueError(f"outputs: got {tuple(outputs)}, the model returns {tuple(y.shape[1:])} output columns")
        return {s.name: (y[:, outputs.index(s.output)][:, None] if s.output else points[:, s.order[0]][:, None])
                for s in specs}
    run = ENGINES[engine]
    if engine != "autograd":
        if isinstance(model, OutputTransform):  # engines see the bare network; the transform is applied here
            return transformed_fields(
                model, points, specs, variables=variables,
                net_fields=lambda net, pts, sp: run(net, pts, sp, outputs=("u",), create_graph=create_graph))
    return run(model, points, specs, outputs=tuple(outputs), create_graph=create_graph)


def compute_fields_many(
    model: torch.nn.Module,
    requests: Sequence[tuple[torch.Tensor, Iterable[str]]],
    *,
    variables: Sequence[str],
    outputs: Sequence[str] = ("u",),
    engine: str = "autograd",
    create_graph: bool = True,
) -> list[dict[str, torch.Tensor]]:
    """:func:`compute_fields` for several point sets, ``[(points, names), ...]`` to ``[{name: tensor}, ...]``.

    The ``taylor`` engine evaluates all sets in one packed network pass (the PDE residual's points with their
    derivative streams, and the condition points alongside); other engines evaluate the sets one by one.
    Arguments and errors as in :func:`compute_fields`.
    """
    _check_engine(engine)
    if engine != "taylor" or len(requests) < 2:
        return [compute_fields(model, p, names, variables=variables, outputs=outputs, engine=engine,
                               create_graph=create_graph) for p, names in requests]
    variables = tuple(variables)
    parsed = [(points, _parse_request(points, names, variables, outputs)) for points, names in requests]
    if isinstance(model, OutputTransform):  # the engine sees the bare network; the transform is applied here
        nets = taylor_fields_many(model.net, [(p, net_specs(sp, variables)) for p, sp in parsed], outputs=("u",),
                                  create_graph=create_graph)
        return [combine_fields(model, p, sp, n, variables) for (p, sp), n in zip(parsed, nets)]
    return taylor_fields_many(model, parsed, outputs=tuple(outputs), create_graph=create_graph)


def _check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ValueError(f"engine: got {engine!r}, must be one of {', '.join(sorted(ENGINES))}")


def _parse_request(points: torch.Tensor, names: Iterable[str], variables: tuple[str, ...],
                   outputs: Sequence[str]) -> list[FieldSpec]:
    """Check the shape of ``points`` against ``variables`` and parse ``names`` (duplicates dropped)."""
    if points.ndim != 2 or points.shape[1] != len(variables):
        raise ValueError(f"points: got shape {tuple(points.shape)}, must be (N, {len(variables)}) for variables {variables}")
    return [parse_field(n, variables, outputs) for n in dict.fromkeys(names)]
