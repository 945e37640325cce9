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

__all__ = ["Config", "ConditionConfig", "ProblemConfig", "NetworkConfig", "PointsConfig", "AdamConfig",
           "LBFGSConfig", "RefineConfig", "TrainConfig", "EvaluateConfig", "build_section"]


def _rule(**kw: Any) -> dict[str, Any]:
    return {"rule": kw}


@dataclass
class ConditionConfig:
    """One condition: ``type`` dirichlet|neumann|periodic|initial; ``value`` expression; ``faces`` (boundary or a list of face names)."""

    type: str = field(default="dirichlet", metadata=_rule(choices=("dirichlet", "neumann", "periodic", "initial")))
    value: Union[str, float] = 0.0
    faces: Union[str, list] = "boundary"
    variable: str = "x"


@dataclass
class ProblemConfig:
    pde: str = "burgers"
    params: dict = field(default_factory=dict)
    space: dict = field(default_factory=lambda: {"x": [-1.0, 1.0]})
    time: Union[list, None] = None
    source: Union[str, float, None] = None
    conditions: dict = field(default_factory=dict)
    exact: Union[str, float, dict, None] = None


@dataclass
class NetworkConfig:
    width: int = field(default=20, metadata=_rule(min=1))
    depth: int = field(default=4, metadata=_rule(min=1))
    activation: str = "mrepu"
    activation_params: dict = field(default_factory=dict)
    init: Union[str, dict] = "critical"
    normalize_inputs: bool = True
    output_transform: Union[dict, None] = None


@dataclass
class PointsConfig:
    interior: int = field(default=2000, metadata=_rule(min=1))
    boundary: int = field(default=200, metadata=_rule(min=0))
    initial: int = field(default=200, metadata=_rule(min=0))
    sampler: str = field(default="sobol", metadata=_rule(choices=("uniform", "sobol", "halton", "lhs")))


@dataclass
class AdamConfig:
    steps: int = field(default=1000, metadata=_rule(min=0))
    lr: float = field(default=1e-3, metadata=_rule(gt=0))
    decay_rate: float = field(default=1.0, metadata=_rule(gt=0, max=1))
    decay_steps: int = field(default=1000, metadata=_rule(min=1))


@dataclass
class LBFGSConfig:
    steps: int = field(default=1000, metadata=_rule(min=0))
    lr: float = field(default=1.0, metadata=_rule(gt=0))
    history_size: int = field(default=50, metadata=_rule(min=1))
    tolerance_grad: float = field(default=1e-12, metadata=_rule(min=0))
    tolerance_change: float = field(default=0.0, metadata=_rule(min=0))


@dataclass
class RefineConfig:
    every: int = field(default=0, metadata=_rule(min=0))
    candidates: int = field(default=10000, metadata=_rule(min=1))
    add: int = field(default=200, metadata=_rule(min=1))


@dataclass
class TrainConfig:
    seed: int = field(default=0, metadata=_rule(min=0))
    dtype: str = field(default="float64", metadata=_rule(choices=("float32", "float64")))
    device: str = field(default="auto", metadata=_rule(choices=("auto", "cpu", "cuda")))
    derivatives: str = field(default="taylor", metadata=_rule(choices=("autograd", "taylor")))
    compile: bool = False
    points: PointsConfig = field(default_factory=PointsConfig)
    resample_every: int = field(default=0, metadata=_rule(min=0))
    refine: RefineConfig = field(default_factory=RefineConfig)
    weights: dict = field(default_factory=dict)
    adam: AdamConfig = field(default_factory=AdamConfig)
    lbfgs: LBFGSConfig = field(default_factory=LBFGSConfig)
    checkpoint_every: int = field(default=500, metadata=_rule(min=1))


@dataclass
class EvaluateConfig:
    grid: list = field(default_factory=lambda: [256, 101])
    residual_points: int = field(default=4096, metadata=_rule(min=1))


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


def _check_rule(value: Any, rule: dict[str, Any], path: str) -> None:
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
            _check_rule(value, f.metadata["rule"], sub)
        kwargs[name] = value
    return cls(**kwargs)
