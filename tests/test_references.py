"""Tests of pinn_mrepu.references (Burgers Cole--Hopf solution and the small closed-form helpers)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy import integrate

from pinn_mrepu.errors import ConfigError
from pinn_mrepu.physics.references import (
    BURGERS_DEFAULT_NODES,
    burgers_grid,
    burgers_solution,
    heat_solution,
    poisson_sine_solution,
)

NU = 0.01 / np.pi
X = np.linspace(-1.0, 1.0, 256)
T = np.arange(100) * 0.01


@pytest.fixture(scope="module")
def grid_u() -> np.ndarray:
    """Default-node solution on the standard grid, shape (nt, nx)."""
    return burgers_solution(X[None, :], T[:, None], NU)


# --------------------------------------------------------------------------------------------------------------------
# Independent references: the Cole--Hopf integrals on the ORIGINAL eta variable, (a) composite Gauss--Legendre on a
# truncated interval, (b) scipy's adaptive QUADPACK at a few points. Neither uses Gauss--Hermite nodes.
# --------------------------------------------------------------------------------------------------------------------

def _truncation(nu: float) -> float:
    """Half-width of the eta interval in units of sqrt(4 nu t).

    The cos-exponent varies by at most 1/(pi nu) between points, so the dropped Gaussian tail is, relative to the
    integrals, below exp(1/(pi nu) - s_max^2) = exp(-40) ~ 4e-18.
    """
    return float(np.sqrt(1.0 / (np.pi * nu) + 40.0))


def _gauss_legendre_reference(x, t, nu, *, panels=48, order=16, chunk=2048) -> np.ndarray:
    """u(x,t) = -int sin(pi(x-eta)) f(x-eta) G(eta) / int f(x-eta) G(eta), composite Gauss--Legendre on
    eta in [-L, L], L = sqrt(4 nu t) * s_max (``panels`` equal panels of ``order`` nodes), log-sum-exp stabilised."""
    x, t = np.broadcast_arrays(np.asarray(x, float), np.asarray(t, float))
    shape = x.shape
    x, t = x.ravel(), t.ravel()
    out = -np.sin(np.pi * x)
    g, gw = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(-1.0, 1.0, panels + 1)
    mid, half = 0.5 * (edges[1:] + edges[:-1]), 0.5 * (edges[1:] - edges[:-1])
    z = (mid[:, None] + half[:, None] * g[None, :]).ravel()
    log_zw = np.log((half[:, None] * gw[None, :]).ravel())
    smax = _truncation(nu)
    (idx,) = np.nonzero(t > 0)
    for lo in range(0, idx.size, chunk):
        sel = idx[lo:lo + chunk]
        eta = (np.sqrt(4.0 * nu * t[sel]) * smax)[:, None] * z[None, :]
        y = x[sel, None] - eta
        a = log_zw[None, :] - eta**2 / (4.0 * nu * t[sel, None]) - np.cos(np.pi * y) / (2.0 * np.pi * nu)
        a -= a.max(axis=1, keepdims=True)
        e = np.exp(a)
        out[sel] = -(e * np.sin(np.pi * y)).sum(axis=1) / e.sum(axis=1)
    return out.reshape(shape)


def _quad_reference(x: float, t: float, nu: float) -> float:
    """The same ratio by adaptive QUADPACK, with breakpoints at the peaks of f (x - eta = odd integer)."""
    L = np.sqrt(4.0 * nu * t) * _truncation(nu)
    amax = 1.0 / (2.0 * np.pi * nu)  # bound on the cos-exponent: integrands scaled into [0, 1]

    def weight(eta):
        return np.exp(-eta * eta / (4.0 * nu * t) - np.cos(np.pi * (x - eta)) / (2.0 * np.pi * nu) - amax)

    peaks = [x - k for k in range(-5, 6, 2) if -L < x - k < L]
    pts = sorted(set(peaks + [0.0]))
    kw = dict(points=pts, limit=500, epsabs=0.0, epsrel=1e-13)
    den, _ = integrate.quad(weight, -L, L, **kw)
    kw["epsabs"] = 1e-15 * den
    num, _ = integrate.quad(lambda e: np.sin(np.pi * (x - e)) * weight(e), -L, L, **kw)
    return -num / den


def test_agrees_with_independent_gauss_legendre_reference(grid_u):
    ref = _gauss_legendre_reference(X[None, :], T[:, None], NU)
    assert np.all(np.isfinite(ref))
    assert np.max(np.abs(grid_u - ref)) < 1e-8  # measured ~2e-15


@pytest.mark.parametrize("x, t", [(0.0, 0.5), (0.003, 0.99), (-0.01, 0.99), (0.05, 0.4), (0.3, 0.3),
                                  (-0.7, 0.99), (0.9, 0.05), (-0.5, 0.01), (0.0123, 0.6)])
def test_agrees_with_adaptive_quadrature(x, t):
    assert abs(burgers_solution(x, t, NU) - _quad_reference(x, t, NU)) < 1e-12  # measured <= 2e-15


# --------------------------------------------------------------------------------------------------------------------
# Properties of the solution
# --------------------------------------------------------------------------------------------------------------------

def test_finite_and_bounded(grid_u):
    assert grid_u.shape == (100, 256)
    assert grid_u.dtype == np.float64
    assert np.all(np.isfinite(grid_u))
    assert np.max(np.abs(grid_u)) <= 1.0 + 1e-12  # maximum principle


def test_initial_condition_exact():
    x = np.linspace(-1.0, 1.0, 1001)
    np.testing.assert_array_equal(burgers_solution(x, 0.0, NU), -np.sin(np.pi * x))


def test_boundary_values_vanish():
    t = np.linspace(0.0, 1.0, 201)
    for xb in (-1.0, 1.0):
        assert np.max(np.abs(burgers_solution(xb, t, NU))) < 1e-12


def test_odd_symmetry(grid_u):
    np.testing.assert_allclose(grid_u[:, ::-1], -grid_u, rtol=0, atol=1e-13)


def test_shock_forms_near_origin(grid_u):
    """At late times the steepest gradient sits at x = 0 and is large (~ -150 at t ~ 0.5)."""
    t = 0.5
    h = 1e-4
    slope = (burgers_solution(h, t, NU) - burgers_solution(-h, t, NU)) / (2 * h)
    assert slope < -100.0
    assert abs(burgers_solution(0.0, t, NU)) < 1e-13


def test_node_convergence():
    """Error vs a 800-node evaluation shrinks with n and the default is converged to round-off."""
    ref = burgers_solution(X[None, :], T[:, None], NU, n_nodes=800)
    errs = {n: np.max(np.abs(burgers_solution(X[None, :], T[:, None], NU, n_nodes=n) - ref)) for n in (20, 40, 80)}
    assert errs[20] > 1e-2  # few nodes are badly wrong after the shock forms
    assert errs[40] < 0.1 * errs[20]
    assert errs[80] < 1e-3 * errs[40]
    default = burgers_solution(X[None, :], T[:, None], NU)
    doubled = burgers_solution(X[None, :], T[:, None], NU, n_nodes=2 * BURGERS_DEFAULT_NODES)
    assert np.max(np.abs(default - doubled)) < 1e-12
    assert np.max(np.abs(default - ref)) < 1e-12


def test_few_nodes_wrong_only_after_shock():
    u20 = burgers_solution(X[None, :], T[:, None], NU, n_nodes=20)
    u = burgers_solution(X[None, :], T[:, None], NU)
    err = np.abs(u20 - u)
    assert err[:10].max() < 1e-4  # t < 0.1: smooth, easy
    assert err[30:].max() > 1e-2  # t >= 0.3: shock near x = 0


def test_grid_is_fast():
    start = time.perf_counter()
    burgers_solution(X[None, :], T[:, None], NU)
    assert time.perf_counter() - start < 3.0  # measured ~0.2 s on one core


def test_small_viscosity_does_not_overflow():
    """Exponents of +-1/(2 pi nu) ~ +-1600 would overflow without the log-sum-exp factoring."""
    x = np.linspace(-1.0, 1.0, 41)
    u = burgers_solution(x, np.array([0.0, 0.1, 0.5])[:, None], 1e-4, n_nodes=64)
    assert np.all(np.isfinite(u)) and np.max(np.abs(u)) <= 1.0 + 1e-12


# --------------------------------------------------------------------------------------------------------------------
# PDE residual: u_t + u u_x - nu u_xx by central differences where the solution is smooth
# --------------------------------------------------------------------------------------------------------------------

def _fd_residual(x: np.ndarray, t: float, h: float) -> np.ndarray:
    u = burgers_solution(x, t, NU)
    u_t = (burgers_solution(x, t + h, NU) - burgers_solution(x, t - h, NU)) / (2 * h)
    up, um = burgers_solution(x + h, t, NU), burgers_solution(x - h, t, NU)
    return u_t + u * (up - um) / (2 * h) - NU * (up - 2 * u + um) / h**2


def test_pde_residual_finite_differences():
    x = np.linspace(-0.95, 0.95, 191)
    r1 = np.max(np.abs(_fd_residual(x, 0.1, 2e-3)))
    r2 = np.max(np.abs(_fd_residual(x, 0.1, 1e-3)))
    assert r2 < 1e-4  # |u_t|, |u u_x| are O(1)-O(5) here; measured ~2e-5
    assert 3.0 < r1 / r2 < 5.0  # second-order FD truncation: the residual is discretisation error only


# --------------------------------------------------------------------------------------------------------------------
# Shapes, broadcasting, validation
# --------------------------------------------------------------------------------------------------------------------

def test_scalar_and_broadcast_shapes():
    assert np.shape(burgers_solution(0.2, 0.3, NU)) == ()
    assert burgers_solution(np.zeros(5), 0.3, NU).shape == (5,)
    assert burgers_solution(0.1, np.zeros((2, 3)), NU).shape == (2, 3)
    assert burgers_solution(np.zeros((4, 1, 3)), np.ones((2, 1)), NU).shape == (4, 2, 3)
    x = np.linspace(-1, 1, 7)
    t = np.array([0.0, 0.25, 0.8])
    full = burgers_solution(x[None, :], t[:, None], NU)
    for j, tj in enumerate(t):
        np.testing.assert_allclose(burgers_solution(x, tj, NU), full[j], rtol=0, atol=1e-15)
        for i, xi in enumerate(x):
            assert abs(float(burgers_solution(xi, tj, NU)) - full[j, i]) < 1e-15


def test_chunking_consistent():
    """Results do not depend on how points fall into chunks (a long 1-D input crosses chunk boundaries)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 20000)
    t = rng.uniform(0, 1, 20000)
    u = burgers_solution(x, t, NU, n_nodes=100)
    np.testing.assert_allclose(u[:50], burgers_solution(x[:50], t[:50], NU, n_nodes=100), rtol=0, atol=1e-15)
    np.testing.assert_allclose(u[-50:], burgers_solution(x[-50:], t[-50:], NU, n_nodes=100), rtol=0, atol=1e-15)


