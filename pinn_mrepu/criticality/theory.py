"""Criticality of deep MLPs at initialisation (Roberts, Yaida & Hanin, *The Principles of Deep Learning Theory*, ch. 5;
Kim & Kang, arXiv 2408.02697).

An MLP with ``W ~ N(0, C_W / fan_in)``, ``b ~ N(0, C_b)`` has, at infinite width, Gaussian pre-activations whose
single-input kernel obeys::

    K^(l+1) = C_b + C_W <sigma(z)^2>_{K^(l)},              z ~ N(0, K^(l)),
    chi_par(K)  = C_W d<sigma^2>_K / dK = C_W <sigma'(z)^2 + sigma(z) sigma''(z)>_K,
    chi_perp(K) = C_W <sigma'(z)^2>_K.

``chi_par`` is the slope of the kernel map (it governs how a kernel deviation grows), ``chi_perp`` governs how the
distance between two nearby inputs grows.  Criticality is ``chi_par = chi_perp = 1`` at a fixed point ``K*``.
The derivative form of ``chi_par`` (Gaussian integration by parts, d/dK <f>_K = <f''>_K / 2) uses the a.e.
derivatives; it is exact when sigma' jumps only where sigma = 0 (true for every registered activation).

Universality classes returned by :func:`pinn_mrepu.criticality.initialization.critical_init`:

* ``scale_invariant`` -- sigma(lambda z) = lambda sigma(z) (ReLU): chi_par = chi_perp = C_W <sigma'^2>_1 for all K,
  critical at (0, 1/<sigma'^2>_1) = (0, 2) for ReLU; every K is then a fixed point.
* ``nonzero_fixed_point`` -- some K* > 0 has <sigma sigma''>_{K*} = 0; then C_W = 1/<sigma'^2>_{K*},
  C_b = K* - C_W <sigma^2>_{K*} >= 0 (GELU, SiLU).
* ``k_star_zero`` -- sigma(0) = 0, sigma'(0) != 0 and no nonzero critical point: (0, 1/sigma'(0)^2), with the
  kernel map K -> K + a1 K^2 + ..., a1 = sigma'''(0)/sigma'(0) + 3/4 (sigma''(0)/sigma'(0))^2.  a1 < 0 (tanh: -2,
  sin: -1): K = 0 attracts, K^(l) ~ 1/(-a1 l).  a1 > 0 (MRePU_p: a1 = 3p(2p-1)): K = 0 repels, the kernel grows.
* ``none`` -- homogeneous of degree p != 1 (RePU_p: chi_par/chi_perp = (2p-1)/p at every K) or nothing else applies.

The first layer sees the inputs, not activations: K^(1) = c_b + c_w mean_i x_i^2.  :meth:`CriticalInit.layer_variances`
picks its (c_b, c_w) per class (for MRePU: small enough that K^(L)/K^(1) <= 2).  :func:`pinn_mrepu.criticality.ensembles.empirical_kernels` samples
ensembles of finite-width networks to check the recursion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np
import torch
from scipy import optimize

from pinn_mrepu.activations import get_activation
from pinn_mrepu.errors import ConfigError

__all__ = ["gaussian_expectation", "kernel_recursion", "susceptibilities", "FixedPoints", "fixed_points",
           "UNIVERSALITY_CLASSES"]

_U_MAX = 12.0  # |u| = |z|/sqrt(K) range; the Gaussian mass outside is 4e-33
_MAX_EVALS = 2_000_000  # integrand evaluations per quadrature chunk (memory bound)
_K_INF = 1e300  # kernels beyond this are reported as inf (blown up)
UNIVERSALITY_CLASSES = ("scale_invariant", "nonzero_fixed_point", "k_star_zero", "none")


def _as_activation(activation: Any, **params: Any) -> Any:
    if isinstance(activation, str):
        return get_activation(activation, **params)
    if params:
        raise ValueError(f"activation: got parameters {params!r} for an activation object, pass none")
    if not callable(getattr(activation, "derivatives", None)):
        raise TypeError(f"activation: got {activation!r}, must be a name or have .derivatives(z, order)")
    return activation


def _derivs(act: Any, z: np.ndarray, order: int) -> list[np.ndarray]:
    with torch.no_grad():
        out = act.derivatives(torch.from_numpy(np.ascontiguousarray(z, dtype=np.float64)), order)
    return [np.asarray(t.detach().numpy() if isinstance(t, torch.Tensor) else t, dtype=np.float64) for t in out]


def _nodes(k: np.ndarray, n_nodes: int, kinks: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Nodes z (m, N) and weights (m, N) with sum_j w_j f(z_j) ~ E f(z), z ~ N(0, k_i), for a 1-D array k.

    z = sqrt(k) u; [-12, 12] in u is cut into P equal panels (width <= 2 in u and, up to P = 256, <= 3 in z),
    each also cut at the kinks c / sqrt(k), and each piece gets an n_nodes-point Gauss-Legendre rule.
    """
    s = np.sqrt(k)
    n_panels = int(np.clip(math.ceil(2 * _U_MAX * float(s.max(initial=0.0)) / 3.0), 12, 256))
    edges = np.broadcast_to(np.linspace(-_U_MAX, _U_MAX, n_panels + 1), (k.size, n_panels + 1))
    cuts = [np.clip(c / np.maximum(s, 1e-300), -_U_MAX, _U_MAX)[:, None] for c in kinks]
    edges = np.sort(np.concatenate([edges, *cuts], axis=1), axis=1)
    x, w = np.polynomial.legendre.leggauss(n_nodes)
    half, mid = (edges[:, 1:] - edges[:, :-1]) / 2, (edges[:, 1:] + edges[:, :-1]) / 2
    u = mid[..., None] + half[..., None] * x
    weights = half[..., None] * w * np.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)
    return (s[:, None, None] * u).reshape(k.size, -1), weights.reshape(k.size, -1)


