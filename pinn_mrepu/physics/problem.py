"""A :class:`Problem`: domain + equations + conditions + exact solution, built from the ``problem`` config section.

The equations come from one of three places (README "Equations"):

- ``pde: burgers|heat|poisson``: a built-in family with checked parameters and an optional ``source``; its
  residual is the loss term ``residual``;
- ``equations: {name: "expression over fields"}`` in YAML, any PDE or system over the ``outputs``;
- ``PINNSolver(config, equations={name: callable})``: Python residuals, passed to :func:`build_problem`.

Exact solutions are an expression over the coordinates and parameters, a named reference
(``exact: {reference: burgers}``, see :data:`REFERENCES`), or for systems a mapping output -> expression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from pinn_mrepu.config import Config, ProblemConfig, parse_expression
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.fields import required_order

from .builders import build_conditions, build_domain, build_exact, build_outputs, build_params
from .conditions import Condition
from .domains import Domain
from .equations import Equation, equation_from_callable, equation_from_pde, equation_from_text
from .pdes import PDE, get_pde

__all__ = ["Problem", "build_problem", "build_output_transform", "REFERENCES"]


@dataclass
class Problem:
    """Everything that defines the PDE problem (no network, no training choices).

    Attributes:
        name: label used in run folder names.
        domain: the space(-time) domain; ``domain.variables`` orders the point columns.
        equations: ``{name: Equation}``, each residual a loss term and weight key (``residual`` for ``pde:``).
        conditions: ``{name: Condition}``; each name is also the loss-term / weight key.
        exact: optional ``fn(points (N, d) float64 ndarray)`` -> ``(N,)`` (one output) or ``(N, n_outputs)``.
        outputs: the network's output names, e.g. ``("u",)`` or ``("u", "v", "p")``.
        params: the named numbers the expressions use.
        pde: the built-in PDE object for ``pde:`` problems, else None.
    """

    name: str
    domain: Domain
    equations: dict[str, Equation]
    conditions: dict[str, Condition]
    exact: Callable[[np.ndarray], np.ndarray] | None = None
    outputs: tuple[str, ...] = ("u",)
    params: dict[str, float] = field(default_factory=dict)
    pde: PDE | None = None

    @property
    def variables(self) -> tuple[str, ...]:
        return self.domain.variables

    @property
    def loss_terms(self) -> tuple[str, ...]:
        """``(*equation names, *condition names)``."""
        return (*self.equations, *self.conditions)

    @property
    def fields(self) -> tuple[str, ...]:
        """The union of the fields the equations read, in first-use order."""
        return tuple(dict.fromkeys(name for eq in self.equations.values() for name in eq.fields))

    @property
    def order(self) -> int:
        """The highest derivative order any equation or condition reads."""
        conds = (c.fields(self.domain) for c in self.conditions.values())
        return required_order([*self.fields, *(n for fs in conds for n in fs)], self.variables, self.outputs)

    def exact_values(self, points: np.ndarray) -> np.ndarray:
        """The exact solution as ``(N, n_outputs)`` (requires :attr:`exact`)."""
        return np.asarray(self.exact(points), dtype=np.float64).reshape(len(points), len(self.outputs))


def _burgers_reference(points: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    from .references import burgers_solution

    return burgers_solution(points[:, 0], points[:, 1], params["nu"])


def _allen_cahn_reference(points: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    from .allen_cahn import allen_cahn_reference

    return allen_cahn_reference(points, params)


#: Named exact solutions: ``name -> (pde it solves, fn(points (N, d), params) -> (N,))``.  ``allen_cahn`` solves
#: u_t - eps u_xx + 5u^3 - 5u = 0 (an ``equations`` problem; reads the parameter ``eps``, default 1e-4).
REFERENCES: dict[str, tuple[str, Callable[[np.ndarray, Mapping[str, float]], np.ndarray]]] = {
    "burgers": ("burgers", _burgers_reference),
    "allen_cahn": ("allen_cahn", _allen_cahn_reference),
}


def build_problem(cfg: ProblemConfig, name: str = "problem", *,
                  equations: Mapping[str, object] | None = None) -> Problem:
    """Build the runtime :class:`Problem`; every error is a ConfigError naming its ``problem.*`` field.

    Args:
        equations: Python residuals ``{name: fn(fields, points) -> (N, 1)}`` (or :class:`Equation` objects) used
            instead of ``problem.pde``/``problem.equations``, which must then be absent.
    """
    given = [k for k, v in (("pde", cfg.pde), ("equations", cfg.equations)) if v is not None]
    if equations is not None and given:
        raise ConfigError(f"problem.{given[0]}", getattr(cfg, given[0]), "must be absent when equations are passed "
                                                                         "to the solver in Python")
    if len(given) == 2:
        raise ConfigError("problem.equations", sorted(cfg.equations) if isinstance(cfg.equations, dict) else
                          cfg.equations, "give either pde (a built-in family) or equations, not both")
    if equations is None and not given:
        raise ConfigError("problem.pde", None, "give pde (burgers, heat or poisson) or equations "
                                               "({name: expression over fields})")
    outputs = build_outputs(cfg.outputs)
    if cfg.pde is not None:
        return _build_builtin(cfg, name, outputs)
    why = "the problem"
    domain = build_domain(cfg.space, cfg.time, time_dependent=None, outputs=outputs, why=why)
    variables = domain.variables
    params = build_params(cfg.params, variables=variables, outputs=outputs)
    if cfg.source is not None:
        raise ConfigError("problem.source", cfg.source, "is for pde: families; write the source into the equation")
    eqs: dict[str, Equation] = {}
    raw = cfg.equations if equations is None else equations
    where = "problem.equations" if equations is None else "equations"
    if not isinstance(raw, Mapping) or not raw:
        raise ConfigError(where, raw, "must map equation names to expressions over fields (each = 0)")
    for ename, spec in raw.items():
        field_name = f"{where}.{ename}"
        if not (isinstance(ename, str) and ename.isidentifier()):
            raise ConfigError(where, ename, "equation names must be identifiers (letters, digits, _)")
        if isinstance(spec, Equation):
            eqs[ename] = equation_from_callable(spec.fn, variables=variables, outputs=outputs, field=field_name,
                                                fields=spec.fields)
        elif callable(spec):
            eqs[ename] = equation_from_callable(spec, variables=variables, outputs=outputs, field=field_name)
        else:
            eqs[ename] = equation_from_text(spec, variables=variables, outputs=outputs, params=params,
                                            field=field_name)
    conditions = build_conditions(cfg.conditions, domain, outputs=outputs, params=params, why=why)
    _check_conditions(conditions, cfg, eqs)
    exact = build_exact(cfg.exact, variables=variables, outputs=outputs, params=params, references=REFERENCES,
                        pde=None)
    return Problem(name=name, domain=domain, equations=eqs, conditions=conditions, exact=exact, outputs=outputs,
                   params=params)


def _check_conditions(conditions: dict, cfg: ProblemConfig, eqs: Mapping[str, object]) -> None:
    if not conditions:
        raise ConfigError("problem.conditions", cfg.conditions, "must define at least one boundary or initial condition")
    for cname in conditions:
        if cname in eqs:
            raise ConfigError(f"problem.conditions.{cname}", cname, "a condition may not share its name with an "
                                                                    "equation (each name is one loss term)")


def _build_builtin(cfg: ProblemConfig, name: str, outputs: tuple[str, ...]) -> Problem:
    try:
        pde_cls = get_pde(cfg.pde)
    except ConfigError as exc:
        raise exc.with_prefix("problem") from None
    if outputs != ("u",):
        raise ConfigError("problem.outputs", list(outputs), f"pde: {cfg.pde} has the single output u; use equations "
                                                             "for systems")
    domain = build_domain(cfg.space, cfg.time, time_dependent=pde_cls.time_dependent, outputs=outputs, why=cfg.pde)
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
    eqs = {"residual": equation_from_pde(pde)}
    conditions = build_conditions(cfg.conditions, domain, outputs=outputs, params=params, why=cfg.pde)
    _check_conditions(conditions, cfg, eqs)
    exact = build_exact(cfg.exact, variables=variables, outputs=outputs, params=params, references=REFERENCES,
                        pde=cfg.pde)
    return Problem(name=name, domain=domain, equations=eqs, conditions=conditions, exact=exact, outputs=outputs,
                   params=params, pde=pde)


def build_output_transform(config: Config, problem: Problem):
    """``(base, factor)`` expressions of ``network.output_transform`` (u = base + factor * N), or None."""
    spec = config.network.output_transform
    if spec is None:
        return None
    if set(spec) != {"base", "factor"}:
        raise ConfigError("network.output_transform", spec, "must be a mapping with exactly the keys base and factor")
    if len(problem.outputs) != 1:
        raise ConfigError("network.output_transform", spec, f"is for single-output problems; this one has outputs "
                                                            f"{', '.join(problem.outputs)}")
    return tuple(parse_expression(spec[k], variables=problem.variables, params=problem.params,
                                  field=f"network.output_transform.{k}") for k in ("base", "factor"))