def test_burgers_grid_layout(grid_u):
    x, t, u = burgers_grid()
    np.testing.assert_array_equal(x, X)
    np.testing.assert_allclose(t, T, rtol=0, atol=1e-15)
    assert t[0] == 0.0 and abs(t[-1] - 0.99) < 1e-15
    assert u.shape == (100, 256)
    np.testing.assert_array_equal(u, grid_u)
    assert burgers_grid(nx=5, nt=3)[2].shape == (3, 5)


@pytest.mark.parametrize("nu", [0.0, -0.1, float("nan"), float("inf"), "abc", None])
def test_bad_nu(nu):
    with pytest.raises(ValueError, match=r"^nu: got .*, must be"):
        burgers_solution(0.0, 0.1, nu)


@pytest.mark.parametrize("t", [-0.01, np.array([0.1, -1.0]), float("nan"), float("inf")])
def test_bad_t(t):
    with pytest.raises(ValueError, match=r"^t: got .*, must be"):
        burgers_solution(0.0, t, NU)


def test_bad_x_and_nodes_and_shapes():
    with pytest.raises(ValueError, match=r"^x: got nan, must be finite"):
        burgers_solution(np.array([0.0, np.nan]), 0.1, NU)
    for n in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match=r"^n_nodes: got"):
            burgers_solution(0.0, 0.1, NU, n_nodes=n)
    with pytest.raises(ValueError, match=r"shapes must be broadcastable"):
        burgers_solution(np.zeros(3), np.zeros(4), NU)
    with pytest.raises(ConfigError):
        burgers_grid(nx=0)
    with pytest.raises(ConfigError) as info:
        burgers_solution(0.0, 0.1, -1.0)
    assert str(info.value) == "nu: got -1.0, must be a finite number > 0"


