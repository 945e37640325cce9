"""The :class:`Activation` contract: a module with closed-form derivatives, plus the shared power-term helpers.

Every activation is a ``torch.nn.Module`` whose ``forward`` is built from differentiable torch operations (so the
autograd engine can differentiate it to any order) and which also exposes its closed-form derivatives
``derivative(z, n)`` for n = 0..4 and ``derivatives(z, order)`` (all orders up to ``order`` at once, sharing
work).  The criticality toolkit and the Taylor-mode derivative engine use the closed forms.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from pinn_mrepu.errors import ConfigError

__all__ = ["Activation"]


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
        kinks: points where a derivative of order <= 4 is discontinuous (used to split quadratures).
    """

    name: str = ""
    kinks: tuple[float, ...] = ()

    @property
    def degree(self) -> int | None:
        """Polynomial degree of each piece for a piecewise-polynomial activation (ReLU 1, RePU_p p, MRePU_p p+1);
        None for the others."""
        return None

    @property
    def continuity(self) -> float:
        """k such that the activation is C^k (ReLU 0, RePU_p and MRePU_p p - 1); ``inf`` when smooth."""
        return math.inf

    @property
    def params(self) -> dict[str, object]:
        """The activation's parameters (e.g. ``{"p": 2}``), as accepted by :func:`get_activation`."""
        return {}

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:  # pragma: no cover - abstract
        """``[sigma(z), sigma'(z), ..., sigma^(order)(z)]`` elementwise, ``order`` in 0..4."""
        raise NotImplementedError

    def derivative(self, z: torch.Tensor, n: int) -> torch.Tensor:
        """The n-th derivative sigma^(n)(z), n in 0..4."""
        return self.derivatives(z, n)[n]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.derivatives(z, 0)[0]

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.params.items())
