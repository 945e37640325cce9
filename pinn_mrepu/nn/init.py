"""Initialisation schemes: weights W ~ N(0, c_w / fan_in), biases b ~ N(0, c_b), per layer.

- ``critical``: per-layer (c_b, c_w) from :func:`pinn_mrepu.criticality.critical_init` (the paper's theory);
- ``glorot_normal``: std sqrt(2 / (fan_in + fan_out)), zero biases;
- ``lecun_normal``: c_w = 1, zero biases;
- a mapping ``{"c_w": ..., "c_b": ...}``: the explicit variance form, the same for every layer.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from pinn_mrepu.activations import Activation
from pinn_mrepu.criticality import critical_init
from pinn_mrepu.errors import ConfigError

__all__ = ["INITS", "layer_variances"]

INITS = ("critical", "glorot_normal", "lecun_normal")


def layer_variances(
    init: str | Mapping[str, float],
    activation: Activation,
    fan: Sequence[tuple[int, int]],
) -> list[tuple[float, float] | None]:
    """Per-layer ``(c_b, c_w)`` for the scheme ``init``; ``None`` marks Glorot (which is not of that form).

    Args:
        init: scheme name or ``{"c_w": float, "c_b": float}``.
        activation: the hidden-layer activation (the critical scheme depends on it).
        fan: ``(fan_in, fan_out)`` of each linear layer, first to last.

    Raises:
        ConfigError: unknown scheme name or bad variances.
    """
    if isinstance(init, Mapping):
        unknown = set(init) - {"c_w", "c_b"}
        if unknown:
            raise ConfigError("init", dict(init), "the variance form takes only the keys c_w and c_b")
        try:
            if any(isinstance(v, bool) for v in init.values()):
                raise TypeError
            c_w, c_b = float(init.get("c_w", 1.0)), float(init.get("c_b", 0.0))
        except (TypeError, ValueError):
            raise ConfigError("init", dict(init), "c_w and c_b must be numbers") from None
        if not (c_w > 0 and math.isfinite(c_w)) or not (c_b >= 0 and math.isfinite(c_b)):
            raise ConfigError("init", dict(init), "must have finite c_w > 0 and c_b >= 0")
        return [(c_b, c_w)] * len(fan)
    if init == "glorot_normal":
        return [None] * len(fan)
    if init == "lecun_normal":
        return [(0.0, 1.0)] * len(fan)
    if init == "critical":
        hidden = [fan_out for _, fan_out in fan[:-1]]
        return list(critical_init(activation).layer_variances(len(fan), width=min(hidden) if hidden else None))
    raise ConfigError("init", init, f"must be one of {', '.join(INITS)} or a mapping {{c_w: ..., c_b: ...}}")
