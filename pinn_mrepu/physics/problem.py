"""A :class:`Problem`: domain + PDE + conditions + exact solution, built from the ``problem`` config section.

Exact solutions are given in YAML either as an expression over the coordinates and parameters
(``exact: "exp(-pi**2*alpha*t)*sin(pi*x)"``) or as a named reference (``exact: {reference: burgers}``, the
Cole–Hopf solution of :func:`pinn_mrepu.physics.references.burgers_solution`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from pinn_mrepu.config import ConditionConfig, Config, ProblemConfig, build_section, parse_expression
from pinn_mrepu.errors import ConfigError

from .conditions import Condition, Dirichlet, Initial, Neumann, Periodic
from .domains import Domain, Interval, Rectangle, TimeInterval
from .pdes import PDE, get_pde

__all__ = ["Problem", "build_problem", "build_output_transform", "REFERENCES"]


def _burgers_reference(points: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    from .references import burgers_solution

    return burgers_solution(points[:, 0], points[:, 1], params["nu"])


#: Named exact solutions: ``name -> (pde it solves, fn(points (N, d), params) -> (N,))``.
REFERENCES: dict[str, tuple[str, Callable[[np.ndarray, Mapping[str, float]], np.ndarray]]] = {
    "burgers": ("burgers", _burgers_reference),
}


@dataclass
class Problem:
    """Everything that defines the PDE problem (no network, no training choices).

    Attributes:
        name: label used in run folder names.
        domain: the space(-time) domain; ``domain.variables`` orders the point columns.
        pde: the PDE (residual over named fields).
        conditions: ``{name: Condition}``; each name is also the loss-term / weight key.
        exact: optional ``fn(points (N, d) float64 ndarray) -> (N,)`` exact solution.
    """

    name: str
    domain: Domain
    pde: PDE
    conditions: dict[str, Condition]
    exact: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def variables(self) -> tuple[str, ...]:
        return self.domain.variables

    @property
    def loss_terms(self) -> tuple[str, ...]:
        """``("residual", *condition names)``."""
        return ("residual", *self.conditions)


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


def build_problem(cfg: ProblemConfig, name: str = "problem") -> Problem:
    """Build the runtime :class:`Problem`; every error is a ConfigError naming its ``problem.*`` field."""
    try:
        pde_cls = get_pde(cfg.pde)
    except ConfigError as exc:
        raise exc.with_prefix("problem") from None
    if not cfg.space:
        raise ConfigError("problem.space", cfg.space, "must map at least one coordinate name to [lower, upper]")
    space = []
    for var, bounds in cfg.space.items():
        if not (isinstance(var, str) and len(var) == 1 and var.isalpha() and var not in ("t", "u")):
            raise ConfigError("problem.space", var, "coordinate names must be single letters other than t and u")
        space.append(_interval(var, bounds, f"problem.space.{var}"))
    time = None
    if pde_cls.time_dependent:
        if cfg.time is None:
            raise ConfigError("problem.time", None, f"must be [t0, t1]: {cfg.pde} is time dependent")
        time = _interval("t", cfg.time, "problem.time")
    elif cfg.time is not None:
        raise ConfigError("problem.time", cfg.time, f"must be absent: {cfg.pde} is steady")
    domain = Domain(Rectangle(space), time)
    variables = domain.variables

    if not isinstance(cfg.params, dict):
        raise ConfigError("problem.params", cfg.params, "must be a mapping of parameter names to numbers")
    try:
        params = pde_cls(cfg.params, space=domain.space.names).params  # checked before expressions use them
    except ConfigError as exc:
        raise exc.with_prefix("problem") from None
    source = None
    if cfg.source is not None:
        source = parse_expression(cfg.source, variables=variables, params=params, field="problem.source")
    try:
        pde = pde_cls(params, space=domain.space.names, source=source)
    except ConfigError as exc:
        raise exc.with_prefix("problem") from None
    params = pde.params

    conditions: dict[str, Condition] = {}
    for cname, spec in (cfg.conditions or {}).items():
        c = build_section(ConditionConfig, spec, f"problem.conditions.{cname}")
        where = f"problem.conditions.{cname}"
        value = parse_expression(c.value, variables=variables, params=params, field=f"{where}.value")
        if c.type == "initial":
            if time is None:
                raise ConfigError(f"{where}.type", c.type, f"needs a time interval: {cfg.pde} is steady")
            conditions[cname] = Initial(value, name=cname)
        elif c.type == "periodic":
            if c.variable not in domain.space.names:
                raise ConfigError(f"{where}.variable", c.variable, f"must be a space coordinate ({', '.join(domain.space.names)})")
            conditions[cname] = Periodic(c.variable, name=cname)
        else:
            on = c.faces
            if isinstance(on, list) and not on:
                raise ConfigError(f"{where}.faces", on, "must be 'boundary' or a non-empty list of face names")
            try:
                if on != "boundary":
                    for face in [on] if isinstance(on, str) else on:
                        domain.face(face)
            except ValueError:
                valid = ", ".join(["boundary"] + [f.name for f in domain.faces])
                raise ConfigError(f"{where}.faces", on, f"must be 'boundary' or a list of faces from: {valid}") from None
            if c.type == "dirichlet":
                conditions[cname] = Dirichlet(value, on=on, name=cname)
            else:
                conditions[cname] = Neumann(value, on=on, space_names=domain.space.names, name=cname)
    if not conditions:
        raise ConfigError("problem.conditions", cfg.conditions, "must define at least one boundary or initial condition")

    exact = None
    if isinstance(cfg.exact, dict):
        keys = set(cfg.exact)
        if keys != {"reference"} or cfg.exact["reference"] not in REFERENCES:
            raise ConfigError("problem.exact", cfg.exact, f"must be an expression or {{reference: NAME}} with NAME one of {', '.join(REFERENCES)}")
        ref_pde, fn = REFERENCES[cfg.exact["reference"]]
        if ref_pde != cfg.pde:
            raise ConfigError("problem.exact.reference", cfg.exact["reference"], f"solves {ref_pde}, not {cfg.pde}")
        exact = lambda pts, _fn=fn, _p=dict(params): _fn(pts, _p)  # noqa: E731
    elif cfg.exact is not None:
        expr = parse_expression(cfg.exact, variables=variables, params=params, field="problem.exact")
        exact = expr.numpy
    return Problem(name=name, domain=domain, pde=pde, conditions=conditions, exact=exact)


def build_output_transform(config: Config, problem: Problem):
    """``(base, factor)`` expressions of ``network.output_transform`` (u = base + factor * N), or None."""
    spec = config.network.output_transform
    if spec is None:
        return None
    if set(spec) != {"base", "factor"}:
        raise ConfigError("network.output_transform", spec, "must be a mapping with exactly the keys base and factor")
    params = problem.pde.params
    return tuple(parse_expression(spec[k], variables=problem.variables, params=params,
                                  field=f"network.output_transform.{k}") for k in ("base", "factor"))
