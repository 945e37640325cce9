"""The dense inverse-Hessian updates of BFGS, self-scaled BFGS and self-scaled Broyden (formulas:
:mod:`pinn_mrepu.optim.quasi_newton`), as functions of H and the step's vectors.

``*_terms`` return the update ``H+ = beta H + U W`` (:class:`LowRankUpdate`) without applying it; ``*_update``
apply it.  They raise ``ValueError`` when the data cannot give a positive-definite update, before touching H.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = ["LowRankUpdate", "SSBroydenScalars", "bfgs_terms", "bfgs_update", "ssbfgs_terms", "ssbfgs_update",
           "ssbroyden_scalars", "ssbroyden_terms", "ssbroyden_update"]


def _ys(s: Tensor, y: Tensor) -> float:
    ys = float(torch.dot(y, s))
    if not (math.isfinite(ys) and ys > 0.0):
        raise ValueError(f"curvature condition fails: y.s = {ys:.3e} must be > 0")
    return ys


@dataclass
class LowRankUpdate:
    """The update ``H+ = beta H + U W`` with U (n, k) the update vectors and W = (U C)^T, C (k, k) symmetric."""

    U: Tensor
    W: Tensor
    beta: float

    def apply(self, H: Tensor, inplace: bool = False) -> Tensor:
        """``beta H + U W``: one ``addmm`` pass over H (``inplace``: H itself is overwritten and returned)."""
        if inplace:
            return H.addmm_(self.U, self.W, beta=self.beta)
        return torch.addmm(H, self.U, self.W, beta=self.beta)

    def growth(self) -> float:
        """A bound on ``max |U W|`` (entrywise), ``sum_k max|U[:, k]| max|W[k, :]|``: O(n k), H is not read."""
        return float((self.U.abs().amax(dim=0) * self.W.abs().amax(dim=1)).sum())


def _low_rank(vectors: list[Tensor], C: list[list[float]], beta: float) -> LowRankUpdate:
    U = torch.stack(vectors, dim=1)
    return LowRankUpdate(U, (U @ torch.tensor(C, dtype=U.dtype, device=U.device)).mT, beta)


def _bfgs(s: Tensor, Hy: Tensor, rho: float, yHy: float, beta: float) -> LowRankUpdate:
    """``beta H - rho (Hy s^T + s Hy^T) + rho (1 + rho y.Hy) s s^T`` (Hy, yHy computed from beta H)."""
    return _low_rank([Hy, s], [[0.0, -rho], [-rho, rho * (1.0 + rho * yHy)]], beta)


def bfgs_terms(H: Tensor, s: Tensor, y: Tensor) -> LowRankUpdate:
    """The BFGS update of H as a :class:`LowRankUpdate` (reads H once, for H y; see :func:`bfgs_update`)."""
    rho = 1.0 / _ys(s, y)
    Hy = H @ y
    return _bfgs(s, Hy, rho, float(torch.dot(y, Hy)), 1.0)


def bfgs_update(H: Tensor, s: Tensor, y: Tensor, *, inplace: bool = False) -> Tensor:
    """BFGS inverse update ``H+ = H - rho (H y s^T + s y^T H) + rho (1 + rho y.H y) s s^T``.

    Args: H (n, n) symmetric positive definite; s, y (n,) with ``y.s > 0``.
    Returns: H+ (n, n), satisfying ``H+ y = s``.
    """
    return bfgs_terms(H, s, y).apply(H, inplace)


def ssbfgs_terms(H: Tensor, s: Tensor, y: Tensor, alpha: float, g: Tensor) -> LowRankUpdate:
    """The self-scaled BFGS update of H as a :class:`LowRankUpdate` (see :func:`ssbfgs_update`)."""
    ys = _ys(s, y)
    rho = 1.0 / ys
    b = -alpha * rho * float(torch.dot(s, g))
    if not (math.isfinite(b) and b > 0.0):
        raise ValueError(f"b = s.B s / y.s = {b:.3e} must be > 0 (is s = -alpha H g with H positive definite?)")
    tau = min(1.0, 1.0 / b)
    Hy = (H @ y) / tau
    return _bfgs(s, Hy, rho, float(torch.dot(y, Hy)), 1.0 / tau)


def ssbfgs_update(H: Tensor, s: Tensor, y: Tensor, alpha: float, g: Tensor, *, inplace: bool = False) -> Tensor:
    """Self-scaled BFGS (Al-Baali's scaling): ``tau = min(1, 1/b)``, ``H <- H / tau``, then BFGS.

    Args: H (n, n) SPD, the matrix that produced ``s = -alpha H g``; s, y, g (n,); alpha the step length.
    Returns: H+ (n, n), satisfying ``H+ y = s``.
    """
    return ssbfgs_terms(H, s, y, alpha, g).apply(H, inplace)


@dataclass
class SSBroydenScalars:
    """Scalars of one SSBroyden update (see the module doc for the formulas)."""

    rho: float
    h: float
    b: float
    a: float
    theta: float
    sigma: float
    tau: float
    phi: float


def ssbroyden_scalars(ys: float, yHy: float, sg: float, alpha: float, n: int,
                      theta: float | None = None) -> SSBroydenScalars:
    """SSBroyden2 scalars from ``y.s``, ``y.H y``, ``s.g``, the step length and the dimension ``n``.

    ``theta`` overrides the SSBroyden2 choice (``theta = 0``: self-scaled BFGS).  ``a`` is clipped at 0
    (it is >= 0 by Cauchy-Schwarz); at ``a = 0`` (s parallel to H y) ``v = 0`` and theta only enters
    tau, so ``theta_m`` is taken as its limit (0 if ``rho_m = 1`` else -inf).  For ``n = 1`` the
    factor ``sigma^(1/(1-n))`` is taken as 1 (H+ = s/y then, whatever tau is).
    """
    rho = 1.0 / ys
    h = rho * yHy
    b = -alpha * rho * sg
    if not (math.isfinite(b) and b > 0.0 and math.isfinite(h) and h > 0.0):
        raise ValueError(f"b = {b:.3e} and h = {h:.3e} must be > 0 (is H positive definite, s = -alpha H g?)")
    a = max(b * h - 1.0, 0.0)
    if theta is None:
        c = math.sqrt(a / (1.0 + a))
        rho_m = min(1.0, h * (1.0 - c))
        if a > 0.0:
            theta_m = (rho_m - 1.0) / a
        else:
            theta_m = 0.0 if rho_m >= 1.0 else -math.inf
        theta_p = 1.0 / rho_m if rho_m > 0.0 else math.inf
        theta = max(theta_m, min(theta_p, (1.0 - b) / b))
    sigma = 1.0 + theta * a
    if not (math.isfinite(sigma) and sigma > 0.0):
        raise ValueError(f"sigma = 1 + theta a = {sigma:.3e} must be > 0 (theta = {theta:.3e}, a = {a:.3e})")
    rho_t = min(1.0, 1.0 / b)
    power = sigma ** (1.0 / (1.0 - n)) if n > 1 else 1.0
    tau = min(rho_t * power, sigma) if theta <= 0.0 else rho_t * min(power, 1.0 / theta)
    phi = (1.0 - theta) / sigma
    return SSBroydenScalars(rho, h, b, a, theta, sigma, tau, phi)


def ssbroyden_terms(H: Tensor, s: Tensor, y: Tensor, alpha: float, g: Tensor,
                    theta: float | None = None) -> LowRankUpdate:
    """The SSBroyden update of H as a :class:`LowRankUpdate` (see :func:`ssbroyden_update`)."""
    ys = _ys(s, y)
    Hy = H @ y
    yHy = float(torch.dot(y, Hy))
    k = ssbroyden_scalars(ys, yHy, float(torch.dot(s, g)), alpha, H.shape[0], theta)
    v = s * k.rho - Hy / yHy
    C = [[-1.0 / (yHy * k.tau), 0.0, 0.0], [0.0, k.phi * yHy / k.tau, 0.0], [0.0, 0.0, k.rho]]
    return _low_rank([Hy, v, s], C, 1.0 / k.tau)


def ssbroyden_update(H: Tensor, s: Tensor, y: Tensor, alpha: float, g: Tensor, theta: float | None = None, *,
                     inplace: bool = False) -> Tensor:
    """Self-scaled Broyden update (SSBroyden2), see the module doc.

    Args: H (n, n) SPD, the matrix that produced ``s = -alpha H g``; s, y, g (n,); alpha the step
        length; theta overrides the Broyden parameter (None: the SSBroyden2 choice).
    Returns: H+ (n, n) = (1/tau) [H - Hy (Hy)^T / y.Hy + phi (y.Hy) v v^T] + rho s s^T, with H+ y = s.
    """
    return ssbroyden_terms(H, s, y, alpha, g, theta).apply(H, inplace)
