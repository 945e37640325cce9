"""The PDE contract: named parameters, the derivative fields it needs, and a residual over those fields."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping

import torch

from pinn_mrepu.errors import ConfigError

__all__ = ["PDE"]


class PDE(ABC):
    """A PDE written as ``residual(fields, points) = 0``.

    Subclasses set ``name``, ``time_dependent``, ``param_rules`` (``{param: (default or None, rule)}``, where
    the rule is ``"positive"`` or ``"nonnegative"``) and ``takes_source``, and implement :meth:`fields` and
    :meth:`residual`.  The residual is a plain function of the field mapping — it never calls autograd.

    Args:
        params: numeric parameters, e.g. ``{"nu": 0.01 / pi}``.
        space: the spatial coordinate names, e.g. ``("x",)`` or ``("x", "y")``.
        source: an optional source term f, a callable ``(N, d) -> (N, 1)`` (e.g. an Expression).

    Raises:
        ConfigError: missing, unknown or out-of-range parameters (field ``params.<name>``).
    """

    name: str = ""
    time_dependent: bool = False
    param_rules: dict[str, tuple[float | None, str]] = {}
    takes_source: bool = False
    space_dims: tuple[int, ...] = (1, 2, 3)

    def __init__(self, params: Mapping[str, float] | None = None, *, space: tuple[str, ...] = ("x",), source=None):
        params = dict(params or {})
        for key in params:
            if key not in self.param_rules:
                allowed = ", ".join(self.param_rules) or "none"
                raise ConfigError(f"params.{key}", params[key], f"{self.name} takes parameters: {allowed}")
        self.params: dict[str, float] = {}
        for key, (default, rule) in self.param_rules.items():
            value = params.get(key, default)
            if value is None:
                raise ConfigError(f"params.{key}", None, f"{self.name} requires it ({rule} number)")
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ConfigError(f"params.{key}", value, "must be a finite number")
            if (rule == "positive" and value <= 0) or (rule == "nonnegative" and value < 0):
                raise ConfigError(f"params.{key}", value, f"must be {rule}")
            self.params[key] = float(value)
        if len(space) not in self.space_dims:
            raise ConfigError("space", list(space), f"{self.name} supports {self.space_dims} space dimensions")
        if source is not None and not self.takes_source:
            raise ConfigError("source", getattr(source, "text", source), f"must be absent: {self.name} takes no source term")
        self.space = tuple(space)
        self.source = source

    def laplacian_fields(self) -> tuple[str, ...]:
        return tuple(f"u_{v}{v}" for v in self.space)

    def laplacian(self, f: Mapping[str, torch.Tensor]) -> torch.Tensor:
        return sum(f[name] for name in self.laplacian_fields())

    def source_term(self, points: torch.Tensor) -> torch.Tensor | float:
        return 0.0 if self.source is None else self.source(points)

    @abstractmethod
    def fields(self) -> tuple[str, ...]:
        """Names of the derivative fields :meth:`residual` reads."""

    @abstractmethod
    def residual(self, f: Mapping[str, torch.Tensor], points: torch.Tensor) -> torch.Tensor:
        """``(N, 1)`` residual at ``points (N, d)`` given the fields ``f`` (each ``(N, 1)``)."""
