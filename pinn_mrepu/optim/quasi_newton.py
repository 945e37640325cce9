"""Dense inverse-Hessian quasi-Newton methods: BFGS, self-scaled BFGS and self-scaled Broyden.

H (n, n) approximates the inverse Hessian.  Step ``p = -H g``, line search ``t``, ``s = t p``,
``y = g+ - g``, ``rho = 1 / (y.s)``, and the scalars

    h = rho (y.H y),   b = -t rho (s.g) = s.B s / y.s  (B = H^-1, because s = -t H g),   a = b h - 1 >= 0.

Updates (Kiyani et al. 2025, Urban et al. 2025; Al-Baali & Khalfan for the self-scaled Broyden):

- BFGS:   H+ = H - rho (H y s^T + s y^T H) + rho (1 + rho y.H y) s s^T.
- SSBFGS: tau = min(1, 1/b);  H <- H / tau;  then BFGS.
- SSBroyden (the "SSBroyden2" choice of theta and tau):
      c = sqrt(a / (1 + a)),  rho_m = min(1, h (1 - c)),  theta_m = (rho_m - 1) / a,  theta_p = 1 / rho_m,
      theta = max(theta_m, min(theta_p, (1 - b) / b)),  sigma = 1 + theta a,  rho_t = min(1, 1/b),
      tau = min(rho_t sigma^(1/(1-n)), sigma)      if theta <= 0,
            rho_t min(sigma^(1/(1-n)), 1/theta)    otherwise,
      phi = (1 - theta) / (1 + a theta),  v = rho s - H y / (y.H y),
      H+ = (1/tau) [H - H y y^T H / (y.H y) + phi (y.H y) v v^T] + rho s s^T.
  With theta = 0 the bracket is the BFGS update, so SSBroyden(theta=0) = SSBFGS, and = BFGS when b <= 1.

Every update satisfies the secant equation ``H+ y = s`` (the scaling multiplies only terms that
annihilate y; ``v.y = 0``).  theta >= theta_m keeps H+ positive definite.

The update functions take ``H`` and return the new matrix (a copy, or ``H`` itself modified with
``inplace=True``: one ``addmm_`` pass ``H <- beta H + U C U^T`` with U the n x 2 or n x 3 update vectors, no
n x n temporaries; one pass over H instead of one per rank-one term and scaling); ``bfgs_terms``, ``ssbfgs_terms``
and ``ssbroyden_terms`` return that update (U, W = (U C)^T, beta) without applying it.  They raise ``ValueError`` when the
data cannot give a positive-definite update (``y.s <= 0``; for the self-scaled ones ``b <= 0`` or
``y.H y <= 0``), before touching ``H``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .base import QuasiNewton

METHODS = ("bfgs", "ssbfgs", "ssbroyden")
DEFAULT_MAX_MEMORY_BYTES = 2 * 1024**3


def dense_memory_bytes(n: int, dtype: torch.dtype = torch.float64) -> int:
    """Bytes of the dense inverse Hessian: ``n * n * itemsize``.

    (The periodic positive-definiteness check briefly needs two more n x n buffers.)
    """
    return int(n) * int(n) * torch.empty((), dtype=dtype).element_size()


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


class DenseQuasiNewton(QuasiNewton):
    """BFGS / SSBFGS / SSBroyden with a dense n x n inverse Hessian (float64 recommended).

    H0 = I.  With ``initial_scale`` (default) H is replaced by ``gamma I``, ``gamma = y.s / y.y``, at
    the first accepted pair (and the first after every reset) and updated with plain BFGS whatever the
    method (the self-scaling formulas need the H that produced the step; the scaling plays their role
    here).  This keeps the n-step termination of BFGS with exact line searches on quadratics: the first
    direction -g is parallel to -gamma g, so the iterates are those of BFGS started from gamma I.
    Without it H0 = I is updated by the method's own formula and resets go back to I.
    Every ``check_every`` iterations H is symmetrised and tested with ``torch.linalg.cholesky_ex``; a failed test, a
    non-finite H or a failed update resets H to ``gamma I`` (status ``"reset"``; an accepted step still counts as
    success for ``consecutive_failures``).  ``points_changed`` keeps H.  Finiteness after an update is proven
    without reading H while a running bound on ``max |H|`` (``|beta| bound + max |U W|``, O(n) per update) stays
    1e8 below the dtype's overflow; past that, H is scanned once and the bound becomes its exact maximum.

    Args:
        n: number of parameters.
        method: "bfgs" | "ssbfgs" | "ssbroyden".
        check_every: iterations between positive-definiteness checks.
        initial_scale: scale H0 (and H after a reset) by ``gamma`` before the first update.
        max_memory_bytes: the constructor raises ValueError if ``dense_memory_bytes(n, dtype)`` exceeds it.
        **options: see :class:`QuasiNewton` (c1, c2, max_evals, tolerances, curvature_eps, ...).
    """

    kind = "dense"

    def __init__(self, n: int, method: str = "ssbroyden", *, dtype: torch.dtype = torch.float64,
                 device: torch.device | str | None = None, check_every: int = 500,
                 initial_scale: bool = True, max_memory_bytes: int = DEFAULT_MAX_MEMORY_BYTES, **options: Any) -> None:
        method = str(method).lower()
        if method not in METHODS:
            raise ValueError(f"unknown dense quasi-Newton method {method!r}; expected one of {METHODS}")
        if int(check_every) < 1:
            raise ValueError(f"check_every must be >= 1, got {check_every}")
        need = dense_memory_bytes(n, dtype)
        if need > max_memory_bytes:
            raise ValueError(f"dense {method} needs an n x n inverse Hessian: n = {int(n)} parameters -> {need} bytes "
                             f"({need / 1024**3:.2f} GiB of {dtype}), over the budget max_memory_bytes = "
                             f"{int(max_memory_bytes)} ({max_memory_bytes / 1024**3:.2f} GiB); use lbfgs for "
                             f"networks this large (or raise max_memory_bytes)")
        super().__init__(n, dtype=dtype, device=device, **options)
        self.method = method
        self.check_every = int(check_every)
        self.initial_scale = bool(initial_scale)
        self.max_memory_bytes = int(max_memory_bytes)
        self.H = torch.eye(self.n, dtype=dtype, device=self.device)
        self._identity = True  # H = c I, to be replaced by gamma I at the next accepted pair
        self._bound = 1.0  # >= max |H| (up to rounding), see _update
        self._finite_below = torch.finfo(dtype).max * 1e-8  # a bound under this proves H finite (with margin)
        self._since_check = 0

    memory_bytes = staticmethod(dense_memory_bytes)

    def _apply_h(self, g: Tensor) -> Tensor:
        return self.H @ g

    def _update(self, s: Tensor, y: Tensor, ys: float, alpha: float, g: Tensor) -> str:
        try:
            if self._identity and self.initial_scale:
                self._clear()
                terms = bfgs_terms(self.H, s, y)
            elif self.method == "bfgs":
                terms = bfgs_terms(self.H, s, y)
            elif self.method == "ssbfgs":
                terms = ssbfgs_terms(self.H, s, y, alpha, g)
            else:
                terms = ssbroyden_terms(self.H, s, y, alpha, g)
        except ValueError as err:
            self._clear()
            return f"{self.method} update impossible ({err}); H reset"
        terms.apply(self.H, inplace=True)
        self._identity = False
        # H+ = beta H + U W is finite when H is and |beta| max|H| + max|U W| stays far below overflow (nan-safe:
        # a non-finite U, W or beta fails the test); only then does the check read H, which also makes the bound exact
        self._bound = abs(terms.beta) * self._bound + terms.growth()
        if not self._bound < self._finite_below:
            self._bound = self._max_abs()
            if not math.isfinite(self._bound):
                self._clear()
                return f"non-finite entries in H after the {self.method} update; H reset"
        return ""

    def _max_abs(self) -> float:
        """``max |H|`` in one pass without an n x n temporary; inf when H has a non-finite entry."""
        low, high = (float(v) for v in torch.aminmax(self.H))
        return max(-low, high) if math.isfinite(low) and math.isfinite(high) else math.inf

    def _after_update(self) -> str:
        self._since_check += 1
        if self._since_check < self.check_every:
            return ""
        self._since_check = 0
        if self._identity:
            return ""
        self.H.copy_((self.H + self.H.mT) * 0.5)
        _, info = torch.linalg.cholesky_ex(self.H)
        self._bound = self._max_abs()
        if int(info) != 0 or not math.isfinite(self._bound):
            self._clear()
            return f"H not positive definite at the periodic check (iteration {self.iteration}); H reset"
        return ""

    def _has_scale(self) -> bool:
        return not self._identity or (self.initial_scale and self.gamma > 0.0)

    def _clear(self) -> None:
        scale = self.gamma if self.gamma > 0.0 and self.initial_scale else 1.0
        self.H.zero_()
        self.H.diagonal().fill_(scale)
        self._identity, self._bound = True, scale

    def _state(self, copy: bool = True) -> dict[str, Any]:
        return {"method": self.method, "H": self.H.clone() if copy else self.H, "identity": int(self._identity),
                "since_check": self._since_check}

    def _load_state(self, state: dict[str, Any]) -> None:
        if state["method"] != self.method:
            raise ValueError(f"state is for method {state['method']!r}, this optimizer is {self.method!r}")
        H = state["H"]
        if tuple(H.shape) != (self.n, self.n):
            raise ValueError(f"H has shape {tuple(H.shape)}, expected ({self.n}, {self.n})")
        self.H = H.to(dtype=self.dtype, device=self.device, copy=True)
        self._identity = bool(state["identity"])
        self._since_check = int(state["since_check"])
        self._bound = math.inf  # unknown: the next update reads H