def _expect(evaluate: Callable[[np.ndarray], list[np.ndarray]], K: Any, n_nodes: int,
            kinks: Sequence[float]) -> list[np.ndarray]:
    """[E f_j(z)] for the integrands f_j returned by ``evaluate(z)``, vectorised over the array K (any shape)."""
    k = np.asarray(K, dtype=np.float64)
    if np.any(np.isnan(k)) or np.any(k < 0) or np.any(np.isinf(k)):
        raise ValueError(f"K: got {K!r}, must be finite and >= 0")
    flat = k.ravel()
    order = np.argsort(flat)  # similar K share a panel count
    chunk = max(1, _MAX_EVALS // (n_nodes * (len(kinks) + 256)))
    if flat.size == 0:
        return [np.empty(k.shape) for _ in evaluate(np.zeros((1, 1)))]
    results: list[np.ndarray] = []
    for start in range(0, flat.size, chunk):
        idx = order[start:start + chunk]
        z, w = _nodes(flat[idx], n_nodes, kinks)
        values = evaluate(z)
        if not results:
            results = [np.empty(flat.size) for _ in values]
        for res, v in zip(results, values):
            res[idx] = np.einsum("ij,ij->i", w, v)
    return [r.reshape(k.shape) for r in results]


def gaussian_expectation(fn: Callable[[torch.Tensor], Any], K: Any, *, n_nodes: int = 32,
                         kinks: Sequence[float] = ()) -> np.ndarray | float:
    """E[fn(z)], z ~ N(0, K), by piecewise Gauss-Legendre quadrature in u = z / sqrt(K) on [-12, 12].

    Args:
        fn: elementwise integrand; receives a float64 tensor of shape (m, N), returns the same shape.
        K: variance(s) >= 0, any shape (K = 0 gives fn(0)).
        n_nodes: Gauss-Legendre points per piece; converges exponentially for integrands that are smooth on each
            piece and vary on a z-scale >~ 1 (oscillatory integrands are resolved up to K ~ 1000).
        kinks: points z where fn (or a derivative) is discontinuous; the rule is split there.

    Returns:
        an array of K's shape (a float for scalar K).

    Raises:
        ValueError: a K that is negative or not finite.
    """
    (out,) = _expect(lambda z: [np.asarray(fn(torch.from_numpy(z)), dtype=np.float64)], K, n_nodes, tuple(kinks))
    return float(out) if out.ndim == 0 else out


def _moments(act: Any, K: Any, n_nodes: int = 32) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(<sigma^2>, <sigma'^2>, <sigma sigma''>) at K."""

    def evaluate(z: np.ndarray) -> list[np.ndarray]:
        s0, s1, s2 = _derivs(act, z, 2)[:3]
        return [s0 * s0, s1 * s1, s0 * s2]

    m0, m1, m2 = _expect(evaluate, K, n_nodes, tuple(getattr(act, "kinks", ())))
    return m0, m1, m2


def susceptibilities(activation: Any, K: Any, c_w: float = 1.0, *, n_nodes: int = 32) -> tuple[Any, Any]:
    """(chi_par, chi_perp) = (C_W <sigma'^2 + sigma sigma''>_K, C_W <sigma'^2>_K), vectorised over K."""
    _, m1, m2 = _moments(_as_activation(activation), K, n_nodes)
    chi_par, chi_perp = c_w * (m1 + m2), c_w * m1
    return (float(chi_par), float(chi_perp)) if np.ndim(K) == 0 else (chi_par, chi_perp)


def kernel_recursion(activation: Any, K1: Any, depth: int, c_b: Any = 0.0, c_w: Any = 1.0, *,
                     n_nodes: int = 32, k_max: float = _K_INF) -> np.ndarray:
    """[K^(1), ..., K^(depth)] with K^(l+1) = C_b + C_W <sigma^2>_{K^(l)}.

    ``K1``, ``c_b``, ``c_w`` broadcast together (e.g. a (C_b, C_W) grid); the result has shape (depth, *shape).
    A kernel above ``k_max`` (default 1e300) counts as blown up: it is reported as inf and stays inf.
    """
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ConfigError("depth", depth, "must be an integer >= 1")
    act = _as_activation(activation)
    k, cb, cw = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64) for a in (K1, c_b, c_w)))
    out = np.empty((depth, *k.shape))
    out[0] = k
    for layer in range(1, depth):
        prev = out[layer - 1]
        ok = np.isfinite(prev)
        m0 = np.zeros_like(prev)
        with np.errstate(over="ignore", invalid="ignore"):
            m0[ok] = _moments(act, prev[ok], n_nodes)[0]
            nxt = cb + cw * m0
        out[layer] = np.where(ok & np.isfinite(nxt) & (nxt <= k_max), nxt, np.inf)
    return out


