"""Derivative fields: the seam between PDE residuals and how derivatives are computed.

A problem asks for fields by name and an engine produces them.  A field name is an output name followed by
the differentiation variables, one letter each: ``u`` (the value), ``u_x``, ``u_t``, ``u_xx``, ``u_xt``,
``u_yy``, ``u_xxx``.  The letters are sorted into the coordinate order, so ``u_tx`` is the same field as
``u_xt`` (returned under the name that was asked for).  Coordinates themselves (``x``, ``t``) may also be
requested and are returned as ``(N, 1)`` columns.

Engines (the :data:`ENGINES` registry):

- ``autograd``: the reference, nested ``torch.autograd.grad`` with ``create_graph=True``; each distinct
  derivative is computed once (all first derivatives come from one backward pass; each needed higher
  derivative from one more pass over the lower one it extends).
- ``taylor``: forward Taylor-mode propagation through an :class:`~pinn_mrepu.networks.MLP`
  (:mod:`pinn_mrepu.taylor`), exact to round-off and faster (any number of outputs).

Problems never call autograd themselves; engines never know which PDE they serve.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch

__all__ = ["FieldSpec", "parse_field", "compute_fields", "compute_fields_many", "ENGINES", "autograd_fields"]


@dataclass(frozen=True)
class FieldSpec:
    """A parsed field name: ``output`` differentiated along coordinate indices ``order`` (sorted)."""

    name: str
    output: str
    order: tuple[int, ...]


def parse_field(name: str, variables: Sequence[str], outputs: Sequence[str] = ("u",)) -> FieldSpec:
    """Parse ``"u_xt"`` into ``FieldSpec("u_xt", "u", (0, 1))`` for variables ``("x", "t")``.

    Raises:
        ValueError: unknown output or variable; the message lists the valid ones.
    """
    if name in variables:
        return FieldSpec(name, "", (variables.index(name),))
    out, sep, letters = name.partition("_")
    if out not in outputs:
        raise ValueError(
            f"field: got {name!r}, must be an output ({', '.join(outputs)}) optionally followed by '_' and "
            f"variable letters ({''.join(variables)}), or a coordinate"
        )
    if sep and not letters:
        raise ValueError(f"field: got {name!r}, a '_' must be followed by variable letters ({''.join(variables)})")
    idx = []
    for ch in letters:
        if ch not in variables:
            raise ValueError(f"field: got {name!r}, {ch!r} is not a variable (variables: {', '.join(variables)})")
        idx.append(variables.index(ch))
    return FieldSpec(name, out, tuple(sorted(idx)))


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


def _taylor(model, points, specs, *, outputs=("u",), create_graph=True):
    from .taylor import taylor_fields

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
        from .transforms import OutputTransform, transformed_fields

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
    from .taylor import taylor_fields_many
    from .transforms import OutputTransform, combine_fields, net_specs

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


def required_order(names: Iterable[str], variables: Sequence[str], outputs: Sequence[str] = ("u",)) -> int:
    """Highest derivative order among ``names`` (0 for values and coordinates)."""
    return max((len(s.order) for s in (parse_field(n, variables, outputs) for n in names) if s.output), default=0)

