"""The contract shared by the quasi-Newton optimizers on a flat parameter vector.

One call of :meth:`QuasiNewton.step` is one iteration:

    p = -H g                       (H: the current inverse-Hessian approximation, dense or L-BFGS)
    t = line search along p        (strong Wolfe, see :mod:`.line_search`)
    x+ = x + t p,  s = t p,  y = g(x+) - g
    update H from (s, y)           (skipped when y.s <= curvature_eps |s| |y|)

The optimizer knows nothing about networks: it sees ``x`` (n,), the loss ``f`` (0-d), the gradient
``g`` (n,) and ``closure(x) -> (f, g)``.  The point, loss and gradient it returns are the line
search's last evaluation, so the next step needs no extra evaluation.

Failure handling (what PINN losses need): a non-finite loss or gradient at a trial point only shrinks
the step; a failed line search, a non-descent direction or a non-finite start point resets H (to
``gamma I`` with the last accepted ``gamma = y.s / y.y``, or I before any) and increments
``consecutive_failures``; any accepted step sets it back to 0.  The caller stops when
``consecutive_failures >= max_failures``.  After a reset the next direction is steepest descent.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import partial
from typing import Any

import torch
from torch import Tensor

from .line_search import ARMIJO_ONLY, Closure, LineSearch, strong_wolfe

OK = "ok"
SKIPPED_UPDATE = "skipped_update"
RESET = "reset"
CONVERGED = "converged"


@dataclass
class StepResult:
    """Outcome of one quasi-Newton iteration.

    Attributes:
        x: new point (n,) (the input ``x`` when the step failed without any finite decrease).
        f: loss at ``x`` (0-d tensor).
        g: gradient at ``x`` (n,).
        evals: closure evaluations used by this step.
        status: ``"ok"`` | ``"skipped_update"`` (step taken, y.s too small to update H) |
            ``"reset"`` (H reset: failed line search, non-descent direction, non-finite start point,
            or H found bad after the update) | ``"converged"`` (tolerance_grad / tolerance_change met).
        alpha: accepted step length t (``x = x_old + t p``).
        message: short human-readable reason when the status is not ``"ok"`` (or the step was Armijo-only).
        line_search: the line search's status (``"strong_wolfe"``, ``"armijo_only"``, ``"failed"``,
            ``"not_descent"``, or ``""`` when none ran).
    """

    x: Tensor
    f: Tensor
    g: Tensor
    evals: int
    status: str
    alpha: float = 0.0
    message: str = ""
    line_search: str = ""


def all_finite(*tensors: Tensor) -> bool:
    """True when every entry of every tensor is finite.

    A finite sum proves every entry finite (an inf or nan entry makes the sum inf or nan) at the cost of one read
    of the tensor; only a non-finite sum (a bad entry, or finite entries whose sum overflows) pays for the exact
    entrywise test, which allocates a boolean tensor of the same size: for the dense n x n inverse Hessian that
    allocation was most of an iteration's time.
    """
    for t in tensors:
        if t.numel() and not bool(torch.isfinite(t.sum())) and not bool(torch.isfinite(t).all()):
            return False
    return True


class QuasiNewton(ABC):
    """Abstract quasi-Newton optimizer on a flat vector of length ``n``.

    Subclasses supply the direction ``H g``, the curvature update, the reset and their state.

    Args:
        n: number of parameters.
        dtype, device: of the internal state (use float64).
        c1, c2, max_evals: strong-Wolfe constants and evaluation budget of the default line search.
        tolerance_grad: status ``"converged"`` when ``max|g| <= tolerance_grad`` (0: only for g = 0 exactly).
        tolerance_change: status ``"converged"`` when ``|f+ - f| <= tolerance_change`` (0 disables).
        curvature_eps: the update is skipped unless ``y.s > curvature_eps * |s| |y|``, i.e. unless
            the cosine of the angle between s and y exceeds ``curvature_eps`` (scale-free; the strong
            Wolfe condition already guarantees ``y.s >= (1 - c2) |g.s| > 0``, so this only bites on
            Armijo-only steps and on round-off).
        max_failures: the caller's stopping threshold for ``consecutive_failures``.
        reset_on_points_changed: make :meth:`points_changed` call :meth:`reset` (default: keep H).
        line_search: optional ``search(closure, x, f, g, d, t0) -> LineSearchResult`` replacing the
            strong-Wolfe search (e.g. an exact search for quadratics in tests).
    """

    kind: str = ""

    def __init__(self, n: int, *, dtype: torch.dtype = torch.float64, device: torch.device | str | None = None,
                 c1: float = 1e-4, c2: float = 0.9, max_evals: int = 25, tolerance_grad: float = 0.0,
                 tolerance_change: float = 0.0, curvature_eps: float = 1e-10, max_failures: int = 5,
                 reset_on_points_changed: bool = False, line_search: LineSearch | None = None) -> None:
        if int(n) < 1:
            raise ValueError(f"n must be >= 1, got {n}")
        if not 0.0 < c1 < c2 < 1.0:
            raise ValueError(f"need 0 < c1 < c2 < 1, got c1 = {c1}, c2 = {c2}")
        if int(max_evals) < 1 or int(max_failures) < 1:
            raise ValueError(f"max_evals and max_failures must be >= 1, got {max_evals}, {max_failures}")
        if min(tolerance_grad, tolerance_change, curvature_eps) < 0.0:
            raise ValueError("tolerance_grad, tolerance_change and curvature_eps must be >= 0")
        self.n = int(n)
        self.dtype = dtype
        self.device = torch.device(device) if device is not None else torch.device("cpu")
        self.tolerance_grad = float(tolerance_grad)
        self.tolerance_change = float(tolerance_change)
        self.curvature_eps = float(curvature_eps)
        self.max_failures = int(max_failures)
        self.reset_on_points_changed = bool(reset_on_points_changed)
        self.line_search: LineSearch = line_search if line_search is not None else partial(
            strong_wolfe, c1=c1, c2=c2, max_evals=int(max_evals))
        self.iteration = 0
        self.consecutive_failures = 0
        self.gamma = 0.0  # last accepted y.s / y.y (0: no curvature seen yet)

    # ---- what subclasses provide -------------------------------------------------------------
    @abstractmethod
    def _apply_h(self, g: Tensor) -> Tensor:
        """Return ``H g`` (n,)."""

    @abstractmethod
    def _update(self, s: Tensor, y: Tensor, ys: float, alpha: float, g: Tensor) -> str:
        """Update H from an accepted pair (``ys = y.s > 0``, ``self.gamma`` already refreshed).

        Returns "" on success, else a message saying why H was reset instead.
        """

    @abstractmethod
    def _clear(self) -> None:
        """Set H to ``gamma I`` (I when gamma is unknown) / empty the memory."""

    @abstractmethod
    def _state(self, copy: bool = True) -> dict[str, Any]:
        """Subclass part of :meth:`state_dict` (``copy=False``: live tensors may be returned as they are)."""

    @abstractmethod
    def _load_state(self, state: dict[str, Any]) -> None:
        """Subclass part of :meth:`load_state_dict`."""

    def _after_update(self) -> str:
        """Periodic health check after an accepted step; "" or the reason H was reset."""
        return ""

    def _has_scale(self) -> bool:
        """Whether H carries curvature scale (then the line search starts at t = 1)."""
        return self.gamma > 0.0

    # ---- public API ---------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget the curvature: H <- gamma I (the last accepted scaling, I before any)."""
        self._clear()

    def points_changed(self) -> None:
        """The loss changed (collocation points resampled).

        H is kept (the dense methods' practice: the curvature of the new loss is close to the old
        one and the next pairs correct it); with ``reset_on_points_changed`` it is reset instead.
        """
        if self.reset_on_points_changed:
            self.reset()

    def initial_step(self, g: Tensor) -> float:
        """First trial step of the line search.

        1 once H carries curvature (after an update, or ``gamma I`` after a reset).  With
        the raw identity (first iteration) ``p = -g`` has the gradient's units, which for PINN losses
        can be huge, so the step is capped like torch's LBFGS: ``t0 = min(1, 1 / |g|_1)``, i.e. the
        first trial moves x by at most 1 in the l1 norm; the search extrapolates if that is too short.
        """
        if self._has_scale():
            return 1.0
        g1 = float(g.abs().sum())
        return min(1.0, 1.0 / g1) if g1 > 0.0 else 1.0

    def step(self, x: Tensor, f: Tensor, g: Tensor, closure: Closure) -> StepResult:
        """One iteration from ``x`` with loss ``f`` (0-d) and gradient ``g`` (n,); see the module doc."""
        if x.shape != (self.n,) or g.shape != (self.n,):
            raise ValueError(f"x and g must have shape ({self.n},), got {tuple(x.shape)} and {tuple(g.shape)}")
        self.iteration += 1
        if not (math.isfinite(float(f)) and all_finite(g)):
            return self._fail(StepResult(x, f, g, 0, RESET, message="loss or gradient at the current point "
                                         "is not finite; H reset, x unchanged"))
        gmax = float(g.abs().max())
        if gmax <= self.tolerance_grad:  # also an exactly zero gradient when tolerance_grad = 0
            return StepResult(x, f, g, 0, CONVERGED, message=f"max|g| = {gmax:.3e} <= tolerance_grad")
        p = -self._apply_h(g)
        if not all_finite(p):
            return self._fail(StepResult(x, f, g, 0, RESET, message="non-finite direction H g; H reset"))
        ls = self.line_search(closure, x, f, g, p, self.initial_step(g))
        if not ls.ok:
            moved = "moved to the lowest finite point" if ls.t > 0.0 else "x unchanged"
            return self._fail(StepResult(ls.x, ls.f, ls.g, ls.evals, RESET, ls.t,
                                         f"line search {ls.status}: {ls.message}; H reset, {moved}", ls.status))
        self.consecutive_failures = 0
        status, message = OK, (ls.message if ls.status == ARMIJO_ONLY else "")
        s = p * ls.t
        y = ls.g - g
        ys = float(torch.dot(y, s))
        bound = self.curvature_eps * float(s.norm()) * float(y.norm())
        if not (math.isfinite(ys) and ys > bound):
            status, message = SKIPPED_UPDATE, f"y.s = {ys:.3e} <= {bound:.3e} (curvature_eps |s||y|); update skipped"
        else:
            self.gamma = ys / float(torch.dot(y, y))
            problem = self._update(s, y, ys, ls.t, g)
            if problem:
                status, message = RESET, problem
        problem = self._after_update()
        if problem:
            status, message = RESET, problem
        if status != RESET:
            gmax = float(ls.g.abs().max())
            change = abs(float(ls.f) - float(f))
            if gmax <= self.tolerance_grad:
                status, message = CONVERGED, f"max|g| = {gmax:.3e} <= tolerance_grad"
            elif self.tolerance_change > 0.0 and change <= self.tolerance_change:
                status, message = CONVERGED, f"|f change| = {change:.3e} <= tolerance_change"
        return StepResult(ls.x, ls.f, ls.g, ls.evals, status, ls.t, message, ls.status)

    def _fail(self, result: StepResult) -> StepResult:
        self._clear()
        self.consecutive_failures += 1
        return result

    def state_dict(self, *, copy: bool = True) -> dict[str, Any]:
        """Complete state as plain tensors / ints / floats / strs (``torch.load(weights_only=True)``-safe).

        ``copy=False`` returns the optimizer's own tensors where it holds them (the dense H, not a copy), for a
        caller that copies them itself (the trainer copies its rollback snapshot into reused buffers); the
        result then changes with the optimizer.
        """
        state: dict[str, Any] = {"kind": self.kind, "n": self.n, "iteration": self.iteration,
                                 "consecutive_failures": self.consecutive_failures, "gamma": self.gamma}
        state.update(self._state(copy))
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; continuing reproduces the uninterrupted run bit for bit."""
        if state.get("kind") != self.kind or int(state.get("n", -1)) != self.n:
            raise ValueError(f"state is for kind={state.get('kind')!r}, n={state.get('n')}; "
                             f"this optimizer is kind={self.kind!r}, n={self.n}")
        self.iteration = int(state["iteration"])
        self.consecutive_failures = int(state["consecutive_failures"])
        self.gamma = float(state["gamma"])
        self._load_state(state)