@dataclass(frozen=True)
class FixedPoints:
    """Fixed points K* = C_b + C_W <sigma^2>_{K*} in [0, k_max], ascending, with chi_par/chi_perp there.

    ``stable[i]`` is chi_par < 1 (the kernel map's slope).  ``continuum`` is True when every K on the scan is a
    fixed point (scale-invariant activation at its critical C_W, e.g. ReLU at (0, 2)); ``k_star`` is then empty.
    """

    k_star: np.ndarray
    chi_par: np.ndarray
    chi_perp: np.ndarray
    stable: np.ndarray
    continuum: bool = False


def _scan_roots(g: Callable[[np.ndarray], np.ndarray], grid: np.ndarray, tol: float) -> list[float]:
    """Roots of g on the grid's sign changes (values with |g| <= tol count as no sign), refined by brentq."""
    vals = g(grid)
    roots = []
    for i in range(grid.size - 1):
        a, b = vals[i], vals[i + 1]
        if abs(a) > tol and abs(b) > tol and np.sign(a) != np.sign(b):
            roots.append(optimize.brentq(lambda x: float(g(np.array([x]))[0]), grid[i], grid[i + 1],
                                         xtol=1e-15, rtol=1e-15, maxiter=200))
    return roots


def fixed_points(activation: Any, c_b: float, c_w: float, *, k_max: float = 1e4, n_grid: int = 400) -> FixedPoints:
    """Fixed points of the kernel map K -> C_b + C_W <sigma^2>_K on [0, k_max].

    Log scan from 1e-8: sign changes of K' - K are refined by brentq; tangent fixed points (chi_par = 1, as at a
    critical point) are found as roots of chi_par - 1 (dense local scan where |K' - K| < 1e-3 K) at which also
    |K' - K| < 1e-9 K.  K = 0 is included when C_b = 0 and sigma(0) = 0.  Fixed points below 1e-8 are missed.
    """
    act = _as_activation(activation)
    grid = np.logspace(-8, math.log10(k_max), n_grid)
    rel = lambda k: (c_b + c_w * _moments(act, k)[0] - k) / k  # noqa: E731
    r = rel(grid)
    if np.all(np.abs(r) < 1e-9):
        empty = np.empty(0)
        return FixedPoints(empty, empty, empty, np.empty(0, dtype=bool), continuum=True)
    ks = _scan_roots(rel, grid, 1e-12)
    # a critical fixed point is a tangency (chi_par = 1 there, no sign change): where K' ~ K, scan chi_par - 1
    near = np.flatnonzero(np.abs(r) < 1e-3)
    for run in np.split(near, np.flatnonzero(np.diff(near) > 1) + 1) if near.size else []:
        local = np.geomspace(grid[max(run[0] - 1, 0)], grid[min(run[-1] + 1, grid.size - 1)], 32 * (run.size + 2))
        for k in _scan_roots(lambda kk: susceptibilities(act, kk, c_w)[0] - 1.0, local, 1e-13):
            if abs(rel(np.array([k]))[0]) < 1e-9 and all(abs(k - q) > 1e-6 * k for q in ks):
                ks.append(k)
    sigma0 = _derivs(act, np.zeros(1), 0)[0][0]
    if c_b == 0.0 and sigma0 == 0.0:
        ks = [0.0, *ks]
    k_star = np.array(sorted(ks))
    chi_par, chi_perp = susceptibilities(act, k_star, c_w)
    return FixedPoints(k_star, chi_par, chi_perp, chi_par < 1.0)
