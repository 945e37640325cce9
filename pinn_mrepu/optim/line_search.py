"""Strong-Wolfe line search (bracketing + zoom) that tolerates non-finite trial points.

Along a direction ``d`` from ``x`` the search looks at ``phi(t) = f(x + t d)`` with slope
``phi'(t) = g(x + t d) . d`` and accepts a step ``t > 0`` satisfying the strong Wolfe conditions

    sufficient decrease (Armijo):  phi(t) <= phi(0) + c1 t phi'(0)
    curvature (strong):            |phi'(t)| <= c2 |phi'(0)|,          0 < c1 < c2 < 1.

It follows Nocedal & Wright (Numerical Optimization, 2nd ed., algorithms 3.5 and 3.6): a bracketing
phase that grows ``t`` until an interval is known to contain acceptable steps, then ``zoom`` which
shrinks that interval by safeguarded cubic interpolation (the minimiser of the cubic through both
ends' values and slopes, clamped into the middle 80 % of the interval, bisection when the cubic has
no minimiser).

PINN losses overflow or produce nan for large steps, so a trial point whose loss or gradient is not
finite is not an error: it is treated as ``phi = +inf`` and becomes the upper end of the bracket, and
the next trial moves ``shrink`` (default 1/4) of the way from the last good end toward it (from
``t = 0`` that is ``t <- t / 4``).  When the evaluations run out (``max_evals``) or the bracket
collapses, the search returns the best finite trial satisfying the Armijo condition (status
``"armijo_only"``); if there is none it fails, returning the lowest finite trial below ``phi(0)``
if any (the caller may move there) or the start point.  A direction with ``phi'(0) >= 0`` is
reported as ``"not_descent"`` without any evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor

Closure = Callable[[Tensor], tuple[Tensor, Tensor]]
"""``closure(x (n,)) -> (loss (), gradient (n,))``; either may be non-finite."""

STRONG_WOLFE = "strong_wolfe"
ARMIJO_ONLY = "armijo_only"
FAILED = "failed"
NOT_DESCENT = "not_descent"


@dataclass
class LineSearchResult:
    """Outcome of a line search along ``d`` from ``x``.

    Attributes:
        t: accepted step length (0.0 when the search stayed at the start point).
        x: the point ``x + t d`` exactly as it was passed to the closure (``x`` itself when ``t == 0``).
        f: loss at ``x`` (0-d tensor, as returned by the closure).
        g: gradient at ``x``, shape (n,).
        evals: closure evaluations used.
        status: ``"strong_wolfe"`` | ``"armijo_only"`` (accepted; only sufficient decrease holds) |
            ``"failed"`` (no acceptable step) | ``"not_descent"`` (``g . d >= 0``, nothing evaluated).
        message: short reason when the status is not ``"strong_wolfe"``.
    """

    t: float
    x: Tensor
    f: Tensor
    g: Tensor
    evals: int
    status: str
    message: str = ""

    @property
    def ok(self) -> bool:
        """Whether the step is acceptable (strong Wolfe or Armijo-only)."""
        return self.status in (STRONG_WOLFE, ARMIJO_ONLY)


LineSearch = Callable[[Closure, Tensor, Tensor, Tensor, Tensor, float], LineSearchResult]
"""``search(closure, x, f, g, d, t0) -> LineSearchResult``: the hook the optimizers accept."""


def cubic_minimizer(t1: float, f1: float, d1: float, t2: float, f2: float, d2: float) -> float | None:
    """Minimiser of the cubic interpolating ``(t1, f1, d1)`` and ``(t2, f2, d2)`` (values and slopes).

    Nocedal & Wright eq. (3.59):

        e1 = d1 + d2 - 3 (f1 - f2) / (t1 - t2),   e2 = sign(t2 - t1) sqrt(e1^2 - d1 d2),
        t  = t2 - (t2 - t1) (d2 + e2 - e1) / (d2 - d1 + 2 e2).

    Returns None when the cubic has no local minimiser (negative discriminant) or the formula is not
    finite; exact for quadratics and cubics.
    """
    if t1 == t2:
        return None
    e1 = d1 + d2 - 3.0 * (f1 - f2) / (t1 - t2)
    disc = e1 * e1 - d1 * d2
    if not math.isfinite(disc) or disc < 0.0:
        return None
    e2 = math.copysign(math.sqrt(disc), t2 - t1)
    denom = d2 - d1 + 2.0 * e2
    if denom == 0.0:
        return None
    t = t2 - (t2 - t1) * (d2 + e2 - e1) / denom
    return t if math.isfinite(t) else None


@dataclass
class _Point:
    """One trial: step, loss value and slope as floats, and the tensors (None when not finite)."""

    t: float
    fv: float
    dg: float
    x: Tensor | None = None
    f: Tensor | None = None
    g: Tensor | None = None

    @property
    def finite(self) -> bool:
        return self.x is not None


def strong_wolfe(closure: Closure, x: Tensor, f: Tensor, g: Tensor, d: Tensor, t0: float = 1.0, *,
                 c1: float = 1e-4, c2: float = 0.9, max_evals: int = 25, shrink: float = 0.25,
                 rtol: float = 1e-10) -> LineSearchResult:
    """Strong-Wolfe line search along ``d`` from ``x``, robust to non-finite trial points.

    Args:
        closure: ``closure(x) -> (loss (), grad (n,))``.
        x, f, g: start point (n,), its loss (0-d) and gradient (n,); must be finite.
        d: search direction (n,); must satisfy ``g . d < 0``.
        t0: first trial step (> 0).
        c1, c2: Armijo and curvature constants, ``0 < c1 < c2 < 1``.
        max_evals: closure evaluations allowed.
        shrink: fraction of the way from the good bracket end toward a non-finite trial for the next trial.
        rtol: the search stops when the bracket is narrower than ``rtol * t``, or when a trial step no
            longer changes ``x`` in floating point.

    Returns:
        LineSearchResult; ``x`` is the exact tensor that was evaluated, so callers reuse ``f`` and ``g``.
    """
    if not (t0 > 0.0 and math.isfinite(t0)):
        raise ValueError(f"initial step t0 must be finite and > 0, got {t0}")
    f0 = float(f)
    dg0 = float(torch.dot(g, d))
    if not math.isfinite(dg0) or dg0 >= 0.0:
        return LineSearchResult(0.0, x, f, g, 0, NOT_DESCENT, f"not a descent direction: g.d = {dg0:.3e} >= 0")
    start = _Point(0.0, f0, dg0, x, f, g)
    evals = 0
    best_armijo: _Point | None = None
    best_decrease: _Point | None = None

    def armijo(p: _Point) -> bool:
        return p.fv <= f0 + c1 * p.t * dg0

    def evaluate(t: float) -> _Point | None:
        nonlocal evals, best_armijo, best_decrease
        xt = torch.add(x, d, alpha=t)
        if torch.equal(xt, x):
            return None
        ft, gt = closure(xt)
        evals += 1
        fv = float(ft)
        if not (math.isfinite(fv) and bool(torch.isfinite(gt).all())):
            return _Point(t, math.inf, math.nan)
        p = _Point(t, fv, float(torch.dot(gt, d)), xt, ft, gt)
        if fv < f0 and (best_decrease is None or fv < best_decrease.fv):
            best_decrease = p
        if armijo(p) and (best_armijo is None or fv < best_armijo.fv):
            best_armijo = p
        return p

    def done(p: _Point, status: str, message: str = "") -> LineSearchResult:
        assert p.x is not None and p.f is not None and p.g is not None
        return LineSearchResult(p.t, p.x, p.f, p.g, evals, status, message)

    def finish(reason: str) -> LineSearchResult:
        if best_armijo is not None:
            return done(best_armijo, ARMIJO_ONLY, f"{reason}; best Armijo point accepted")
        if best_decrease is not None:
            return done(best_decrease, FAILED, f"{reason}; no Armijo point, lowest finite point returned")
        return done(start, FAILED, f"{reason}; no finite decrease found")

    def zoom(lo: _Point, hi: _Point) -> LineSearchResult:
        # Invariants: lo is finite, satisfies Armijo, has the lowest loss so far, and lo.dg * (hi.t - lo.t) < 0.
        while evals < max_evals:
            a, b = min(lo.t, hi.t), max(lo.t, hi.t)
            width = b - a
            if width <= rtol * b:
                return finish("bracket collapsed")
            if hi.finite:
                tc = cubic_minimizer(lo.t, lo.fv, lo.dg, hi.t, hi.fv, hi.dg)
                t = 0.5 * (a + b) if tc is None else min(max(tc, a + 0.1 * width), b - 0.1 * width)
            else:
                t = lo.t + shrink * (hi.t - lo.t)
            cur = evaluate(t)
            if cur is None:
                return finish("step below floating-point resolution")
            if not cur.finite or not armijo(cur) or cur.fv >= lo.fv:
                hi = cur
                continue
            if abs(cur.dg) <= -c2 * dg0:
                return done(cur, STRONG_WOLFE)
            if cur.dg * (hi.t - lo.t) >= 0.0:
                hi = lo
            lo = cur
        return finish(f"{max_evals} evaluations used")

    prev, t = start, t0
    while evals < max_evals:
        cur = evaluate(t)
        if cur is None:
            return finish("step below floating-point resolution")
        if not cur.finite or not armijo(cur) or (prev is not start and cur.fv >= prev.fv):
            return zoom(prev, cur)
        if abs(cur.dg) <= -c2 * dg0:
            return done(cur, STRONG_WOLFE)
        if cur.dg >= 0.0:
            return zoom(cur, prev)
        lower, upper = t + 0.01 * (t - prev.t), 10.0 * t
        tc = cubic_minimizer(prev.t, prev.fv, prev.dg, cur.t, cur.fv, cur.dg)
        prev, t = cur, 0.5 * (lower + upper) if tc is None else min(max(tc, lower), upper)
    return finish(f"{max_evals} evaluations used while bracketing")
