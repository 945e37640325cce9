"""The YAML schema: typed dataclasses, one per section, and their strict building from plain dicts.

:func:`build_section` checks unknown keys (with a "did you mean" hint), types and per-field rules (ranges,
choices); each failure raises :class:`~pinn_mrepu.errors.ConfigError` whose one-line message names the field, the
value and the rule.  Checks that need other stages (PDE names, domains, expressions, activations, init schemes,
loss-term names) are in :func:`pinn_mrepu.validation.validate_config`, which ``load_config`` runs.  Every key is
documented in README.md ("Configuration").
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from dataclasses import dataclass, field
from typing import Any, Union

from pinn_mrepu.errors import ConfigError

from .limits import MAX_CANDIDATES, MAX_DEPTH, MAX_POINTS, MAX_SEED, MAX_WIDTH

__all__ = ["Config", "ConditionConfig", "ProblemConfig", "NetworkConfig", "PointsConfig", "ResampleConfig",
           "RefineConfig", "TrainConfig", "EvaluateConfig", "build_section", "rule"]


def rule(**kw: Any) -> dict[str, Any]:
    """Field metadata for :func:`build_section`: ``min``, ``gt``, ``max`` bounds and ``choices``."""
    return {"rule": kw}



@dataclass
class ConditionConfig:
    """One condition (README "Conditions"): ``type`` dirichlet|neumann|periodic|initial|operator.

    ``value`` is the target expression (dirichlet, neumann, initial); ``field`` the constrained field (dirichlet,
    initial; default: the output's value); ``output`` which output (default: the first; periodic: all);
    ``faces`` boundary or a list of face names; ``variable`` the periodic coordinate; ``residual`` the
    expression over fields that must vanish (operator).
    """

    type: str = field(default="dirichlet", metadata=rule(choices=("dirichlet", "neumann", "periodic", "initial",
                                                                  "operator")))
    value: Union[str, float, None] = None
    faces: Union[str, list] = "boundary"
    variable: str = "x"
    output: Union[str, None] = None
    field: Union[str, None] = None
    residual: Union[str, float, None] = None


@dataclass
class ProblemConfig:
    """The PDE problem: a built-in ``pde`` (burgers|heat|poisson) or ``equations`` over derivative fields."""

    pde: Union[str, None] = None
    equations: Union[dict, None] = None
    outputs: Union[list, None] = None
    params: dict = field(default_factory=dict)
    space: dict = field(default_factory=lambda: {"x": [-1.0, 1.0]})
    time: Union[list, None] = None
    source: Union[str, float, None] = None
    conditions: dict = field(default_factory=dict)
    exact: Union[str, float, dict, None] = None


@dataclass
class NetworkConfig:
    width: int = field(default=20, metadata=rule(min=1, max=MAX_WIDTH))
    depth: int = field(default=4, metadata=rule(min=1, max=MAX_DEPTH))
    activation: str = "mrepu"
    activation_params: dict = field(default_factory=dict)
    init: Union[str, dict] = "critical"
    normalize_inputs: bool = True
    output_transform: Union[dict, None] = None


@dataclass
class PointsConfig:
    interior: int = field(default=2000, metadata=rule(min=1, max=MAX_POINTS))
    boundary: int = field(default=200, metadata=rule(min=0, max=MAX_POINTS))
    initial: int = field(default=200, metadata=rule(min=0, max=MAX_POINTS))
    sampler: str = field(default="sobol", metadata=rule(choices=("uniform", "sobol", "halton", "lhs")))


def default_phases() -> list:
    """The phases a file without ``train.phases`` gets: 1000 Adam steps, then 1000 L-BFGS iterations."""
    return [{"optimizer": "adam", "steps": 1000}, {"optimizer": "lbfgs", "steps": 1000}]


@dataclass
class ResampleConfig:
    """Redraw the interior points every ``every`` training steps (any phase; 0: never).

    ``method: uniform`` draws a fresh sample with ``train.points.sampler``; ``rad`` (residual-based adaptive
    distribution, Wu et al. 2023) draws from ``candidates`` uniform points with density
    |r|^exponent / mean|r|^exponent + offset.
    """

    every: int = field(default=0, metadata=rule(min=0))
    method: str = field(default="uniform", metadata=rule(choices=("uniform", "rad")))
    candidates: int = field(default=50000, metadata=rule(min=1, max=MAX_CANDIDATES))
    exponent: float = field(default=1.0, metadata=rule(min=0, max=16))
    offset: float = field(default=1.0, metadata=rule(min=0))


@dataclass
class RefineConfig:
    every: int = field(default=0, metadata=rule(min=0))
    candidates: int = field(default=10000, metadata=rule(min=1, max=MAX_CANDIDATES))
    add: int = field(default=200, metadata=rule(min=1, max=MAX_POINTS))


@dataclass
class TrainConfig:
    seed: int = field(default=0, metadata=rule(min=0, max=MAX_SEED))
    dtype: str = field(default="float64", metadata=rule(choices=("float32", "float64")))
    device: str = field(default="auto", metadata=rule(choices=("auto", "cpu", "cuda")))
    derivatives: str = field(default="taylor", metadata=rule(choices=("autograd", "taylor")))
    compile: bool = False
    points: PointsConfig = field(default_factory=PointsConfig)
    resample: ResampleConfig = field(default_factory=ResampleConfig)
    refine: RefineConfig = field(default_factory=RefineConfig)
    weights: dict = field(default_factory=dict)
    phases: list = field(default_factory=default_phases)
    time_limit_s: float = field(default=0.0, metadata=rule(min=0))
    checkpoint_every: int = field(default=500, metadata=rule(min=1))


@dataclass
class EvaluateConfig:
    grid: Union[list, None] = None  # None: validation picks a default for the problem's dimension
    residual_points: int = field(default=4096, metadata=rule(min=1, max=MAX_POINTS))
    monitor_every: int = field(default=100, metadata=rule(min=0))
    monitor_points: int = field(default=2048, metadata=rule(min=1, max=MAX_POINTS))


@dataclass
class Config:
    """A whole problem file: ``name``, ``problem``, ``network``, ``train``, ``evaluate``."""

    name: str = "problem"
    problem: ProblemConfig = field(default_factory=ProblemConfig)
    network: NetworkConfig = field(default_factory=NetworkConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    evaluate: EvaluateConfig = field(default_factory=EvaluateConfig)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (YAML-serialisable) of the fully resolved configuration."""
        return dataclasses.asdict(self)


# ---------------------------------------------------------------------------------------------------- building

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false", list: "a list",
               dict: "a mapping", type(None): "null"}


