r"""Reference solution of the Allen--Cahn benchmark (numpy, float64): Fourier pseudo-spectral + ETDRK4.

The problem

.. math::

    u_t - \epsilon\,u_{xx} + 5u^3 - 5u = 0, \quad x \in [-1, 1] \text{ periodic},\ t \in [0, T], \qquad
    u(x, 0) = x^2 \cos(\pi x), \quad \epsilon = 10^{-4}.

Kink subtraction.  The periodic extension of :math:`u_0` has a kink at :math:`x = \pm 1`:
:math:`u_0 = -1 + 2|d| + O(d^2)` with :math:`d` the periodic offset from :math:`x = 1`.  Its Fourier coefficients
decay only like :math:`n^{-2}`, and diffusion smooths the kink over :math:`\sqrt{\epsilon t}` only, so a plain
spectral solve is wrong by ~1e-4 near :math:`x = \pm 1` for :math:`t \lesssim 5 \cdot 10^{-3}` at any practical
resolution.  The kink is therefore carried in closed form by

.. math::

    \sigma(x, t) = 2\,e^{-10 t}\,\chi(d)\,E(d, t), \quad
    E = d\,\mathrm{erf}\frac{d}{2\sqrt{\epsilon t}} + 2\sqrt{\frac{\epsilon t}{\pi}}\, e^{-d^2/(4\epsilon t)}, \quad
    \chi = e^{-(d/\ell)^4},\ \ell = 0.4,

(:math:`E` is :math:`|d|` evolved by the heat equation, :math:`-10 = f'(-1)` the reaction rate at the kink's
value, :math:`f(u) = 5u - 5u^3`), which solves
:math:`\sigma_t - \epsilon\sigma_{xx} + 10\sigma = R := -2\epsilon e^{-10t}(\chi'' E + 2\chi' E_d)`.  The rest
:math:`w = u - \sigma` solves :math:`w_t = \epsilon w_{xx} + f(w + \sigma) + 10\sigma - R`, whose data and
forcing are non-smooth only like :math:`|d|^3` (coefficients :math:`\sim n^{-4}`): :math:`w` is spectrally
resolved from :math:`t = 0` on, and :math:`u = w + \sigma` everywhere.

Time stepping.  ETDRK4 of Cox & Matthews (J. Comput. Phys. 176, 2002) on the Fourier coefficients of :math:`w`,
linear part :math:`L_n = -\epsilon (\pi n)^2` exact, the nonlinear part (:math:`t`-dependent through
:math:`\sigma`, :math:`R`) evaluated on the grid; its :math:`\varphi`-function coefficients are averaged over a
circle of radius 1 around each :math:`hL_n` in the complex plane (Kassam & Trefethen, SIAM J. Sci. Comput. 26,
2005), which avoids the cancellation of the direct formulas for small :math:`|hL_n|`.

Evaluation.  Snapshots of :math:`\hat w` and :math:`\hat w_t = L\hat w + \hat N` are kept every 1e-3 in time
(or every dt if larger); a point is evaluated by cubic Hermite interpolation in time (error ~1e-11 against
snapshots every 5e-4) and exact trigonometric interpolation in space, plus :math:`\sigma` in closed form.  The
snapshots of the last 4 settings are cached (~33 MB each at the defaults).

Convergence on x = linspace(-1, 1, 512), t = linspace(0, 1, 201) and t = 1e-6, 1e-4, 1e-3, max abs difference
between successive settings (``python benchmarks/allen_cahn_reference.py``, ``results/allen_cahn_reference.md``):

    =====================  =======  =======  =======  =======
    modes (dt = 1e-3)      512      1024     2048     4096
    vs half the modes      4.8e-3   9.4e-6   1.2e-8   6.3e-10
    dt (1024 modes)        2e-3     1e-3     5e-4     2.5e-4
    vs twice the dt        5.3e-8   3.3e-9   2.1e-10  1.3e-11
    =====================  =======  =======  =======  =======

Halving dt divides the difference by 16.0 (fourth order).  The modes are limited by the interfaces that form
(width :math:`\sqrt{2\epsilon/5}`, t >= 0.1: geometric convergence) and at early times by the :math:`|d|^3`
remainder (algebraic).  The defaults (2048 modes, dt = 1e-3, ~1 s) are thus accurate to ~1e-9.  Without the
kink subtraction the error near x = +-1 falls only like modes^-2 (2e-5 at t = 0.01 with 4096 modes).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np
from scipy.special import erf

from pinn_mrepu.errors import ConfigError

__all__ = ["ALLEN_CAHN_DEFAULT_DT", "ALLEN_CAHN_DEFAULT_MODES", "allen_cahn_reference", "allen_cahn_solution"]

#: Fourier modes (grid points) used by :func:`allen_cahn_solution`.
ALLEN_CAHN_DEFAULT_MODES = 2048
#: ETDRK4 time step used by :func:`allen_cahn_solution`.
ALLEN_CAHN_DEFAULT_DT = 1e-3

_SNAPSHOT_SPACING = 1e-3  # time between stored snapshots (a multiple of dt)
_ELL = 0.4  # cutoff width of chi; chi(|d| = 1) = exp(-39)
_CONTOUR_POINTS = 32  # Kassam--Trefethen contour points
_BLOCK = 32  # evaluation: e^{i pi n x} = e^{i pi (q B) x} e^{i pi r x}, n = q B + r


def _offset(x: np.ndarray) -> np.ndarray:
    """Periodic offset d in [-1, 1) of x from the kink at x = 1 (== -1)."""
    return np.mod(x, 2.0) - 1.0


def _kink(d: np.ndarray, t, eps: float) -> tuple[np.ndarray, np.ndarray]:
    """E(d, t) (|d| under the heat equation) and E_d = erf(d / (2 sqrt(eps t))); |d| and sign(d) at t = 0."""
    s = 2.0 * np.sqrt(eps * np.asarray(t, dtype=np.float64))
    z = d / np.maximum(s, 1e-300)
    z2 = np.minimum(np.abs(z), 1e150) ** 2
    ed = erf(z)
    return d * ed + (s / math.sqrt(math.pi)) * np.exp(-z2), ed


def _chi(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """chi = exp(-(d/l)^4) and its first two derivatives."""
    q = (d / _ELL) ** 4
    chi = np.exp(-q)
    return chi, -4.0 * d**3 / _ELL**4 * chi, (16.0 * d**6 / _ELL**8 - 12.0 * d**2 / _ELL**4) * chi


def _sigma(d: np.ndarray, t, eps: float, chis: tuple[np.ndarray, np.ndarray, np.ndarray]):
    """sigma and the forcing R it leaves (module docstring)."""
    chi, chi1, chi2 = chis
    e, ed = _kink(d, t, eps)
    amp = 2.0 * np.exp(-10.0 * np.asarray(t, dtype=np.float64))
    return amp * chi * e, -eps * amp * (chi2 * e + 2.0 * chi1 * ed)


def _u0(x: np.ndarray) -> np.ndarray:
    return x * x * np.cos(np.pi * x)


def _etdrk4_coefficients(hl: np.ndarray) -> tuple[np.ndarray, ...]:
    """(E, E2, Q/h, f1/h, f2/h, f3/h) for h*L = ``hl`` by the contour average (Kassam & Trefethen)."""
    roots = np.exp(2j * np.pi * (np.arange(_CONTOUR_POINTS) + 0.5) / _CONTOUR_POINTS)
    z = hl[:, None] + roots[None, :]
    ez, ez2 = np.exp(z), np.exp(z / 2.0)
    z3 = z**3

    def mean(values):
        return np.mean(values, axis=1).real

    q = mean((ez2 - 1.0) / z)
    f1 = mean((-4.0 - z + ez * (4.0 - 3.0 * z + z * z)) / z3)
    f2 = mean((2.0 + z + ez * (z - 2.0)) / z3)
    f3 = mean((-4.0 - 3.0 * z - z * z + ez * (4.0 - z)) / z3)
    return np.exp(hl), np.exp(hl / 2.0), q, f1, f2, f3


@functools.lru_cache(maxsize=4)
def _solve(eps: float, modes: int, dt: float, t_final: float, kink: bool = True):
    """Snapshots ``(spacing, what, what_t)`` of the rfft coefficients of w (u if ``kink`` is False).

    ``what`` and ``what_t`` have shape ``(n_snapshots + 1, modes // 2 + 1)``; read-only.
    """
    stride = max(1, round(_SNAPSHOT_SPACING / dt))
    n_snap = max(1, math.ceil(t_final / (stride * dt) - 1e-9))
    h = t_final / (n_snap * stride)
    x = -1.0 + 2.0 * np.arange(modes) / modes
    d = _offset(x)
    chis = _chi(d)
    lin = -eps * (np.pi * np.arange(modes // 2 + 1)) ** 2
    ex, ex2, q, f1, f2, f3 = _etdrk4_coefficients(h * lin)
    q, f1, f2, f3 = h * q, h * f1, h * f2, h * f3

    def nonlinear(v_hat, t):
        w = np.fft.irfft(v_hat, n=modes)
        if not kink:
            return np.fft.rfft(5.0 * w - 5.0 * w**3)
        sig, r = _sigma(d, t, eps, chis)
        u = w + sig
        return np.fft.rfft(5.0 * u - 5.0 * u**3 + 10.0 * sig - r)

    w0 = _u0(x) - (_sigma(d, 0.0, eps, chis)[0] if kink else 0.0)
    v = np.fft.rfft(w0)
    snaps = np.empty((n_snap + 1, v.size), dtype=np.complex128)
    slopes = np.empty_like(snaps)
    t = 0.0
    nv = nonlinear(v, t)
    for i in range(n_snap * stride + 1):
        if i % stride == 0:
            snaps[i // stride], slopes[i // stride] = v, lin * v + nv
            if i == n_snap * stride:
                break
        a = ex2 * v + q * nv
        na = nonlinear(a, t + h / 2)
        b = ex2 * v + q * na
        nb = nonlinear(b, t + h / 2)
        c = ex2 * a + q * (2.0 * nb - nv)
        nc = nonlinear(c, t + h)
        v = ex * v + f1 * nv + 2.0 * f2 * (na + nb) + f3 * nc
        t = (i + 1) * h
        nv = nonlinear(v, t)
    snaps.flags.writeable = False
    slopes.flags.writeable = False
    return stride * h, snaps, slopes


def _trig_eval(coef: np.ndarray, x: np.ndarray, modes: int) -> np.ndarray:
    """Trigonometric interpolants of the rfft coefficient columns ``coef`` (M, k) at ``x`` (n,) -> (n, k)."""
    m = coef.shape[0]
    scale = np.full(m, 2.0 / modes)
    scale[0] = 1.0 / modes
    if modes % 2 == 0:
        scale[-1] = 1.0 / modes
    nq = -(-m // _BLOCK)
    padded = np.zeros((nq * _BLOCK, coef.shape[1]), dtype=np.complex128)
    padded[:m] = coef * scale[:, None]
    theta = np.pi * (x + 1.0)  # the grid starts at x = -1
    low = np.exp(1j * np.outer(theta, np.arange(_BLOCK)))  # (n, B)
    high = np.exp(1j * np.outer(theta, _BLOCK * np.arange(nq)))  # (n, Q)
    blocks = padded.reshape(nq, _BLOCK, -1).transpose(1, 0, 2).reshape(_BLOCK, -1)  # (B, Q k)
    part = (low @ blocks).reshape(x.size, nq, -1)  # (n, Q, k)
    return np.einsum("nqk,nq->nk", part, high).real


def _check_setting(name: str, value: object, *, integer: bool = False) -> float:
    bad = isinstance(value, bool) or (integer and not isinstance(value, (int, np.integer)))
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        bad = True
    if bad or not (math.isfinite(v) and v > 0.0) or (integer and v < 8):
        raise ConfigError(name, value, "must be an integer >= 8" if integer else "must be a finite number > 0")
    return v


def allen_cahn_solution(x, t, *, eps: float = 1e-4, modes: int = ALLEN_CAHN_DEFAULT_MODES,
                        dt: float = ALLEN_CAHN_DEFAULT_DT, t_final: float = 1.0) -> np.ndarray:
    r"""Reference solution of :math:`u_t - \epsilon u_{xx} + 5u^3 - 5u = 0`, x in [-1, 1] periodic,
    :math:`u(x, 0) = x^2\cos(\pi x)`.

    Solves once per ``(eps, modes, dt, t_final)`` (cached, a few seconds at the defaults) by Fourier
    pseudo-spectral ETDRK4 with the kink at x = +-1 carried in closed form (module docstring), then interpolates.

    Args:
        x: positions, array-like (any shape; periodic, so any real value is allowed).
        t: times in [0, ``t_final``], array-like broadcastable against ``x``.
        eps: diffusion coefficient, finite and > 0.
        modes: Fourier modes (= grid points), integer >= 8; default :data:`ALLEN_CAHN_DEFAULT_MODES`.
        dt: ETDRK4 step (rounded down so that snapshots fall on ``t_final``); default
            :data:`ALLEN_CAHN_DEFAULT_DT`.
        t_final: end of the solve.

    Returns:
        float64 array of the broadcast shape of ``x`` and ``t``; exactly :math:`u_0` (of x wrapped into [-1, 1)) where ``t == 0``.
        At the defaults it is converged to ~1e-9 max abs for :math:`\epsilon = 10^{-4}`
        (``results/allen_cahn_reference.md``); smaller ``eps`` needs more modes (interfaces of width
        :math:`\sqrt{2\epsilon/5}`).

    Raises:
        ConfigError (a ValueError): bad ``eps``/``modes``/``dt``/``t_final``, non-finite ``x``/``t``, ``t`` outside
        [0, ``t_final``], or shapes that do not broadcast.
    """
    eps = _check_setting("eps", eps)
    modes = int(_check_setting("modes", modes, integer=True))
    dt = _check_setting("dt", dt)
    t_final = _check_setting("t_final", t_final)
    arrays = []
    for name, values in (("x", x), ("t", t)):
        try:
            arr = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(name, values, "must be an array of real numbers") from None
        if not np.all(np.isfinite(arr)):
            raise ConfigError(name, float(arr[~np.isfinite(arr)].flat[0]), "must be finite")
        arrays.append(arr)
    bad = (arrays[1] < 0.0) | (arrays[1] > t_final)
    if np.any(bad):
        raise ConfigError("t", float(arrays[1][bad].flat[0]), f"must be in [0, t_final = {t_final}]")
    try:
        xb, tb = np.broadcast_arrays(*arrays)
    except ValueError:
        raise ConfigError("x, t", (arrays[0].shape, arrays[1].shape), "shapes must be broadcastable") from None
    xf, tf = xb.ravel(), tb.ravel()
    spacing, snaps, slopes = _solve(eps, modes, dt, t_final)
    n_snap = snaps.shape[0] - 1
    j = np.minimum((tf / spacing).astype(np.int64), n_snap - 1)
    tau = tf / spacing - j
    hermite = np.stack([(1 + 2 * tau) * (1 - tau) ** 2, spacing * tau * (1 - tau) ** 2,
                        tau * tau * (3 - 2 * tau), spacing * tau * tau * (tau - 1)], axis=1)
    out = np.empty(xf.size)
    order = np.argsort(j, kind="stable")
    starts = np.searchsorted(j[order], np.arange(n_snap + 1))
    for k in np.nonzero(np.diff(starts))[0]:
        sel = order[starts[k]:starts[k + 1]]
        coef = np.stack([snaps[k], slopes[k], snaps[k + 1], slopes[k + 1]], axis=1)
        out[sel] = np.einsum("nk,nk->n", _trig_eval(coef, xf[sel], modes), hermite[sel])
    d = _offset(xf)
    out += _sigma(d, tf, eps, _chi(d))[0]
    at0 = tf == 0.0
    out[at0] = _u0(np.mod(xf[at0] + 1.0, 2.0) - 1.0)
    return out.reshape(xb.shape)


def allen_cahn_reference(points: np.ndarray, params: Mapping[str, float]) -> np.ndarray:
    """Registry form of :func:`allen_cahn_solution`: ``points`` (N, 2) with columns (x, t) -> (N,); reads the
    parameter ``eps`` if given (default 1e-4)."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ConfigError("points", points.shape, "must have shape (N, 2) with columns x, t")
    return allen_cahn_solution(points[:, 0], points[:, 1], eps=params.get("eps", 1e-4))