# --------------------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------------------

def test_heat_solution():
    x = np.linspace(0.0, 2.0, 9)
    t = np.array([0.0, 0.3])[:, None]
    u = heat_solution(x, t, 0.5, length=2.0, mode=3)
    k = 3 * np.pi / 2.0
    np.testing.assert_allclose(u, np.exp(-k**2 * 0.5 * t) * np.sin(k * x), rtol=1e-15, atol=0)
    np.testing.assert_allclose(heat_solution(x, 0.0, 1.0, length=2.0), np.sin(np.pi * x / 2.0), atol=1e-15)
    # PDE: u_t = alpha u_xx (analytically -k^2 alpha u on both sides)
    h = 1e-4
    xs, ts, a = np.linspace(0.1, 0.9, 9), 0.2, 0.7
    u_t = (heat_solution(xs, ts + h, a) - heat_solution(xs, ts - h, a)) / (2 * h)
    u_xx = (heat_solution(xs + h, ts, a) - 2 * heat_solution(xs, ts, a) + heat_solution(xs - h, ts, a)) / h**2
    np.testing.assert_allclose(u_t, a * u_xx, atol=1e-5)


def test_poisson_sine_solution():
    x = np.linspace(0, 1, 5)
    y = np.linspace(0, 1, 3)[:, None]
    u = poisson_sine_solution(x, y)
    assert u.shape == (3, 5)
    np.testing.assert_allclose(u, np.sin(np.pi * x) * np.sin(np.pi * y), rtol=1e-15)
    assert float(poisson_sine_solution(0.5, 0.5, 0.5)) == pytest.approx(1.0)
    np.testing.assert_allclose(poisson_sine_solution(x), np.sin(np.pi * x))
    with pytest.raises(ValueError):
        poisson_sine_solution()