def _hint(key: str, valid: list[str]) -> str:
    close = difflib.get_close_matches(key, valid, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _coerce(tp: Any, value: Any, path: str) -> Any:
    if dataclasses.is_dataclass(tp):
        return build_section(tp, value, path)
    options = typing.get_args(tp) if typing.get_origin(tp) is Union else (tp,)
    for opt in options:
        if opt is type(None) and value is None:
            return None
        if opt is bool and isinstance(value, bool):
            return value
        if opt is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if opt is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            if not math.isfinite(value):
                raise ConfigError(path, value, "must be a finite number")
            return float(value)
        if opt in (str, list, dict) and isinstance(value, opt):
            return value
    wanted = " or ".join(_TYPE_NAMES.get(o, str(o)) for o in options)
    raise ConfigError(path, value, f"must be {wanted}")


def _checkrule(value: Any, rule: dict[str, Any], path: str) -> None:
    if "choices" in rule and value not in rule["choices"]:
        raise ConfigError(path, value, f"must be one of {', '.join(rule['choices'])}{_hint(str(value), list(rule['choices']))}")
    kind = "an integer" if isinstance(value, int) else "a number"
    if "min" in rule and value < rule["min"]:
        raise ConfigError(path, value, f"must be {kind} >= {rule['min']}")
    if "gt" in rule and value <= rule["gt"]:
        raise ConfigError(path, value, f"must be {kind} > {rule['gt']}")
    if "max" in rule and value > rule["max"]:
        raise ConfigError(path, value, f"must be {kind} <= {rule['max']}")


def build_section(cls: type, data: Any, path: str) -> Any:
    """Build dataclass ``cls`` from ``data`` strictly (unknown keys, types, rules); ``path`` prefixes field names."""
    where = path or "config"
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(where, data, "must be a mapping of keys to values")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in data:
        if key not in fields:
            sub = f"{path}.{key}" if path else str(key)
            raise ConfigError(sub, data[key], f"unknown key{_hint(str(key), list(fields))}; valid keys: {', '.join(fields)}")
    kwargs = {}
    for name, f in fields.items():
        if name not in data:
            continue
        sub = f"{path}.{name}" if path else name
        value = _coerce(hints[name], data[name], sub)
        if "rule" in f.metadata:
            _checkrule(value, f.metadata["rule"], sub)
        kwargs[name] = value
    return cls(**kwargs)
