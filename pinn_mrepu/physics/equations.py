"""Equations: residuals ``r(fields, points) = 0`` over named derivative fields, each one loss term.

An :class:`Equation` is a plain function of the field mapping (``{"u": (N, 1), "u_xx": (N, 1), ...}``) and the
points ``(N, d)``, plus the names of the fields it reads.  Three sources give the same object:

- a YAML expression, ``equations: {wave: "u_tt - c**2*u_xx"}`` (:func:`equation_from_text`; the fields are the
  names the expression reads);
- a built-in PDE family, ``pde: burgers`` (:func:`equation_from_pde`, loss term ``residual``);
- a Python callable passed to :class:`~pinn_mrepu.PINNSolver` (:func:`equation_from_callable`; the fields are
  found by calling it once on a probe that records which names it reads, or given explicitly).

Equations never call autograd: an engine computes the fields they name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import torch

from pinn_mrepu.config import Expression, parse_expression
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.fields import MAX_ORDER, is_field, parse_field

from .pdes import PDE

__all__ = ["Equation", "equation_from_text", "equation_from_pde", "equation_from_callable", "fields_help",
           "check_fields"]

Residual = Callable[[Mapping[str, torch.Tensor], torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Equation:
    """``fn(fields, points) -> (N, 1)`` residual and the field names it reads (``text`` for display)."""

    fn: Residual
    fields: tuple[str, ...]
    text: str = ""

    def __call__(self, f: Mapping[str, torch.Tensor], points: torch.Tensor) -> torch.Tensor:
        return self.fn(f, points).reshape(points.shape[0], 1)


def fields_help(variables: Sequence[str], outputs: Sequence[str]) -> str:
    """How field names are spelled, for error messages: ``u, v and their derivatives such as u_x, v_xt``."""
    v = "".join(variables)
    examples = [f"{outputs[0]}_{v[0]}", f"{outputs[-1]}_{v[0]}{v[-1]}"]
    return (f"{', '.join(outputs)} and their derivatives such as {', '.join(dict.fromkeys(examples))} "
            f"(letters from {v}, up to order {MAX_ORDER})")


def check_fields(names: Sequence[str], *, variables: Sequence[str], outputs: Sequence[str], field: str) -> None:
    """Every name is a field of an output of order <= :data:`MAX_ORDER`; else a ConfigError naming ``field``."""
    for name in names:
        try:
            spec = parse_field(name, variables, outputs)
        except ValueError as exc:
            raise ConfigError(field, name, str(exc).partition(", ")[2] or str(exc)) from None
        if len(spec.order) > MAX_ORDER:
            raise ConfigError(field, name, f"has derivative order {len(spec.order)}; the engines support fields "
                                           f"up to order {MAX_ORDER}")


def equation_from_text(text: object, *, variables: Sequence[str], outputs: Sequence[str],
                       params: Mapping[str, float], field: str) -> Equation:
    """Parse a YAML equation (``"u_t + u*u_x - nu*u_xx"``, meaning = 0) into an :class:`Equation`.

    Raises:
        ConfigError: syntax, unknown names (the message lists variables, fields and parameters), forbidden
            constructs, an order above :data:`MAX_ORDER`, or an equation that reads no field at all.
    """
    expr = parse_fields_expression(text, variables=variables, outputs=outputs, params=params, field=field)
    if not expr.fields_used:
        raise ConfigError(field, text, f"must read at least one field ({fields_help(variables, outputs)})")
    return Equation(lambda f, pts, _e=expr: _e(pts, f), expr.fields_used, expr.text)


def parse_fields_expression(text: object, *, variables: Sequence[str], outputs: Sequence[str],
                            params: Mapping[str, float], field: str) -> Expression:
    """:func:`~pinn_mrepu.config.parse_expression` that may read fields of ``outputs`` (orders checked)."""
    variables, outputs = tuple(variables), tuple(outputs)
    expr = parse_expression(text, variables=variables, params=params, field=field,
                            fields=lambda name: is_field(name, variables, outputs),
                            fields_help=fields_help(variables, outputs))
    check_fields(expr.fields_used, variables=variables, outputs=outputs, field=field)
    return expr


def equation_from_pde(pde: PDE) -> Equation:
    """The residual of a built-in PDE family (``pde: burgers|heat|poisson``) as an :class:`Equation`."""
    return Equation(lambda f, pts: pde.residual(f, pts), tuple(pde.fields()), pde.name)


class _Probe(Mapping):
    """A field mapping that hands out test columns and records which names were read."""

    def __init__(self, n: int, variables: tuple[str, ...], outputs: tuple[str, ...], field: str):
        self.read: dict[str, None] = {}
        self._n, self._variables, self._outputs, self._field = n, variables, outputs, field

    def __getitem__(self, name: str) -> torch.Tensor:
        check_fields([name], variables=self._variables, outputs=self._outputs, field=self._field)
        self.read[name] = None
        g = torch.Generator().manual_seed(len(self.read))
        return torch.rand(self._n, 1, dtype=torch.float64, generator=g) + 0.5

    def __iter__(self) -> Iterator[str]:
        return iter(self.read)

    def __len__(self) -> int:
        return len(self.read)


def equation_from_callable(fn: Residual, *, variables: Sequence[str], outputs: Sequence[str], field: str,
                           fields: Sequence[str] | None = None) -> Equation:
    """Wrap a user residual ``fn(fields, points) -> (N, 1) or (N,)``.

    Args:
        fields: the names ``fn`` reads; when omitted, ``fn`` is called once on 4 probe points and every name it
            looks up is recorded (so ``fn`` must read the same fields whatever the values).
        field: the name used in error messages (e.g. ``equations.wave``).

    Raises:
        ConfigError: ``fn`` is not callable, reads an unknown field, fails on the probe or returns the wrong shape.
    """
    variables, outputs = tuple(variables), tuple(outputs)
    if not callable(fn):
        raise ConfigError(field, fn, "must be a callable fn(fields, points) -> (N, 1) residual")
    probe = _Probe(4, variables, outputs, field)
    points = torch.rand(4, len(variables), dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    if fields is not None:
        check_fields(list(fields), variables=variables, outputs=outputs, field=field)
    try:
        out = fn(probe, points)
    except ConfigError:
        raise
    except Exception as exc:  # the user's code failed on the probe: say where, in one line
        raise ConfigError(field, getattr(fn, "__name__", fn), f"raised {type(exc).__name__}: {exc} when called "
                                                              "on a probe of 4 points") from None
    if not isinstance(out, torch.Tensor) or out.numel() != 4:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ConfigError(field, getattr(fn, "__name__", fn), f"must return a tensor of shape (N, 1) or (N,); "
                                                              f"got {shape} for N = 4")
    if fields is not None and not set(probe.read) <= set(fields):
        extra = ", ".join(sorted(set(probe.read) - set(fields)))
        raise ConfigError(field, getattr(fn, "__name__", fn), f"reads {extra}, which its fields= list omits")
    names = tuple(fields) if fields is not None else tuple(probe.read)
    if not names:
        raise ConfigError(field, getattr(fn, "__name__", fn), "reads no field; a residual must depend on the solution")
    return Equation(fn, names, getattr(fn, "__name__", "callable"))
