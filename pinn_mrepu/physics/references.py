r"""Exact / reference solutions of the benchmark PDEs (numpy, float64).

Viscous Burgers (Cole--Hopf)
----------------------------
The problem

.. math::

    u_t + u\,u_x = \nu\,u_{xx}, \quad x \in [-1, 1],\ t \ge 0, \qquad
    u(x, 0) = -\sin(\pi x), \quad u(\pm 1, t) = 0,

is linearised by the Cole--Hopf transform :math:`u = -2\nu\,\phi_x/\phi`, :math:`\phi_t = \nu\phi_{xx}`.
Extending the initial data to the whole line (the odd, 2-periodic extension of :math:`-\sin(\pi x)`, which keeps
:math:`u(\pm 1, t) = 0` by symmetry) and solving the heat equation with its Gaussian kernel gives

.. math::

    u(x, t) = -\frac{\int \sin(\pi(x-\eta))\, f(x-\eta)\, e^{-\eta^2/(4\nu t)}\, d\eta}
                     {\int f(x-\eta)\, e^{-\eta^2/(4\nu t)}\, d\eta},
    \qquad f(y) = \exp\!\Big(-\frac{\cos(\pi y)}{2\pi\nu}\Big).

With :math:`\eta = \sqrt{4\nu t}\, s` both integrals become :math:`\int g(s)\, e^{-s^2} ds` and are evaluated by
Gauss--Hermite quadrature with nodes :math:`s_i` and weights :math:`w_i`:

.. math::

    u(x, t) \approx -\frac{\sum_i w_i\, \sin(\pi y_i)\, e^{a_i}}{\sum_i w_i\, e^{a_i}}, \qquad
    y_i = x - \sqrt{4\nu t}\, s_i, \quad a_i = -\frac{\cos(\pi y_i)}{2\pi\nu}.

The exponents :math:`a_i` reach :math:`\pm 1/(2\pi\nu)` (50 for :math:`\nu = 0.01/\pi`, ~159 for
:math:`\nu = 10^{-3}`, beyond float64 range for smaller :math:`\nu`), so the largest exponent at each point is
factored out of numerator and denominator (log-sum-exp) and nothing can overflow.

Default node count.  Convergence study on the standard 256 x 100 grid (x = linspace(-1, 1, 256),
t = 0, 0.01, ..., 0.99, :math:`\nu = 0.01/\pi`), max abs difference to a 1200-node evaluation:

    ======  =======  =======  =======  =======  =======  =======  =======
    nodes   10       20       40       60       80       100      160
    error   3.7e-1   2.4e-1   2.8e-5   8.9e-10  6.2e-14  4.3e-15  2.7e-15
    ======  =======  =======  =======  =======  =======  =======  =======

Few nodes are badly wrong once the shock has formed near :math:`x = 0` (:math:`t \gtrsim 0.3`; for t < 0.3, 40
nodes already give 1e-12).  The default :data:`BURGERS_DEFAULT_NODES` = 160 is twice the node count needed on the
standard grid, so it stays at round-off (~3e-15, against an independent Gauss--Legendre evaluation too) with margin:
it is still converged for t <= 2 (needs ~128) and for :math:`\nu \ge 0.005/\pi` (needs ~100), and evaluates the
grid in ~0.2 s on one core.  The required count grows roughly like :math:`1/\nu` (e.g. ~320 nodes for
:math:`\nu = 0.001/\pi`): pass ``n_nodes`` explicitly there and check by doubling it.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import roots_hermite

from pinn_mrepu.errors import ConfigError

__all__ = [
    "BURGERS_DEFAULT_NODES",
    "burgers_solution",
    "burgers_grid",
    "heat_solution",
    "poisson_sine_solution",
]

#: Gauss--Hermite nodes used by :func:`burgers_solution` (see the convergence study in the module docstring).
BURGERS_DEFAULT_NODES = 160

# Bound on the (points x nodes) work array of one chunk: 2**20 float64 = 8 MiB per temporary.
_CHUNK_ELEMENTS = 1 << 20


@functools.lru_cache(maxsize=16)
def _hermite_rule(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss--Hermite nodes and log-weights (weight e^{-s^2}); underflowed (zero) weights are dropped."""
    s, w = roots_hermite(n_nodes)  # Golub--Welsch for n <= 150, asymptotic (warning-free) beyond
    keep = w > 0.0
    s, logw = s[keep], np.log(w[keep])
    s.flags.writeable = False
    logw.flags.writeable = False
    return s, logw


def _check_nu(nu: object) -> float:
    try:
        value = float(nu)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ConfigError("nu", nu, "must be a finite number > 0") from None
    if not (math.isfinite(value) and value > 0.0):
        raise ConfigError("nu", nu, "must be a finite number > 0")
    return value


def _check_array(name: str, values: object, *, nonnegative: bool = False) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ConfigError(name, values, "must be an array of real numbers") from None
    if not np.all(np.isfinite(arr)):
        raise ConfigError(name, _first_bad(arr, ~np.isfinite(arr)), "must be finite")
    if nonnegative and np.any(arr < 0.0):
        raise ConfigError(name, _first_bad(arr, arr < 0.0), "must be >= 0")
    return arr


def _first_bad(arr: np.ndarray, mask: np.ndarray) -> float:
    return float(arr[mask].flat[0])


