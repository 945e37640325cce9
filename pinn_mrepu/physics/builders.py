"""Builders for the pieces of a problem from its config section: outputs, parameters, domain, conditions, exact.

Each raises :class:`~pinn_mrepu.errors.ConfigError` naming its ``problem.*`` field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from pinn_mrepu.config import CONSTANTS, FUNCTIONS, ConditionConfig, build_section, parse_expression
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.fields import is_field

from .conditions import Condition, Dirichlet, Initial, Neumann, Operator, Periodic
from .domains import Domain, Interval, Rectangle, TimeInterval
from .equations import check_fields, parse_fields_expression

__all__ = ["build_outputs", "build_params", "build_domain", "build_conditions", "build_exact", "MAX_OUTPUTS"]

MAX_OUTPUTS = 16
_RESERVED = {"reference", *FUNCTIONS, *CONSTANTS}


def build_outputs(value: object) -> tuple[str, ...]:
    """``problem.outputs``: a list of distinct names made of letters (default ``[u]``)."""
    if value is None:
        return ("u",)
    if not isinstance(value, list) or not value or len(value) > MAX_OUTPUTS:
        raise ConfigError("problem.outputs", value, f"must be a list of 1 to {MAX_OUTPUTS} output names, e.g. [u, v, p]")
    for name in value:
        if not (isinstance(name, str) and name.isascii() and name.isalpha() and len(name) <= 8) or name in _RESERVED:
            raise ConfigError("problem.outputs", name, "each output name must be 1-8 ASCII letters and not a function, "
                                                       "constant or 'reference'")
    if len(set(value)) != len(value):
        raise ConfigError("problem.outputs", value, "output names must be distinct")
    return tuple(value)


def build_params(value: object, *, variables: Sequence[str], outputs: Sequence[str]) -> dict[str, float]:
    """``problem.params`` of an equations problem: free names -> finite numbers (not clashing with other names)."""
    if not isinstance(value, dict):
        raise ConfigError("problem.params", value, "must be a mapping of parameter names to numbers")
    params = {}
    for key, v in value.items():
        where = f"problem.params.{key}"
        if not (isinstance(key, str) and key.isidentifier() and key.isascii()):
            raise ConfigError("problem.params", key, "parameter names must be identifiers (letters, digits, _)")
        if key in variables or key in _RESERVED or key in outputs or is_field(key, variables, outputs):
            raise ConfigError(where, v, f"the name {key!r} is taken by a coordinate, output, field, function or constant")
        if isinstance(v, str):  # derived from earlier parameters, e.g. lam: "Re/2 - sqrt(Re**2/4 + 4*pi**2)"
            v = float(parse_expression(v, variables=(), params=params, field=where).numpy(np.zeros((1, 0)))[0])
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise ConfigError(where, v, "must be a finite number (or an expression over the parameters above it)")
        params[key] = float(v)
    return params


def _interval(name: str, value: object, field: str) -> Interval:
    ok = isinstance(value, (list, tuple)) and len(value) == 2 and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in value
    )
    if not ok:
        raise ConfigError(field, value, "must be a list [lower, upper] of two numbers")
    try:
        return TimeInterval(*map(float, value)) if name == "t" else Interval(name, *map(float, value))
    except ValueError:
        raise ConfigError(field, value, "must be a finite interval with lower < upper") from None


def build_domain(space: object, time: object, *, time_dependent: bool | None, outputs: Sequence[str],
                 why: str) -> Domain:
    """``problem.space`` and ``problem.time``; ``time_dependent`` None means "time iff given" (equations)."""
    if not isinstance(space, dict) or not space:
        raise ConfigError("problem.space", space, "must map at least one coordinate name to [lower, upper]")
    intervals = []
    for var, bounds in space.items():
        if not (isinstance(var, str) and len(var) == 1 and var.isascii() and var.isalpha() and var != "t"
                and var not in outputs and var != "e"):
            raise ConfigError("problem.space", var, f"coordinate names must be single letters other than t, e and "
                                                    f"the outputs ({', '.join(outputs)})")
        intervals.append(_interval(var, bounds, f"problem.space.{var}"))
    if time_dependent and time is None:
        raise ConfigError("problem.time", None, f"must be [t0, t1]: {why} is time dependent")
    if time_dependent is False and time is not None:
        raise ConfigError("problem.time", time, f"must be absent: {why} is steady")
    return Domain(Rectangle(intervals), None if time is None else _interval("t", time, "problem.time"))


def _faces(domain: Domain, on: object, where: str) -> object:
    valid = ", ".join(["boundary"] + [f.name for f in domain.faces])
    if on == "boundary":
        return on
    names = [on] if isinstance(on, str) else on
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ConfigError(f"{where}.faces", on, f"must be 'boundary' or a non-empty list of face names from: {valid}")
    try:
        for face in names:
            domain.face(face)
    except ValueError:
        raise ConfigError(f"{where}.faces", on, f"must be 'boundary' or a list of faces from: {valid}") from None
    return on


def _forbid(c: ConditionConfig, keys: Sequence[str], where: str) -> None:
    for key in keys:
        if getattr(c, key) is not None:
            raise ConfigError(f"{where}.{key}", getattr(c, key), f"is not used by a {c.type} condition; remove it")


def _target_field(c: ConditionConfig, outputs: Sequence[str], domain: Domain, where: str) -> str:
    """The field a dirichlet/initial condition constrains: ``field``, else ``output``, else the first output."""
    output = c.output if c.output is not None else outputs[0]
    if output not in outputs:
        raise ConfigError(f"{where}.output", output, f"must be one of the outputs: {', '.join(outputs)}")
    if c.field is None:
        return output
    check_fields([c.field], variables=domain.variables, outputs=outputs, field=f"{where}.field")
    if c.output is not None and c.field.partition("_")[0] != c.output:
        raise ConfigError(f"{where}.field", c.field, f"is not a field of output {c.output!r}")
    return c.field


def build_conditions(raw: object, domain: Domain, *, outputs: Sequence[str], params: Mapping[str, float],
                     why: str) -> dict[str, Condition]:
    """``problem.conditions``: ``{name: {type, ...}}`` to runtime :class:`Condition` objects."""
    if raw is not None and not isinstance(raw, dict):
        raise ConfigError("problem.conditions", raw, "must be a mapping of condition names to conditions")
    variables, space = domain.variables, domain.space.names
    conditions: dict[str, Condition] = {}
    for cname, spec in (raw or {}).items():
        where = f"problem.conditions.{cname}"
        c = build_section(ConditionConfig, spec, where)

        def value() -> object:
            return parse_expression(0.0 if c.value is None else c.value, variables=variables, params=params,
                                    field=f"{where}.value")

        if c.type in ("dirichlet", "initial"):
            _forbid(c, ("residual",), where)
            target = _target_field(c, outputs, domain, where)
            if c.type == "initial":
                if domain.time is None:
                    raise ConfigError(f"{where}.type", c.type, f"needs a time interval: {why} is steady")
                conditions[cname] = Initial(value(), name=cname, field=target)
            else:
                conditions[cname] = Dirichlet(value(), on=_faces(domain, c.faces, where), name=cname, field=target)
        elif c.type == "neumann":
            _forbid(c, ("residual", "field"), where)
            output = _target_field(c, outputs, domain, where)
            conditions[cname] = Neumann(value(), on=_faces(domain, c.faces, where), space_names=space,
                                        name=cname, output=output)
        elif c.type == "periodic":
            _forbid(c, ("residual", "field", "value"), where)
            if c.variable not in space:
                raise ConfigError(f"{where}.variable", c.variable, f"must be a space coordinate ({', '.join(space)})")
            chosen = outputs if c.output is None else (_target_field(c, outputs, domain, where),)
            conditions[cname] = Periodic(c.variable, name=cname, outputs=chosen)
        else:  # operator
            _forbid(c, ("value", "field", "output"), where)
            if c.residual is None:
                raise ConfigError(f"{where}.residual", None, "an operator condition needs residual: an expression "
                                                             "over fields that must vanish, e.g. \"u_x + u - 1\"")
            expr = parse_fields_expression(c.residual, variables=variables, outputs=outputs, params=params,
                                           field=f"{where}.residual")
            if not expr.fields_used:
                raise ConfigError(f"{where}.residual", c.residual, "must read at least one field of the outputs")
            conditions[cname] = Operator(expr, on=_faces(domain, c.faces, where), name=cname)
    return conditions


ExactFn = Callable[[np.ndarray], np.ndarray]


def build_exact(raw: object, *, variables: Sequence[str], outputs: Sequence[str], params: Mapping[str, float],
                references: Mapping[str, tuple[str, Callable]], pde: str | None) -> ExactFn | None:
    """``problem.exact``: an expression, ``{reference: NAME}``, or (systems) ``{output: expression, ...}``.

    Returns ``fn(points (N, d)) -> (N,)`` for one output, ``(N, n_outputs)`` for several; None when absent.
    """
    if raw is None:
        return None
    if isinstance(raw, dict) and set(raw) == {"reference"}:
        name = raw["reference"]
        if name not in references:
            raise ConfigError("problem.exact.reference", name, f"must be one of {', '.join(references)}")
        ref_pde, fn = references[name]
        if pde is not None and ref_pde != pde:
            raise ConfigError("problem.exact.reference", name, f"solves {ref_pde}, not {pde}")
        if len(outputs) != 1:
            raise ConfigError("problem.exact.reference", name, f"is a scalar solution; outputs are {', '.join(outputs)}")
        if pde is None and len(variables) != 2:
            raise ConfigError("problem.exact.reference", name, f"is a solution in (x, t); the coordinates are "
                                                                f"{', '.join(variables)}")
        frozen = dict(params)

        def reference(pts: np.ndarray) -> np.ndarray:
            try:
                return fn(pts, frozen)
            except KeyError as exc:  # an equations problem without the parameter the reference reads
                raise ConfigError("problem.params", sorted(frozen), f"the reference {name} needs the parameter "
                                                                    f"{exc.args[0]}") from None

        return reference
    if len(outputs) == 1 and not isinstance(raw, dict):
        return parse_expression(raw, variables=variables, params=params, field="problem.exact").numpy
    if not isinstance(raw, dict) or set(raw) != set(outputs):
        raise ConfigError("problem.exact", raw if not isinstance(raw, dict) else sorted(raw),
                          f"must be a mapping from every output ({', '.join(outputs)}) to an expression"
                          + ("" if len(outputs) > 1 else ", an expression, or {reference: NAME}"))
    exprs = [parse_expression(raw[o], variables=variables, params=params, field=f"problem.exact.{o}") for o in outputs]
    if len(outputs) == 1:
        return exprs[0].numpy
    return lambda pts: np.stack([e.numpy(pts) for e in exprs], axis=1)
