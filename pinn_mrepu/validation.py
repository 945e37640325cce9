"""The whole problem file, validated: schema, then the semantic checks that need every stage's registries.

``load_config(path, overrides)`` reads a problem file, applies overrides such as ``"network.depth=7"`` and
returns a :class:`~pinn_mrepu.config.Config`.  Everything is validated at this boundary: unknown keys (with a
"did you mean" hint), wrong types, out-of-range values, unknown names (pde, activation, sampler, ...), empty or
inverted domains and malformed or forbidden expressions each raise :class:`~pinn_mrepu.errors.ConfigError` whose
one-line message names the field, the value and the rule.

It sits above ``physics``, ``activations`` and ``nn`` (whose registries it checks names against) and below the
solver, so ``config`` itself stays free of them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pinn_mrepu.activations import get_activation
from pinn_mrepu.config import Config, apply_overrides, build_section, read_yaml
from pinn_mrepu.config.limits import check_name, check_sizes, safe_name
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.nn import layer_variances, parameter_count, smoothness_warnings
from pinn_mrepu.physics import build_output_transform, build_problem
from pinn_mrepu.physics.checks import check_finite
from pinn_mrepu.training.phases import DenseOptions, build_phases, dense_bytes

__all__ = ["validate_config", "config_from_dict", "load_config", "default_grid", "config_warnings"]


def validate_config(config: Config, *, equations: Mapping[str, object] | None = None) -> None:
    """Semantic checks that need more than the schema (problem, activation, init, phases, weights, grid).

    Resolves ``config.train.phases`` into each phase's options dataclass (defaults filled in) and a missing
    ``evaluate.grid`` into the default for the problem's dimension.  ``equations`` are Python residuals given to
    the solver instead of ``problem.pde``/``problem.equations``.
    """
    check_name(config.name)
    problem = build_problem(config.problem, config.name, equations=equations)
    net = config.network
    try:
        act = get_activation(net.activation, **net.activation_params)
    except ConfigError as exc:
        raise exc.with_prefix("network") from None
    try:
        layer_variances(net.init, act, [(1, 1)])
    except ConfigError as exc:
        raise exc.with_prefix("network") from None
    transform = build_output_transform(config, problem)
    config.train.phases = build_phases(config.train.phases)
    n = parameter_count(problem.domain.dim, len(problem.outputs), width=net.width, depth=net.depth)
    for i, phase in enumerate(config.train.phases):
        if isinstance(phase, DenseOptions) and dense_bytes(n) > phase.max_memory_mb * 2**20:
            raise ConfigError(f"train.phases.{i}.optimizer", phase.optimizer,
                              f"stores a dense {n} x {n} inverse Hessian ({dense_bytes(n) / 2**20:.0f} MiB for {n} "
                              f"parameters), over max_memory_mb = {phase.max_memory_mb:g}; use lbfgs, a smaller "
                              f"network, or raise train.phases.{i}.max_memory_mb")
    if config.train.compile and config.train.derivatives != "taylor":
        raise ConfigError("train.compile", True, "needs train.derivatives: taylor (nested autograd does not compile)")
    valid_terms = problem.loss_terms
    for key, w in config.train.weights.items():
        if key not in valid_terms:
            hint = [t for t in valid_terms if t.startswith(str(key)[:3])]
            raise ConfigError(f"train.weights.{key}", w, f"unknown loss term; valid terms: {', '.join(valid_terms)}"
                              + (f" (did you mean {hint[0]!r}?)" if hint else ""))
        if isinstance(w, bool) or not isinstance(w, (int, float)) or not (w >= 0 and math.isfinite(w)):
            raise ConfigError(f"train.weights.{key}", w, "must be a finite number >= 0")
    # config.yaml is the fully resolved file: every loss weight and every parameter value (defaults and derived
    # parameters included) is written out
    config.train.weights = {t: float(config.train.weights.get(t, 1.0)) for t in valid_terms}
    if equations is None:
        config.problem.params = dict(problem.params)
    if config.evaluate.grid is None:
        config.evaluate.grid = default_grid(problem.domain.dim)
    grid = config.evaluate.grid
    if not (isinstance(grid, list) and len(grid) == problem.domain.dim
            and all(isinstance(g, int) and not isinstance(g, bool) and g >= 2 for g in grid)):
        raise ConfigError("evaluate.grid", grid, f"must be a list of {problem.domain.dim} integers >= 2, one per coordinate {problem.variables}")
    check_sizes(config, problem.domain.dim, n)  # size limits and memory estimate, then finite values (README "Reliability")
    tr = config.train
    check_finite(problem, transform, grid=grid, sampler=tr.points.sampler, seed=tr.seed, dtype=tr.dtype)


def default_grid(dim: int) -> list[int]:
    """``evaluate.grid`` when the file gives none: about 26 000 points, more along the first coordinate."""
    return {1: [1001], 2: [256, 101], 3: [64, 64, 33]}.get(dim, [12] * dim)


def config_warnings(config: Config, problem=None, *, equations: Mapping[str, object] | None = None) -> list[str]:
    """Warnings about a valid config (plain sentences): an activation too rough for the problem's derivative order
    (:mod:`pinn_mrepu.nn.smoothness`).  ``problem`` is built from ``config`` when not given."""
    problem = problem or build_problem(config.problem, config.name, equations=equations)
    net = config.network
    return smoothness_warnings(get_activation(net.activation, **net.activation_params), net.depth, problem.order)


def config_from_dict(data: Any, *, equations: Mapping[str, object] | None = None) -> Config:
    """Build and fully validate a :class:`Config` from a nested dict (as read from YAML).

    Raises:
        ConfigError: on any bad value (see module docstring).
    """
    config = build_section(Config, data, "")
    validate_config(config, equations=equations)
    return config


def load_config(path: str | Path, overrides: list[str] | tuple[str, ...] | None = None) -> Config:
    """Load, override and validate a problem file.

    Args:
        path: YAML file.
        overrides: ``["network.depth=7", "train.phases.adam.steps=2000"]``; values are parsed as YAML.

    Raises:
        ConfigError: one line naming the field, the value and the rule.
    """
    data = apply_overrides(read_yaml(path), overrides)
    data.setdefault("name", safe_name(Path(path).stem))
    return config_from_dict(data)
