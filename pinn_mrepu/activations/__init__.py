"""Activations with closed-form derivatives, and the :data:`ACTIVATIONS` registry (name -> class).

A new activation is one :class:`Activation` subclass (in :mod:`.power`, :mod:`.smooth` or a module of its own)
plus one entry in :data:`ACTIVATIONS`.
"""

from __future__ import annotations

from typing import Callable

from pinn_mrepu.errors import ConfigError

from .base import Activation as Activation
from .power import MRePU as MRePU
from .power import ReLU as ReLU
from .power import RePU as RePU
from .smooth import GELU as GELU
from .smooth import SiLU as SiLU
from .smooth import Sin as Sin
from .smooth import Tanh as Tanh

__all__ = ["Activation", "ACTIVATIONS", "get_activation", "activation_names", "MRePU", "RePU", "ReLU", "Tanh",
           "GELU", "SiLU", "Sin"]

ACTIVATIONS: dict[str, Callable[..., Activation]] = {
    cls.name: cls for cls in (MRePU, RePU, Tanh, ReLU, GELU, SiLU, Sin)
}

_PARAMS: dict[str, tuple[str, ...]] = {"mrepu": ("p",), "repu": ("p",)}


def activation_names() -> list[str]:
    """Registered activation names, sorted."""
    return sorted(ACTIVATIONS)


def get_activation(name: str | Activation, **params: object) -> Activation:
    """Build an activation by registry name.

    Args:
        name: one of :data:`ACTIVATIONS` (``mrepu``, ``repu``, ``tanh``, ``relu``, ``gelu``, ``silu``, ``sin``),
            or an :class:`Activation` instance (returned unchanged when no params are given).
        **params: the activation's parameters, e.g. ``p=3`` for ``mrepu`` and ``repu``.

    Raises:
        ConfigError (a ValueError): unknown name (the message lists the valid names) or bad parameter.
    """
    if isinstance(name, Activation):
        if params:
            raise ConfigError("activation_params", params, "must be empty for an activation instance")
        return name
    if name not in ACTIVATIONS:
        raise ConfigError("activation", name, f"must be one of {', '.join(activation_names())}")
    allowed = _PARAMS.get(name, ())
    for key in params:
        if key not in allowed:
            rule = f"{name} takes parameters: {', '.join(allowed)}" if allowed else f"{name} takes no parameters"
            raise ConfigError(f"activation_params.{key}", params[key], rule)
    return ACTIVATIONS[name](**params)
