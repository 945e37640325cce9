"""Smooth activations: tanh, GELU, SiLU and sin, with closed-form derivatives up to order 4."""

from __future__ import annotations

import math

import torch

from .base import Activation

__all__ = ["GELU", "SiLU", "Sin", "Tanh"]

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


class Tanh(Activation):
    """tanh(z); with t = tanh(z): sigma' = 1 - t^2, sigma'' = -2t(1 - t^2), sigma''' = (1 - t^2)(6t^2 - 2),
    sigma'''' = 8t(1 - t^2)(2 - 3t^2)."""

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
        if order >= 4:
            out.append(sech2 * t * (16.0 - 24.0 * t2))
        return out


class GELU(Activation):
    """Exact GELU z * Phi(z); sigma' = Phi + z phi, sigma'' = phi (2 - z^2), sigma''' = phi (z^3 - 4z),
    sigma'''' = phi (-z^4 + 7z^2 - 4) (each step uses phi' = -z phi)."""

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
        if order >= 4:
            out.append(pdf * ((7.0 - z2) * z2 - 4.0))
        return out[: order + 1]


class SiLU(Activation):
    """SiLU z * s(z), s the logistic sigmoid; sigma^(n) = n s^(n-1) + z s^(n), with s' = s(1 - s),
    s'' = s'(1 - 2s), s''' = s''(1 - 2s) - 2s'^2, s'''' = s'''(1 - 2s) - 6s's''."""

    name = "silu"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z * torch.sigmoid(z)

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:
        s0 = torch.sigmoid(z)
        s1 = s0 * (1.0 - s0)
        s2 = s1 * (1.0 - 2.0 * s0)
        s3 = s2 * (1.0 - 2.0 * s0) - 2.0 * s1 * s1
        sig = [s0, s1, s2, s3]
        if order >= 4:
            sig.append(s3 * (1.0 - 2.0 * s0) - 6.0 * s1 * s2)
        out = [z * s0] + [n * sig[n - 1] + z * sig[n] for n in range(1, len(sig))]
        return out[: order + 1]


class Sin(Activation):
    """sin(z); derivatives cos, -sin, -cos, sin."""

    name = "sin"

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sin(z)

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:
        s = torch.sin(z)
        if order == 0:
            return [s]
        c = torch.cos(z)
        return [s, c, -s, -c, s][: order + 1]