# --------------------------------------------------------------------------------------------------------------------
# Allen--Cahn: u_t - eps u_xx + 5u^3 - 5u = 0, periodic on [-1, 1], u0 = x^2 cos(pi x) (pseudo-spectral ETDRK4)
# --------------------------------------------------------------------------------------------------------------------

AC_X = np.linspace(-1.0, 1.0, 257)
AC_T = np.array([1e-6, 1e-3, 0.01, 0.1, 0.3, 0.6, 1.0])


def _ac(modes, dt=1e-3, t=AC_T):
    from pinn_mrepu.physics.allen_cahn import allen_cahn_solution

    return allen_cahn_solution(AC_X[None, :], t[:, None], modes=modes, dt=dt)


def test_allen_cahn_converges_in_modes():
    """Differences between successive mode counts shrink; the finest pair agrees to < 1e-6 (measured 1.2e-8)."""
    u = {m: _ac(m) for m in (256, 512, 1024, 2048)}
    diffs = [np.abs(u[a] - u[b]).max() for a, b in ((256, 512), (512, 1024), (1024, 2048))]
    assert diffs[0] > 1e-4  # 256 modes do not resolve the interfaces (width sqrt(2 eps / 5) ~ 0.006)
    assert diffs[1] < 0.05 * diffs[0] and diffs[2] < 0.05 * diffs[1]  # measured 6e-4, 1.2e-6, 1.2e-8
    assert diffs[2] < 1e-6


def test_allen_cahn_fourth_order_in_time():
    t = np.array([0.05, 0.2, 0.5])
    u = [_ac(512, dt, t) for dt in (8e-3, 4e-3, 2e-3)]
    d1, d2 = np.abs(u[0] - u[1]).max(), np.abs(u[1] - u[2]).max()
    assert d2 < 1e-7
    assert 12.0 < d1 / d2 < 20.0  # ETDRK4: halving dt divides the error by 16 (measured 16.0)


def test_allen_cahn_initial_condition_and_kink():
    """u0 exactly at t = 0; at t > 0 the kink of u0 at x = +-1 smooths like the heat equation (+4 sqrt(eps t/pi))."""
    from pinn_mrepu.physics.allen_cahn import allen_cahn_solution

    x = np.linspace(-1.0, 1.0, 1001)
    np.testing.assert_array_equal(allen_cahn_solution(x, 0.0), x**2 * np.cos(np.pi * x))
    t = 1e-6
    u = allen_cahn_solution(x, t)
    kink = 4.0 * np.sqrt(1e-4 * t / np.pi)  # 2.3e-5
    assert abs(u[0] + 1.0 - kink) < 1e-8 and abs(u[-1] + 1.0 - kink) < 1e-8
    u0 = x**2 * np.cos(np.pi * x)
    u0_xx = (2 - (np.pi * x) ** 2) * np.cos(np.pi * x) - 4 * np.pi * x * np.sin(np.pi * x)
    away = np.abs(np.abs(x) - 1.0) > 0.05
    taylor = u0 + t * (1e-4 * u0_xx + 5 * u0 - 5 * u0**3)  # one Taylor step; the rest is O(t^2) ~ 1e-11
    np.testing.assert_allclose(u[away], taylor[away], rtol=0, atol=1e-9)