def burgers_solution(x, t, nu: float, *, n_nodes: int = BURGERS_DEFAULT_NODES) -> np.ndarray:
    r"""Exact solution of viscous Burgers with :math:`u(x,0) = -\sin(\pi x)`, :math:`u(\pm1,t) = 0`.

    Evaluates the Cole--Hopf formula (module docstring) with an ``n_nodes``-point Gauss--Hermite rule, stabilised
    by factoring out the largest exponent per point.

    Args:
        x: positions, array-like (any shape, normally in [-1, 1]; the formula is valid on the whole line, where it
            is the odd 2-periodic extension).
        t: times >= 0, array-like broadcastable against ``x``.
        nu: viscosity, finite and > 0 (the standard benchmark uses ``0.01 / pi``).
        n_nodes: Gauss--Hermite nodes (default :data:`BURGERS_DEFAULT_NODES`, converged to ~3e-15 for
            ``nu = 0.01/pi``, t <= 1; smaller ``nu`` or larger ``t`` may need more).

    Returns:
        float64 array of the broadcast shape of ``x`` and ``t``. At ``t == 0`` it is exactly ``-sin(pi x)``.

    Raises:
        ConfigError (a ValueError): bad ``nu``, ``t`` < 0, non-finite ``x``/``t``, or ``n_nodes`` < 1.
    """
    nu = _check_nu(nu)
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, (int, np.integer)) or n_nodes < 1:
        raise ConfigError("n_nodes", n_nodes, "must be an integer >= 1")
    x_arr = _check_array("x", x)
    t_arr = _check_array("t", t, nonnegative=True)
    try:
        xb, tb = np.broadcast_arrays(x_arr, t_arr)
    except ValueError:
        raise ConfigError("x, t", (x_arr.shape, t_arr.shape), "shapes must be broadcastable") from None
    shape = xb.shape
    xf = xb.ravel()
    tf = tb.ravel()

    out = -np.sin(np.pi * xf)  # exact at t == 0; overwritten for t > 0
    (idx,) = np.nonzero(tf > 0.0)
    if idx.size:
        s, logw = _hermite_rule(int(n_nodes))
        scale = np.sqrt(4.0 * nu * tf[idx])
        inv = 1.0 / (2.0 * np.pi * nu)
        chunk = max(1, _CHUNK_ELEMENTS // s.size)
        for lo in range(0, idx.size, chunk):
            sel = idx[lo : lo + chunk]
            y = xf[sel, None] - scale[lo : lo + chunk, None] * s[None, :]
            a = logw[None, :] - inv * np.cos(np.pi * y)
            a -= a.max(axis=1, keepdims=True)
            e = np.exp(a)
            out[sel] = -np.einsum("ij,ij->i", e, np.sin(np.pi * y)) / e.sum(axis=1)
    return out.reshape(shape)


def burgers_grid(nx: int = 256, nt: int = 100, nu: float = 0.01 / np.pi, *,
                 n_nodes: int = BURGERS_DEFAULT_NODES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The standard Burgers reference grid.

    ``x = linspace(-1, 1, nx)``, ``t = linspace(0, 0.01 * (nt - 1), nt)`` (0, 0.01, ..., 0.99 for ``nt = 100``),
    as in the widely used ``burgers_shock.mat`` data set.

    Returns:
        ``(x, t, u)`` with ``x`` of shape ``(nx,)``, ``t`` of shape ``(nt,)`` and ``u`` of shape ``(nt, nx)``,
        ``u[j, i] = u(x[i], t[j])`` (time along rows).
    """
    for name, value in (("nx", nx), ("nt", nt)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(name, value, "must be an integer >= 1")
    x = np.linspace(-1.0, 1.0, int(nx))
    t = np.linspace(0.0, 0.01 * (int(nt) - 1), int(nt))
    u = burgers_solution(x[None, :], t[:, None], nu, n_nodes=n_nodes)
    return x, t, u


def heat_solution(x, t, alpha: float, *, length: float = 1.0, mode: int = 1) -> np.ndarray:
    r"""Single-mode solution of :math:`u_t = \alpha u_{xx}` on [0, L] with :math:`u(0,t) = u(L,t) = 0`.

    .. math:: u(x, t) = \exp\!\big(-(k\pi/L)^2 \alpha t\big)\, \sin(k\pi x / L), \qquad k = \text{mode}.

    ``x`` and ``t`` broadcast; returns a float64 array of the broadcast shape.
    """
    x = np.asarray(x, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    k = mode * np.pi / length
    return np.exp(-(k * k) * alpha * t) * np.sin(k * x)


def poisson_sine_solution(*coords) -> np.ndarray:
    r""":math:`u = \prod_i \sin(\pi x_i)`, which solves :math:`-\Delta u = d\,\pi^2 u` with zero Dirichlet data
    on :math:`[0, 1]^d` (or :math:`[-1, 1]^d`), ``d = len(coords)``.

    The coordinate arrays broadcast; returns a float64 array of the broadcast shape.
    """
    if not coords:
        raise ConfigError("coords", coords, "must give at least one coordinate array")
    arrays = [np.asarray(c, dtype=np.float64) for c in coords]
    out = np.ones(np.broadcast_shapes(*(a.shape for a in arrays)), dtype=np.float64)
    for a in arrays:
        out = out * np.sin(np.pi * a)
    return out
