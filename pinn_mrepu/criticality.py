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

Universality classes returned by :func:`critical_init`:

* ``scale_invariant`` -- sigma(lambda z) = lambda sigma(z) (ReLU): chi_par = chi_perp = C_W <sigma'^2>_1 for all K,
  critical at (0, 1/<sigma'^2>_1) = (0, 2) for ReLU; every K is then a fixed point.
* ``nonzero_fixed_point`` -- some K* > 0 has <sigma sigma''>_{K*} = 0; then C_W = 1/<sigma'^2>_{K*},
  C_b = K* - C_W <sigma^2>_{K*} >= 0 (GELU, SiLU).
* ``k_star_zero`` -- sigma(0) = 0, sigma'(0) != 0 and no nonzero critical point: (0, 1/sigma'(0)^2), with the
  kernel map K -> K + a1 K^2 + ..., a1 = sigma'''(0)/sigma'(0) + 3/4 (sigma''(0)/sigma'(0))^2.  a1 < 0 (tanh: -2,
  sin: -1): K = 0 attracts, K^(l) ~ 1/(-a1 l).  a1 > 0 (MRePU_p: a1 = 3p(2p-1)): K = 0 repels, the kernel grows.
* ``none`` -- homogeneous of degree p != 1 (RePU_p: chi_par/chi_perp = (2p-1)/p at every K) or nothing else applies.

The first layer sees the inputs, not activations: K^(1) = c_b + c_w mean_i x_i^2.  :meth:`CriticalInit.layer_variances`
picks its (c_b, c_w) per class (for MRePU: small enough that K^(L)/K^(1) <= 2).  :func:`pinn_mrepu.criticality_ensembles.empirical_kernels` samples
ensembles of finite-width networks to check the recursion.
"""

from __future__ import annotations

import math
import dataclasses
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Sequence

import numpy as np
import torch
from scipy import optimize

from .activations import ACTIVATIONS, get_activation
from .errors import ConfigError

__all__ = ["gaussian_expectation", "kernel_recursion", "susceptibilities", "FixedPoints", "fixed_points",
           "CriticalInit", "critical_init", "UNIVERSALITY_CLASSES"]

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


def _homogeneity_degree(act: Any) -> float | None:
    """p if sigma(lambda z) = lambda^p sigma(z) for lambda = 2, 3 on a test set (sigma(0) = 0), else None."""
    z = np.array([-2.3, -1.7, -0.9, -0.4, 0.3, 0.8, 1.1, 1.9, 2.6])
    s1, s2, s3, s0 = (_derivs(act, lam * z, 0)[0] for lam in (1.0, 2.0, 3.0, 0.0))
    nz = np.abs(s1) > 1e-12
    if s0[0] != 0.0 or not nz.any() or np.any(np.abs(s2[~nz]) > 1e-12) or np.any(np.abs(s3[~nz]) > 1e-12):
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        p2, p3 = np.log(s2[nz] / s1[nz]) / math.log(2.0), np.log(s3[nz] / s1[nz]) / math.log(3.0)
    p = np.concatenate([p2, p3])
    return float(p.mean()) if np.all(np.isfinite(p)) and np.ptp(p) < 1e-9 else None


def _registry_key(act: Any) -> tuple | None:
    """(name, params) of a registered activation (results for it are cached), else None."""
    name = getattr(act, "name", None)
    if name in ACTIVATIONS and type(act) is ACTIVATIONS[name]:
        return name, tuple(sorted(act.params.items()))
    return None


def _k1_for_growth(act: Any, c_b: float, c_w: float, steps: int, growth: float, k_hi: float) -> float:
    """Largest K^(1) <= k_hi whose kernel recursion grows by at most ``growth`` over ``steps`` layers."""
    key = _registry_key(act)
    return _k1_cached(key, c_b, c_w, steps, growth, k_hi) if key else _k1_search(act, c_b, c_w, steps, growth, k_hi)


@lru_cache(maxsize=256)
def _k1_cached(key: tuple, c_b: float, c_w: float, steps: int, growth: float, k_hi: float) -> float:
    return _k1_search(get_activation(key[0], **dict(key[1])), c_b, c_w, steps, growth, k_hi)


def _k1_search(act: Any, c_b: float, c_w: float, steps: int, growth: float, k_hi: float) -> float:
    def excess(log_k1: float) -> float:
        ks = kernel_recursion(act, math.exp(log_k1), steps + 1, c_b, c_w)
        return min(math.log(ks[-1] / ks[0]), 50.0) - math.log(growth)

    if steps < 1 or excess(math.log(k_hi)) <= 0.0:
        return k_hi
    return math.exp(optimize.brentq(excess, math.log(1e-14), math.log(k_hi), xtol=1e-10))


@dataclass(frozen=True)
class CriticalInit:
    """Critical initialisation hyperparameters of one activation (see the module docstring for the classes).

    Attributes:
        activation, params: the activation's name and parameters.
        universality: one of ``scale_invariant``, ``nonzero_fixed_point``, ``k_star_zero``, ``none``.
        c_b, c_w: (C_b, C_W) of the hidden and output layers (for ``none``: at K^(1) = ``anchor_k``).
        k_star: the critical fixed point (0.0 for ``k_star_zero``; nan when every K (scale-invariant) or no K
            (``none``) is one).
        chi_par, chi_perp: susceptibilities at k_star (K -> 0 limit; K = 1 for scale-invariant; anchor_k for none).
        a1: K -> K + a1 K^2 coefficient of the critical kernel map (``k_star_zero`` only, else None).
        first_layer: the first-layer recipe, in words; :meth:`layer_variances` implements it.
        message: human-readable summary.
        max_growth, anchor_k: recipe parameters (see :func:`critical_init`).
    """

    activation: str
    params: dict
    universality: str
    c_b: float
    c_w: float
    k_star: float
    chi_par: float
    chi_perp: float
    a1: float | None
    first_layer: str
    message: str
    max_growth: float = 2.0
    anchor_k: float = 1.0 / 3.0
    _act: Any = field(default=None, repr=False, compare=False)

    def layer_variances(self, n_linear: int, *, input_second_moment: float = 1.0 / 3.0) -> list[tuple[float, float]]:
        """(c_b, c_w) for each of ``n_linear`` nn.Linear layers in order: W ~ N(0, c_w / fan_in), b ~ N(0, c_b).

        Hidden and output layers get (C_b, C_W).  The first layer sets K^(1) = c_b + c_w * m with
        m = ``input_second_moment`` = mean_i x_i^2 (1/3 for inputs uniform on [-1, 1]^d):

        * ``scale_invariant``, and ``k_star_zero`` with a1 <= 0: (C_b, C_W) (K^(1) = C_W m).
        * ``k_star_zero`` with a1 > 0 (MRePU): c_w = min(C_W, k1 / m), where k1 is the largest K^(1) whose kernel
          recursion grows by at most ``max_growth`` over the n_linear - 1 later layers (the kernel map leaves
          K = 0 as K / (1 - a1 K l), so a large K^(1) explodes within a few layers).
        * ``nonzero_fixed_point``: c_w = (K* - C_b) / m, so K^(1) = K* and every layer sits at the fixed point.
        * ``none``: (0, 1), so K^(1) = m; hidden c_w = m / <sigma^2>_m keeps the kernel stationary at K^(1)
          (an unstable fixed point: chi_par = p for RePU_p).

        Raises:
            ConfigError: n_linear not an integer >= 1, or input_second_moment not > 0.
        """
        if isinstance(n_linear, bool) or not isinstance(n_linear, int) or n_linear < 1:
            raise ConfigError("n_linear", n_linear, "must be an integer >= 1")
        try:
            m = float(input_second_moment)
        except (TypeError, ValueError):
            m = math.nan
        if not m > 0.0 or not math.isfinite(m):
            raise ConfigError("input_second_moment", input_second_moment, "must be a finite number > 0")
        c_b, c_w = self.c_b, self.c_w
        if self.universality == "none":
            c_b, c_w, first = 0.0, m / float(_moments(self._act, m)[0]), (0.0, 1.0)
        elif self.universality == "nonzero_fixed_point":
            first = (c_b, (self.k_star - c_b) / m)
        elif self.universality == "k_star_zero" and self.a1 is not None and self.a1 > 0:
            k1 = _k1_for_growth(self._act, c_b, c_w, n_linear - 1, self.max_growth, c_b + c_w * m)
            first = (c_b, (k1 - c_b) / m)
        else:
            first = (c_b, c_w)
        return [first] + [(c_b, c_w)] * (n_linear - 1)


def critical_init(activation: Any, *, max_growth: float = 2.0, anchor_k: float = 1.0 / 3.0, k_max: float = 1e4,
                  **params: Any) -> CriticalInit:
    """Critical (C_b, C_W) and universality class of an activation.

    Args:
        activation: a registry name (with ``**params``, e.g. ``p=2``), an Activation, or any object with
            ``.derivatives(z, order)``.
        max_growth: ``k_star_zero`` with a1 > 0: allowed growth K^(L)/K^(1) of the first-layer recipe.
        anchor_k: ``none`` class: the kernel K^(1) at which the best-effort C_W = K^(1) / <sigma^2>_{K^(1)} makes
            the recursion stationary (C_b = 0).  Chosen over "chi_perp = 1 at K^(1)" because the latter also has
            chi_par != 1 and moves the kernel off K^(1) at the first step (for RePU_2 by 3/4, then
            double-exponentially); stationarity at least keeps the infinite-width kernel fixed.
        k_max: largest K searched for a nonzero critical point (log scan from 1e-6, brentq on <sigma sigma''> = 0).
    """
    act = _as_activation(activation, **params)
    key = _registry_key(act)
    if key is None:
        return _critical_init(act, max_growth, anchor_k, k_max)
    ci = _critical_init_cached(key, max_growth, anchor_k, k_max)  # pure function of its arguments: memoised
    return dataclasses.replace(ci, params=dict(ci.params))


@lru_cache(maxsize=64)
def _critical_init_cached(key: tuple, max_growth: float, anchor_k: float, k_max: float) -> CriticalInit:
    return _critical_init(get_activation(key[0], **dict(key[1])), max_growth, anchor_k, k_max)


def _critical_init(act: Any, max_growth: float, anchor_k: float, k_max: float) -> CriticalInit:
    name = str(getattr(act, "name", type(act).__name__))
    prm = dict(getattr(act, "params", {}) or {})
    s = [float(v[0]) for v in _derivs(act, np.zeros(1), 3)]
    info = dict(activation=name, params=prm, max_growth=max_growth, anchor_k=anchor_k, _act=act)
    degree = _homogeneity_degree(act)
    if degree is not None and abs(degree - 1.0) < 1e-9:
        c_w = 1.0 / float(_moments(act, 1.0)[1])
        return CriticalInit(universality="scale_invariant", c_b=0.0, c_w=c_w, k_star=math.nan, chi_par=1.0,
                            chi_perp=1.0, a1=None, first_layer="(C_b, C_W): the kernel is preserved at any K^(1)",
                            message=f"{name} is homogeneous of degree 1 (scale-invariant class): chi_par = chi_perp "
                                    f"= C_W <sigma'^2>_1 at every K, critical at (C_b, C_W) = (0, {c_w:.6g}); "
                                    "every K is then a fixed point.", **info)
    if degree is None:
        ratio = lambda k: (lambda mm: mm[2] / mm[1])(_moments(act, k))  # noqa: E731
        for k_star in _scan_roots(ratio, np.logspace(-6, math.log10(k_max), 300), 1e-12):
            m0, m1, _ = _moments(act, k_star)
            c_w = 1.0 / float(m1)
            c_b = k_star - c_w * float(m0)
            if c_b < -1e-12:
                continue
            c_b = max(c_b, 0.0)
            chi_par, chi_perp = susceptibilities(act, k_star, c_w)
            h = 1e-4 * k_star
            slope = (susceptibilities(act, k_star + h, c_w)[0] - susceptibilities(act, k_star - h, c_w)[0]) / (2 * h)
            side = "below (K < K*)" if slope > 0 else "above (K > K*)"
            also = ""
            if s[0] == 0.0 and s[1] != 0.0:
                a1 = s[3] / s[1] + 0.75 * (s[2] / s[1]) ** 2
                also = (f" Its K* = 0 point at (0, {1 / s[1] ** 2:.6g}) is not used: a1 = {a1:.3g}"
                        + (" > 0 makes it repel." if a1 > 0 else " <= 0."))
            return CriticalInit(
                universality="nonzero_fixed_point", c_b=c_b, c_w=c_w, k_star=k_star, chi_par=chi_par,
                chi_perp=chi_perp, a1=None, first_layer="c_w = (K* - C_b) / mean(x^2), so that K^(1) = K*",
                message=f"{name}: critical point with nonzero fixed point K* = {k_star:.6g} at (C_b, C_W) = "
                        f"({c_b:.6g}, {c_w:.6g}); it is half-stable: K' - K* = (d chi_par/dK)/2 (K - K*)^2 with "
                        f"d chi_par/dK = {slope:.3g}, so a kernel perturbed from {side} flows back and one "
                        f"perturbed the other way drifts off (slowly: the slope is small).{also}", **info)
    if degree is None and s[0] == 0.0 and s[1] != 0.0:
        c_w = 1.0 / s[1] ** 2
        a1 = s[3] / s[1] + 0.75 * (s[2] / s[1]) ** 2
        trend = (f"a1 = {a1:.6g} < 0: K = 0 attracts, K^(l) ~ 1/(|a1| l) at large depth" if a1 < 0 else
                 f"a1 = {a1:.6g} > 0: K = 0 repels, K^(l) ~ K^(1) / (1 - a1 K^(1) l) grows and explodes once "
                 "a1 K^(1) l ~ 1, so the first layer must start from a small kernel")
        return CriticalInit(
            universality="k_star_zero", c_b=0.0, c_w=c_w, k_star=0.0, chi_par=1.0, chi_perp=1.0, a1=a1,
            first_layer=("(C_b, C_W)" if a1 <= 0 else
                         f"c_w = min(C_W, k1 / mean(x^2)), k1 the largest K^(1) with K^(L)/K^(1) <= {max_growth:g}"),
            message=f"{name}: K* = 0 class, sigma(0) = 0, sigma'(0) = {s[1]:.6g}: chi_par, chi_perp -> 1 as K -> 0 "
                    f"at (C_b, C_W) = (0, {c_w:.6g}); {trend}.", **info)
    c_w = anchor_k / float(_moments(act, anchor_k)[0])
    chi_par, chi_perp = susceptibilities(act, anchor_k, c_w)
    why = (f"{name} is homogeneous of degree p = {degree:.6g}: chi_par / chi_perp = (2p - 1)/p = "
           f"{(2 * degree - 1) / degree:.6g} at every K, so no (C_b, C_W) is critical and kernels explode or vanish"
           if degree is not None else f"{name}: no (C_b, C_W) makes chi_par = chi_perp = 1 at a fixed point")
    return CriticalInit(
        universality="none", c_b=0.0, c_w=c_w, k_star=math.nan, chi_par=chi_par, chi_perp=chi_perp, a1=None,
        first_layer="(0, 1), K^(1) = mean(x^2); hidden C_W = K^(1) / <sigma^2>_{K^(1)}",
        message=f"{why}. Best effort: C_b = 0, C_W = K^(1) / <sigma^2>_{{K^(1)}} = {c_w:.6g} at K^(1) = "
                f"{anchor_k:.6g} keeps the infinite-width kernel stationary, but that fixed point is unstable "
                f"(chi_par = {chi_par:.6g}, chi_perp = {chi_perp:.6g}).", **info)