def test_allen_cahn_periodic_and_even():
    from pinn_mrepu.physics.allen_cahn import allen_cahn_solution

    x = np.linspace(-1.0, 1.0, 101)
    t = np.array([0.0, 0.02, 0.4, 1.0])[:, None]
    u = allen_cahn_solution(x, t, modes=512)
    np.testing.assert_allclose(allen_cahn_solution(x + 2.0, t, modes=512), u, rtol=0, atol=1e-13)
    np.testing.assert_allclose(u[:, 0], u[:, -1], rtol=0, atol=1e-13)
    np.testing.assert_allclose(u[:, ::-1], u, rtol=0, atol=1e-12)  # u0 is even, so is u
    assert np.all(np.abs(u) <= 1.0 + 1e-9)  # maximum principle for |u0| <= 1


def test_allen_cahn_plain_spectral_solve_converges_to_it():
    """Independent path: the plain pseudo-spectral solve (no kink subtraction) approaches the solution like
    modes^-2 near x = +-1 (the kink of u0 aliased), measured 4.3e-5 -> 1.1e-5 at t = 0.1."""
    from pinn_mrepu.physics import allen_cahn as ac

    ref = ac.allen_cahn_solution(AC_X, 0.1, modes=1024, t_final=0.1)
    errs = []
    for modes in (1024, 2048):
        _, snaps, _ = ac._solve(1e-4, modes, 1e-3, 0.1, False)
        errs.append(np.abs(ac._trig_eval(snaps[-1][:, None], AC_X, modes)[:, 0] - ref).max())
    assert errs[0] < 1e-4
    assert 3.5 < errs[0] / errs[1] < 4.5


def test_allen_cahn_pde_residual_finite_differences():
    """u_t - eps u_xx + 5u^3 - 5u by 4th-order central differences (x across an interface, t = 0.3)."""
    from pinn_mrepu.physics.allen_cahn import allen_cahn_solution

    eps, t = 1e-4, 0.3
    x = np.linspace(-0.9, 0.9, 181)
    h, k = 2e-4, 1e-3

    def u(dx=0.0, dt=0.0):
        return allen_cahn_solution(x + dx, t + dt, modes=1024)

    u_t = (-u(dt=2 * k) + 8 * u(dt=k) - 8 * u(dt=-k) + u(dt=-2 * k)) / (12 * k)
    u_xx = (-u(2 * h) + 16 * u(h) - 30 * u() + 16 * u(-h) - u(-2 * h)) / (12 * h * h)
    u0 = u()
    res = u_t - eps * u_xx + 5 * u0**3 - 5 * u0
    assert np.max(np.abs(u_t)) > 1.0  # the interfaces move: the residual balances O(1) terms
    assert np.max(np.abs(res)) < 1e-5


def test_allen_cahn_many_points_and_registry_form():
    """100k points in one call (the speed is measured by benchmarks/allen_cahn_reference.py, not asserted here)."""
    from pinn_mrepu.physics.allen_cahn import allen_cahn_reference, allen_cahn_solution

    rng = np.random.default_rng(0)
    pts = np.column_stack([rng.uniform(-1, 1, 100_000), rng.uniform(0, 1, 100_000)])
    u = allen_cahn_reference(pts, {"eps": 1e-4})
    assert u.shape == (100_000,) and np.all(np.isfinite(u)) and np.max(np.abs(u)) <= 1.0 + 1e-3  # maximum principle
    np.testing.assert_allclose(u[:100], allen_cahn_solution(pts[:100, 0], pts[:100, 1]), rtol=0, atol=1e-14)
    np.testing.assert_allclose(allen_cahn_reference(pts[:10], {}), u[:10], rtol=0, atol=1e-14)
    with pytest.raises(ConfigError, match=r"^points: "):
        allen_cahn_reference(pts[:, :1], {})


def test_allen_cahn_validation():
    from pinn_mrepu.physics.allen_cahn import allen_cahn_solution

    for kwargs, field in [({"eps": 0.0}, "eps"), ({"eps": "a"}, "eps"), ({"modes": 4}, "modes"),
                          ({"modes": 64.0}, "modes"), ({"dt": -1e-3}, "dt"), ({"t_final": float("nan")}, "t_final")]:
        with pytest.raises(ConfigError, match=rf"^{field}: got"):
            allen_cahn_solution(0.0, 0.1, **kwargs)
    with pytest.raises(ConfigError, match=r"^t: got 1.5, must be in \[0, t_final = 1.0\]"):
        allen_cahn_solution(0.0, np.array([0.5, 1.5]))
    with pytest.raises(ConfigError, match=r"^x: got nan, must be finite"):
        allen_cahn_solution(np.array([0.0, np.nan]), 0.1)
    with pytest.raises(ConfigError, match=r"shapes must be broadcastable"):
        allen_cahn_solution(np.zeros(3), np.zeros(4))
