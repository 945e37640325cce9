"""Critical initialisation: the universality class and the per-layer (c_b, c_w) of any activation.

Built on the kernel theory of :mod:`pinn_mrepu.criticality.theory`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from scipy import optimize

from pinn_mrepu.activations import ACTIVATIONS, get_activation
from pinn_mrepu.errors import ConfigError

from .theory import _as_activation, _derivs, _moments, _scan_roots, kernel_recursion, susceptibilities

__all__ = ["CriticalInit", "critical_init"]


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


def _positive(name: str, value: Any) -> float:
    """``value`` as a finite float > 0, else a ConfigError naming ``name``."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        x = math.nan
    if not x > 0.0 or not math.isfinite(x):
        raise ConfigError(name, value, "must be a finite number > 0")
    return x


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

    def layer_variances(self, n_linear: int, *, input_second_moment: float = 1.0 / 3.0,
                        input_max_moment: float = 1.0, width: int | None = None) -> list[tuple[float, float]]:
        """(c_b, c_w) for each of ``n_linear`` nn.Linear layers in order: W ~ N(0, c_w / fan_in), b ~ N(0, c_b).

        Hidden and output layers get (C_b, C_W).  The first layer sets K^(1) = c_b + c_w * m with
        m = ``input_second_moment`` = mean_i x_i^2 (1/3 for inputs uniform on [-1, 1]^d):

        * ``scale_invariant``, and ``k_star_zero`` with a1 <= 0: (C_b, C_W) (K^(1) = C_W m).
        * ``k_star_zero`` with a1 > 0 (MRePU): the kernel map leaves K = 0 as K / (1 - a1 K l), so a large K^(1)
          explodes within a few layers.  c_w = min(C_W, k1 / (M F)), where k1 is the largest K^(1) whose kernel
          recursion grows by at most ``max_growth`` over the n_linear - 1 later layers, M = ``input_max_moment``
          = sup_x mean_i x_i^2 (1 on [-1, 1]^d: the bound must hold for the input with the largest kernel, a
          corner, not only on average) and F = exp(sqrt(2 (n_linear - 1) / width)) a finite-width margin (at
          width n each layer multiplies the kernel by a chi^2_n / n factor, so log K wanders with variance
          2 / n per layer; F is one standard deviation of that walk; F = 1 when ``width`` is None: infinite
          width).  Without M and F, width-20 MRePU nets of depth 10 reached max|u| of 1e27 to 1e53 at initialisation
          (tests/test_criticality.py checks the ensemble).
        * ``nonzero_fixed_point``: c_w = (K* - C_b) / m, so K^(1) = K* and every layer sits at the fixed point.
        * ``none``: (0, 1), so K^(1) = m; hidden c_w = m / <sigma^2>_m keeps the kernel stationary at K^(1)
          (an unstable fixed point: chi_par = p for RePU_p).

        Raises:
            ConfigError: n_linear not an integer >= 1, input_second_moment or input_max_moment not a finite
                number > 0, or width neither None nor an integer >= 1.
        """
        if isinstance(n_linear, bool) or not isinstance(n_linear, int) or n_linear < 1:
            raise ConfigError("n_linear", n_linear, "must be an integer >= 1")
        m = _positive("input_second_moment", input_second_moment)
        m_max = _positive("input_max_moment", input_max_moment)
        if width is not None and (isinstance(width, bool) or not isinstance(width, int) or width < 1):
            raise ConfigError("width", width, "must be an integer >= 1 or None (infinite width)")
        c_b, c_w = self.c_b, self.c_w
        if self.universality == "none":
            c_b, c_w, first = 0.0, m / float(_moments(self._act, m)[0]), (0.0, 1.0)
        elif self.universality == "nonzero_fixed_point":
            first = (c_b, (self.k_star - c_b) / m)
        elif self.universality == "k_star_zero" and self.a1 is not None and self.a1 > 0:
            m_max = max(m_max, m)
            k1 = _k1_for_growth(self._act, c_b, c_w, n_linear - 1, self.max_growth, c_b + c_w * m_max)
            margin = 1.0 if width is None else math.exp(math.sqrt(2.0 * (n_linear - 1) / width))
            first = (c_b, min(c_w, (k1 / margin - c_b) / m_max))
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
                         f"c_w = min(C_W, k1 / (max_x mean(x^2) F)), k1 the largest K^(1) with K^(out)/K^(1) <= "
                         f"{max_growth:g} at the output layer, F = exp(sqrt(2 L / width)) a finite-width margin"),
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
