"""Activation functions with closed-form derivatives.

Every activation is a ``torch.nn.Module`` whose ``forward`` is built from differentiable torch operations (so the
autograd engine can differentiate it to any order) and which also exposes its closed-form derivatives
``derivative(z, n)`` for n = 0..3 and ``derivatives(z, order)`` (all orders up to ``order`` at once, sharing
work).  The criticality toolkit and the Taylor-mode derivative engine use the closed forms.

MRePU (Kim & Kang, arXiv 2408.02697) with integer p >= 1::

    MRePU_p(z) = z * relu(z + 1)^p
               = s^(p+1) - s^p          with s = z + 1 > 0, and 0 for z <= -1,

so sigma^(n)(z) = [(p+1)_n s^(p+1-n) - (p)_n s^(p-n)] * H(s), with (a)_n the falling factorial.  sigma(0) = 0,
sigma'(0) = 1, sigma''(0) = 2p.  MRePU_p is C^(p-1); its kink sits at z = -1.  RePU_p(z) = relu(z)^p has its
kink at z = 0.
"""

from __future__ import annotations

import math
from typing import Callable

import torch
from torch import nn

from .errors import ConfigError

__all__ = ["Activation", "ACTIVATIONS", "get_activation", "activation_names"]

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _falling(a: int, n: int) -> int:
    """Falling factorial a (a-1) ... (a-n+1); zero as soon as a factor is zero."""
    out = 1
    for k in range(n):
        out *= a - k
    return out


def _power_term(s: torch.Tensor, on: torch.Tensor, coef: int, k: int) -> torch.Tensor:
    """``coef * s**k`` on the support ``on`` (``s >= 0`` there), with k >= 0 (k = 0 gives the step)."""
    if coef == 0:
        return torch.zeros_like(s)
    if k == 0:
        return coef * on.to(s.dtype)
    return coef * s**k


def _check_power(p: object, name: str) -> int:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or float(p) != int(p) or int(p) < 1:
        raise ConfigError("activation_params.p", p, f"{name} needs an integer p >= 1")
    return int(p)


class Activation(nn.Module):
    """Elementwise activation with closed-form derivatives.

    Subclasses implement :meth:`derivatives`; ``forward`` must be autograd-differentiable.

    Attributes:
        name: registry name.
        kinks: points where a derivative of order <= 3 is discontinuous (used to split quadratures).
    """

    name: str = ""
    kinks: tuple[float, ...] = ()

    @property
    def params(self) -> dict[str, object]:
        """The activation's parameters (e.g. ``{"p": 2}``), as accepted by :func:`get_activation`."""
        return {}

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:  # pragma: no cover - abstract
        """``[sigma(z), sigma'(z), ..., sigma^(order)(z)]`` elementwise, ``order`` in 0..3."""
        raise NotImplementedError

    def derivative(self, z: torch.Tensor, n: int) -> torch.Tensor:
        """The n-th derivative sigma^(n)(z), n in 0..3."""
        return self.derivatives(z, n)[n]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.derivatives(z, 0)[0]

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params.items())


class MRePU(Activation):
    """MRePU_p(z) = z * relu(z + 1)^p, integer p >= 1 (default 2)."""

    name = "mrepu"
    kinks = (-1.0,)

    def __init__(self, p: int = 2):
        super().__init__()
        self.p = _check_power(p, "mrepu")

    @property
    def params(self) -> dict[str, object]:
        return {"p": self.p}

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * torch.relu(z + 1.0) ** self.p

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:
        p = self.p
        s = torch.relu(z + 1.0)
        on = z > -1.0
        out = [self.forward(z)]
        for n in range(1, order + 1):
            hi = _power_term(s, on, _falling(p + 1, n), p + 1 - n) if p + 1 - n >= 0 else torch.zeros_like(z)
            lo = _power_term(s, on, _falling(p, n), p - n) if p - n >= 0 else torch.zeros_like(z)
            out.append(hi - lo)
        return out


class RePU(Activation):
    """RePU_p(z) = relu(z)^p, integer p >= 1 (default 2)."""

    name = "repu"
    kinks = (0.0,)

    def __init__(self, p: int = 2):
        super().__init__()
        self.p = _check_power(p, "repu")

    @property
    def params(self) -> dict[str, object]:
        return {"p": self.p}

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.relu(z) ** self.p

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:
        s = torch.relu(z)
        on = z > 0.0
        out = [self.forward(z)]
        for n in range(1, order + 1):
            k = self.p - n
            out.append(_power_term(s, on, _falling(self.p, n), k) if k >= 0 else torch.zeros_like(z))
        return out


class Tanh(Activation):
    """tanh(z); sigma' = 1 - t^2, sigma'' = -2t(1 - t^2), sigma''' = (1 - t^2)(6t^2 - 2)."""

    name = "tanh"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(z)

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:
        t = torch.tanh(z)
        if order == 0:
            return [t]
        t2 = t * t
        sech2 = 1.0 - t2
        out = [t, sech2]
        if order >= 2:
            out.append(-2.0 * t * sech2)
        if order >= 3:
            out.append(sech2 * (6.0 * t2 - 2.0))
        return out


class ReLU(Activation):
    """relu(z); sigma' = H(z), higher derivatives vanish (almost everywhere)."""

    name = "relu"
    kinks = (0.0,)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.relu(z)

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:
        out = [torch.relu(z), (z > 0).to(z.dtype)] + [torch.zeros_like(z)] * 2
        return out[: order + 1]


class GELU(Activation):
    """Exact GELU z * Phi(z); sigma' = Phi + z phi, sigma'' = phi (2 - z^2), sigma''' = phi (z^3 - 4z)."""

    name = "gelu"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * 0.5 * (1.0 + torch.erf(z / _SQRT2))

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:
        cdf = 0.5 * (1.0 + torch.erf(z / _SQRT2))
        if order == 0:
            return [z * cdf]
        pdf = _INV_SQRT_2PI * torch.exp(-0.5 * z * z)
        z2 = z * z
        out = [z * cdf, cdf + z * pdf, pdf * (2.0 - z2), pdf * z * (z2 - 4.0)]
        return out[: order + 1]


class SiLU(Activation):
    """SiLU z * s(z), s the logistic sigmoid; sigma^(n) = n s^(n-1) + z s^(n)."""

    name = "silu"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * torch.sigmoid(z)

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:
        s0 = torch.sigmoid(z)
        s1 = s0 * (1.0 - s0)
        s2 = s1 * (1.0 - 2.0 * s0)
        s3 = s2 * (1.0 - 2.0 * s0) - 2.0 * s1 * s1
        sig = [s0, s1, s2, s3]
        out = [z * s0] + [n * sig[n - 1] + z * sig[n] for n in range(1, 4)]
        return out[: order + 1]


class Sin(Activation):
    """sin(z); derivatives cos, -sin, -cos."""

    name = "sin"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sin(z)

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:
        s = torch.sin(z)
        if order == 0:
            return [s]
        c = torch.cos(z)
        return [s, c, -s, -c][: order + 1]


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
