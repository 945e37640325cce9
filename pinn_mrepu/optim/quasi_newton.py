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

The update functions (:mod:`.updates`) take ``H`` and return the new matrix (a copy, or ``H`` itself modified with
``inplace=True``: one ``addmm_`` pass ``H <- beta H + U C U^T`` with U the n x 2 or n x 3 update vectors, no
n x n temporaries; one pass over H instead of one per rank-one term and scaling); ``bfgs_terms``, ``ssbfgs_terms``
and ``ssbroyden_terms`` return that update (U, W = (U C)^T, beta) without applying it.  They raise ``ValueError`` when the
data cannot give a positive-definite update (``y.s <= 0``; for the self-scaled ones ``b <= 0`` or
``y.H y <= 0``), before touching ``H``.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor

from .base import QuasiNewton
from .updates import bfgs_terms, ssbfgs_terms, ssbroyden_terms

METHODS = ("bfgs", "ssbfgs", "ssbroyden")
DEFAULT_MAX_MEMORY_BYTES = 2 * 1024**3


def dense_memory_bytes(n: int, dtype: torch.dtype = torch.float64) -> int:
    """Bytes of the dense inverse Hessian: ``n * n * itemsize``.

    (The periodic positive-definiteness check briefly needs two more n x n buffers.)
    """
    return int(n) * int(n) * torch.empty((), dtype=dtype).element_size()


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
