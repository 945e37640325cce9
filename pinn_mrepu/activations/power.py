"""Power activations: MRePU and RePU (integer p >= 1) and ReLU.

MRePU (Kim & Kang, arXiv 2408.02697) with integer p >= 1::

    MRePU_p(z) = z * relu(z + 1)^p
               = s^(p+1) - s^p          with s = z + 1 > 0, and 0 for z <= -1,

so sigma^(n)(z) = [(p+1)_n s^(p+1-n) - (p)_n s^(p-n)] * H(s), with (a)_n the falling factorial, for any n (the
engines use n <= 4: sigma'''' = p(p-1)(p-2) s^(p-4) ((p+1)s - (p-3)) H(s), zero for p <= 2).  sigma(0) = 0,
sigma'(0) = 1, sigma''(0) = 2p.  MRePU_p is C^(p-1); its kink sits at z = -1.  RePU_p(z) = relu(z)^p has its
kink at z = 0.
"""

from __future__ import annotations

import torch

from .base import Activation, _check_power, _falling, _power_term

__all__ = ["MRePU", "ReLU", "RePU"]


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

    @property
    def degree(self) -> int:
        return self.p + 1

    @property
    def continuity(self) -> float:
        return self.p - 1

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

    @property
    def degree(self) -> int:
        return self.p

    @property
    def continuity(self) -> float:
        return self.p - 1

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


class ReLU(Activation):
    """relu(z); sigma' = H(z), higher derivatives vanish (almost everywhere)."""

    name = "relu"
    kinks = (0.0,)

    @property
    def degree(self) -> int:
        return 1

    @property
    def continuity(self) -> float:
        return 0

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.relu(z)

    def derivatives(self, z: torch.Tensor, order: int) -> list[torch.Tensor]:
        out = [torch.relu(z), (z > 0).to(z.dtype)] + [torch.zeros_like(z)] * max(order - 1, 0)
        return out[: order + 1]
