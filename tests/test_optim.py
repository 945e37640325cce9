"""Tests of pinn_mrepu.optim: line search, dense BFGS / SSBFGS / SSBroyden updates, L-BFGS, robustness, resume.

Everything in float64 on tiny problems (the whole file runs in a few seconds).
"""

from __future__ import annotations

import io
import math

import pytest
import torch

from pinn_mrepu.optim import (
    LBFGS,
    DenseQuasiNewton,
    LineSearchResult,
    bfgs_update,
    cubic_minimizer,
    dense_memory_bytes,
    ssbfgs_update,
    ssbroyden_scalars,
    ssbroyden_update,
    strong_wolfe,
    two_loop,
)

F64 = torch.float64
METHODS = ["bfgs", "ssbfgs", "ssbroyden", "lbfgs"]


def make(method: str, n: int, **options):
    if method == "lbfgs":
        options.pop("check_every", None)  # dense-only option
        return LBFGS(n, history_size=50, dtype=F64, **options)
    return DenseQuasiNewton(n, method=method, dtype=F64, **options)


def rosenbrock(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Chained Rosenbrock sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2 with its analytic gradient."""
    a, b = x[:-1], x[1:]
    r = b - a * a
    f = (100.0 * r * r + (1.0 - a) ** 2).sum()
    g = torch.zeros_like(x)
    g[:-1] += -400.0 * a * r - 2.0 * (1.0 - a)
    g[1:] += 200.0 * r
    return f, g


def rosen_start(n: int) -> torch.Tensor:
    return torch.tensor([-1.2, 1.0] * (n // 2), dtype=F64)


def minimise(opt, closure, x, max_iter, until=None):
    """Run steps until ``until(x, g)``; return (x, f, g, iterations, evaluations, results)."""
    f, g = closure(x)
    evals, results = 1, []
    for k in range(max_iter):
        res = opt.step(x, f, g, closure)
        x, f, g = res.x, res.f, res.g
        evals += res.evals
        results.append(res)
        if until is not None and until(x, g):
            return x, f, g, k + 1, evals, results
    return x, f, g, max_iter, evals, results


def random_spd(n: int, cond: float, gen: torch.Generator) -> torch.Tensor:
    q, _ = torch.linalg.qr(torch.randn(n, n, dtype=F64, generator=gen))
    return q @ torch.diag(torch.logspace(0.0, math.log10(cond), n, dtype=F64)) @ q.T


# ---------------------------------------------------------------------------------- line search
def test_cubic_minimizer_is_exact_for_quadratics_and_cubics():
    q = lambda t: (3.0 * (t - 0.7) ** 2, 6.0 * (t - 0.7))
    assert cubic_minimizer(0.0, *q(0.0), 2.0, *q(2.0)) == pytest.approx(0.7, rel=1e-12)
    c = lambda t: (t**3 - 3.0 * t, 3.0 * t * t - 3.0)
    assert cubic_minimizer(-0.5, *c(-0.5), 3.0, *c(3.0)) == pytest.approx(1.0, rel=1e-12)
    assert cubic_minimizer(0.0, 0.0, -1.0, 1.0, -1.0, -1.0) is None  # a straight line has no minimiser


def smooth_1d(x):
    f = x[0] ** 4 - 3.0 * x[0] ** 2 + x[0] + 0.2 * torch.sin(4.0 * x[0])
    g = 4.0 * x[0] ** 3 - 6.0 * x[0] + 1.0 + 0.8 * torch.cos(4.0 * x[0])
    return f, g.reshape(1)


@pytest.mark.parametrize("x0", [2.0, -0.3, 0.9])
@pytest.mark.parametrize("t0", [1e-4, 1.0, 30.0])
@pytest.mark.parametrize("c2", [0.9, 0.1])
def test_line_search_satisfies_strong_wolfe(x0, t0, c2):
    x = torch.tensor([x0], dtype=F64)
    f, g = smooth_1d(x)
    d = -g
    res = strong_wolfe(smooth_1d, x, f, g, d, t0, c2=c2)
    assert res.status == "strong_wolfe" and 0 < res.evals <= 25
    dg0 = float(g @ d)
    assert float(res.f) <= float(f) + 1e-4 * res.t * dg0
    assert abs(float(res.g @ d)) <= c2 * abs(dg0)
    f_check, g_check = smooth_1d(x + res.t * d)
    assert torch.equal(res.x, torch.add(x, d, alpha=res.t))
    assert float(res.f) == pytest.approx(float(f_check), rel=1e-14) and torch.allclose(res.g, g_check, rtol=1e-14)


def nan_beyond(threshold: float, what: str):
    def closure(x):
        bad = float(x[0]) >= threshold
        f, g = (x[0] ** 2, 2.0 * x)
        if bad and what in ("loss", "both"):
            f = torch.full((), math.nan, dtype=F64)
        if bad and what in ("grad", "both"):
            g = torch.full_like(x, math.inf)
        return f, g
    return closure


@pytest.mark.parametrize("what", ["loss", "grad", "both"])
@pytest.mark.parametrize("d0", [2.0, 3.0, 40.0])
def test_line_search_survives_nan_region(what, d0):
    closure = nan_beyond(0.5, what)
    x = torch.tensor([-1.0], dtype=F64)
    f, g = closure(x)
    d = torch.tensor([d0], dtype=F64)  # t = 1 lands at x = d0 - 1 >= 1: inside the bad region
    assert not math.isfinite(float(closure(x + d)[0])) or not torch.isfinite(closure(x + d)[1]).all()
    res = strong_wolfe(closure, x, f, g, d, 1.0)
    assert res.ok and res.status == "strong_wolfe"
    assert float(res.x[0]) < 0.5 and float(res.f) < float(f)
    assert abs(float(res.g @ d)) <= 0.9 * abs(float(g @ d))
    if d0 == 2.0:  # from t = 0 a non-finite trial shrinks t by 4: t = 1/4 lands at x = -0.5, a Wolfe point
        assert res.t == 0.25 and res.evals == 2


def test_line_search_returns_best_armijo_point_when_curvature_is_unreachable():
    # phi(t) = -t up to the nan wall at t = 0.5: Armijo everywhere, the slope never shrinks.
    def closure(x):
        f = -x[0] if float(x[0]) < 0.5 else torch.full((), math.nan, dtype=F64)
        return f, -torch.ones_like(x)
    x = torch.zeros(1, dtype=F64)
    f, g = closure(x)
    res = strong_wolfe(closure, x, f, g, torch.ones(1, dtype=F64), 1.0, max_evals=25)
    assert res.status == "armijo_only" and res.ok and res.evals == 25
    assert 0.45 < res.t < 0.5 and float(res.f) == -res.t


def test_line_search_fails_on_ascent_direction_without_evaluating():
    calls = []
    def closure(x):
        calls.append(1)
        return (x * x).sum(), 2.0 * x
    x = torch.tensor([1.0, -2.0], dtype=F64)
    f, g = closure(x)
    for d in (g, torch.zeros_like(g)):
        res = strong_wolfe(closure, x, f, g, d, 1.0)
        assert res.status == "not_descent" and not res.ok and res.evals == 0 and res.t == 0.0
        assert res.x is x
    assert len(calls) == 1


def test_failed_line_search_returns_lowest_finite_decrease():
    closure = nan_beyond(10.0, "loss")  # phi(t) = (2t - 1)^2 from x = -1 along d = 2, phi'(0) = -4
    x = torch.tensor([-1.0], dtype=F64)
    f, g = closure(x)
    # t = 0.9 decreases the loss (0.64 < 1) but not enough for Armijo with c1 = 0.5 (needs <= -0.8)
    res = strong_wolfe(closure, x, f, g, torch.tensor([2.0], dtype=F64), 0.9, c1=0.5, max_evals=1)
    assert res.status == "failed" and not res.ok and res.evals == 1
    assert res.t == 0.9 and float(res.f) == pytest.approx(0.64, rel=1e-14)


def test_line_search_everything_nan_fails_at_start_point():
    x = torch.tensor([1.0], dtype=F64)
    f, g = (x * x).sum(), 2.0 * x
    res = strong_wolfe(lambda z: (torch.tensor(math.nan, dtype=F64), z.clone()), x, f, g, -g, 1.0, max_evals=10)
    assert res.status == "failed" and res.t == 0.0 and res.evals == 10 and res.x is x and res.f is f


# ---------------------------------------------------------------------------------- update formulas
def update_data(n: int, seed: int, b_at_most_one: bool = False):
    """(H, s, y, alpha, g) with s = -alpha H g and y = A s for an SPD A (so y.s > 0).

    By default A is small (eigenvalues 1e-4..5e-3 against B = H^-1's 1/30..1), so b = s.B s / s.A s > 6
    and the self-scaling is active (tau = min(1, 1/b) < 1).
    """
    gen = torch.Generator().manual_seed(seed)
    H = random_spd(n, 30.0, gen)
    g = torch.randn(n, dtype=F64, generator=gen)
    alpha = 0.7
    s = -alpha * (H @ g)
    A = random_spd(n, 50.0, gen)
    A = A + torch.linalg.inv(H) if b_at_most_one else 1e-4 * A  # A >= B = H^-1 makes b <= 1
    y = A @ s
    return H, s, y, alpha, g


def reference_ssbroyden2(H, s, y, alpha, g):
    """SSBroyden2 written independently in the direct (B = H^-1) form, then inverted.

    theta, tau from the reference text; B+ = tau [B - B s s^T B / s.B s + theta (s.B s) w w^T] + y y^T / y.s,
    w = y / y.s - B s / s.B s (theta = 0: BFGS, theta = 1: DFP).
    """
    n = H.shape[0]
    B = torch.linalg.inv(H)
    ys, sBs, yHy = float(y @ s), float(s @ B @ s), float(y @ H @ y)
    b, h = sBs / ys, yHy / ys
    assert b == pytest.approx(-alpha * float(s @ g) / ys, rel=1e-12)
    a = b * h - 1.0
    rho_m = min(1.0, h * (1.0 - math.sqrt(abs(a) / (1.0 + a))))
    theta = max((rho_m - 1.0) / a, min(1.0 / rho_m, (1.0 - b) / b))
    sigma = 1.0 + theta * a
    rho_t = min(1.0, 1.0 / b)
    root = abs(sigma) ** (1.0 / (1.0 - n))
    tau = min(rho_t * root, sigma) if theta <= 0 else rho_t * min(root, 1.0 / theta)
    Bs = B @ s
    w = y / ys - Bs / sBs
    B_new = tau * (B - torch.outer(Bs, Bs) / sBs + theta * sBs * torch.outer(w, w)) + torch.outer(y, y) / ys
    return torch.linalg.inv(B_new), theta, tau


def b_of(H, s, y, alpha, g):
    return -alpha * float(s @ g) / float(y @ s)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("update", ["bfgs", "ssbfgs", "ssbroyden"])
def test_secant_equation_symmetry_and_positive_definiteness(update, seed):
    H, s, y, alpha, g = update_data(7, seed)
    H_before = H.clone()
    if update == "bfgs":
        Hp = bfgs_update(H, s, y)
    elif update == "ssbfgs":
        Hp = ssbfgs_update(H, s, y, alpha, g)
    else:
        Hp = ssbroyden_update(H, s, y, alpha, g)
    assert torch.equal(H, H_before)  # not in place by default
    assert float((Hp @ y - s).norm() / s.norm()) < 1e-10
    assert float((Hp - Hp.T).norm() / Hp.norm()) < 1e-13
    assert int(torch.linalg.cholesky_ex(0.5 * (Hp + Hp.T))[1]) == 0


@pytest.mark.parametrize("b_at_most_one", [False, True])
@pytest.mark.parametrize("seed", range(5))
def test_ssbroyden_matches_independent_direct_form(seed, b_at_most_one):
    H, s, y, alpha, g = update_data(7, seed, b_at_most_one)
    H_ref, theta, tau = reference_ssbroyden2(H, s, y, alpha, g)
    k = ssbroyden_scalars(float(y @ s), float(y @ H @ y), float(s @ g), alpha, 7)
    assert k.theta == pytest.approx(theta, rel=1e-10) and k.tau == pytest.approx(tau, rel=1e-10)
    H_new = ssbroyden_update(H, s, y, alpha, g)
    assert float((H_new - H_ref).norm() / H_ref.norm()) < 1e-9


@pytest.mark.parametrize("seed", range(5))
def test_ssbroyden_with_theta_zero_is_self_scaled_bfgs(seed):
    H, s, y, alpha, g = update_data(7, seed)
    b = b_of(H, s, y, alpha, g)
    assert b > 1.0  # the scaling is active: tau < 1
    tau = min(1.0, 1.0 / b)
    k = ssbroyden_scalars(float(y @ s), float(y @ H @ y), float(s @ g), alpha, 7, theta=0.0)
    assert k.tau == pytest.approx(tau, rel=1e-14) and k.phi == 1.0 and k.b == pytest.approx(b, rel=1e-14)
    H0 = ssbroyden_update(H, s, y, alpha, g, theta=0.0)
    rel = lambda a, c: float((a - c).norm() / c.norm())
    assert rel(H0, ssbfgs_update(H, s, y, alpha, g)) < 1e-12
    assert rel(H0, bfgs_update(H / tau, s, y)) < 1e-12


@pytest.mark.parametrize("seed", range(5))
def test_ssbroyden_with_theta_zero_is_bfgs_when_b_at_most_one(seed):
    H, s, y, alpha, g = update_data(7, seed, b_at_most_one=True)
    assert b_of(H, s, y, alpha, g) <= 1.0  # then tau = 1: no scaling
    H0 = ssbroyden_update(H, s, y, alpha, g, theta=0.0)
    HB = bfgs_update(H, s, y)
    assert float((H0 - HB).norm() / HB.norm()) < 1e-12
    # while the default theta gives a different member of the family
    assert float((ssbroyden_update(H, s, y, alpha, g) - HB).norm() / HB.norm()) > 1e-6


def test_ssbroyden_theta_lies_between_its_bounds_and_inplace_matches():
    for seed in range(20):
        H, s, y, alpha, g = update_data(5, seed)
        k = ssbroyden_scalars(float(y @ s), float(y @ H @ y), float(s @ g), alpha, 5)
        c = math.sqrt(k.a / (1 + k.a))
        rho_m = min(1.0, k.h * (1 - c))
        assert (rho_m - 1) / k.a - 1e-12 <= k.theta <= 1 / rho_m + 1e-12
        assert k.sigma > 0 and k.tau > 0
        assert torch.equal(ssbroyden_update(H.clone(), s, y, alpha, g, inplace=True), ssbroyden_update(H, s, y, alpha, g))
    with pytest.raises(ValueError, match="y.s"):
        bfgs_update(H, s, -y)
    with pytest.raises(ValueError, match="b ="):
        ssbroyden_update(H, -s, -y, alpha, g)  # y.s > 0 but s is not -alpha H g: b < 0


def test_two_loop_equals_dense_bfgs_from_gamma_identity():
    gen = torch.Generator().manual_seed(3)
    n, A = 9, random_spd(9, 100.0, gen)
    pairs = [(s, A @ s) for s in torch.randn(5, n, dtype=F64, generator=gen)]
    gamma = float(pairs[-1][0] @ pairs[-1][1] / (pairs[-1][1] @ pairs[-1][1]))
    H = gamma * torch.eye(n, dtype=F64)
    for s, y in pairs:
        H = bfgs_update(H, s, y)
    g = torch.randn(n, dtype=F64, generator=gen)
    Hg = two_loop(g, [p[0] for p in pairs], [p[1] for p in pairs], [1 / float(s @ y) for s, y in pairs], gamma)
    assert float((Hg - H @ g).norm() / (H @ g).norm()) < 1e-12


# ---------------------------------------------------------------------------------- convergence
@pytest.mark.parametrize("initial_scale", [True, False])
@pytest.mark.parametrize("method", ["bfgs", "ssbfgs", "ssbroyden"])
def test_exact_line_search_terminates_on_quadratic_in_n_steps(method, initial_scale):
    n = 8
    A = random_spd(n, 100.0, torch.Generator().manual_seed(0))
    bvec = torch.linspace(-1.0, 2.0, n, dtype=F64)
    x_star = torch.linalg.solve(A, bvec)

    def closure(x):
        return 0.5 * x @ A @ x - bvec @ x, A @ x - bvec

    def exact(closure_, x, f, g, d, t0):  # argmin_t of the quadratic along d, one evaluation
        t = float(-(g @ d) / (d @ A @ d))
        xt = torch.add(x, d, alpha=t)
        ft, gt = closure_(xt)
        return LineSearchResult(t, xt, ft, gt, 1, "strong_wolfe")

    opt = DenseQuasiNewton(n, method=method, initial_scale=initial_scale, line_search=exact)
    x, _, _, its, _, results = minimise(opt, closure, torch.zeros(n, dtype=F64), n)
    assert its == n and all(r.status == "ok" for r in results)
    assert float((x - x_star).norm() / x_star.norm()) < 1e-10
    if method == "bfgs":  # BFGS with exact line searches also recovers the inverse Hessian exactly
        A_inv = torch.linalg.inv(A)
        assert float((opt.H - A_inv).norm() / A_inv.norm()) < 1e-10


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n, max_iter", [(2, 60), (10, 150)])
def test_rosenbrock(method, n, max_iter):
    opt = make(method, n)
    x, f, _, its, evals, results = minimise(opt, rosenbrock, rosen_start(n), max_iter,
                                            until=lambda x, g: float((x - 1).abs().max()) < 1e-6)
    assert float((x - 1).abs().max()) < 1e-6, f"{method} n={n}: {its} iterations, f = {float(f):.3e}"
    assert opt.consecutive_failures == 0 and evals < 2 * max_iter
    assert not any(r.status == "reset" for r in results)


# ---------------------------------------------------------------------------------- robustness
@pytest.mark.parametrize("method", METHODS)
def test_nan_at_some_evaluations_does_not_end_minimisation(method):
    count = {"calls": 0, "nan": 0}

    def closure(x):
        count["calls"] += 1
        if count["calls"] % 5 == 0:  # every 5th evaluation "blows up"
            count["nan"] += 1
            return torch.tensor(math.nan, dtype=F64), torch.full_like(x, math.nan)
        return rosenbrock(x)

    opt = make(method, 2)
    x, *_ = minimise(opt, closure, rosen_start(2), 200, until=lambda x, g: float((x - 1).abs().max()) < 1e-6)
    assert count["nan"] >= 5 and float((x - 1).abs().max()) < 1e-6
    assert opt.consecutive_failures < opt.max_failures == 5


@pytest.mark.parametrize("method", METHODS)
def test_consecutive_failures_count_and_reset(method):
    broken = {"on": False}

    def closure(x):
        if broken["on"]:
            return torch.tensor(math.inf, dtype=F64), torch.full_like(x, math.nan)
        return rosenbrock(x)

    opt = make(method, 2, max_evals=8)
    x, f, g, *_ = minimise(opt, closure, rosen_start(2), 5)
    broken["on"] = True
    for k in range(1, 4):
        res = opt.step(x, f, g, closure)
        assert res.status == "reset" and res.line_search == "failed" and res.evals == 8
        assert torch.equal(res.x, x) and res.f is f and res.g is g and "x unchanged" in res.message
        assert opt.consecutive_failures == k
    if method == "lbfgs":
        assert opt.s_list == []
    else:
        assert torch.equal(opt.H, opt.gamma * torch.eye(2, dtype=F64))
    broken["on"] = False
    res = opt.step(x, f, g, closure)
    assert res.status == "ok" and opt.consecutive_failures == 0 and float(res.f) < float(f)
    nan_f = torch.tensor(math.nan, dtype=F64)
    res = opt.step(res.x, nan_f, res.g, closure)  # a non-finite start point is a failure, not an exception
    assert res.status == "reset" and res.evals == 0 and opt.consecutive_failures == 1


def test_non_descent_direction_resets_to_steepest_descent():
    opt = make("ssbroyden", 2)
    x = rosen_start(2)
    f, g = rosenbrock(x)
    state = opt.state_dict()
    state.update(H=-torch.eye(2, dtype=F64), identity=0, gamma=0.5)
    opt.load_state_dict(state)
    res = opt.step(x, f, g, rosenbrock)
    assert res.status == "reset" and res.line_search == "not_descent" and res.evals == 0
    assert opt.consecutive_failures == 1 and torch.equal(opt.H, 0.5 * torch.eye(2, dtype=F64))
    res = opt.step(x, f, g, rosenbrock)
    assert res.status == "ok" and opt.consecutive_failures == 0 and float(res.f) < float(f)


def test_periodic_check_resets_indefinite_h():
    closure = lambda x: (0.5 * (x * x).sum(), x.clone())
    opt = DenseQuasiNewton(2, method="bfgs", check_every=1)
    state = opt.state_dict()
    state.update(H=torch.diag(torch.tensor([1.0, -1e-3], dtype=F64)), identity=0, gamma=1.0)
    opt.load_state_dict(state)
    x = torch.ones(2, dtype=F64)
    res = opt.step(x, *closure(x), closure)  # still a descent direction, but the updated H is indefinite
    assert res.status == "reset" and "positive definite" in res.message and res.line_search == "strong_wolfe"
    assert opt.consecutive_failures == 0 and float(res.f) < 1.0
    assert torch.equal(opt.H, opt.gamma * torch.eye(2, dtype=F64))


@pytest.mark.parametrize("method", ["bfgs", "ssbfgs", "ssbroyden"])
def test_finiteness_bound_covers_h_and_spares_the_scan(method, monkeypatch):
    scans = []
    scan = DenseQuasiNewton._max_abs
    monkeypatch.setattr(DenseQuasiNewton, "_max_abs", lambda self: scans.append(1) or scan(self))
    opt = make(method, 10, check_every=10**6)
    f, g = rosenbrock(x := rosen_start(10))
    updates = 0
    for _ in range(60):
        res = opt.step(x, f, g, rosenbrock)
        x, f, g = res.x, res.f, res.g
        updates += res.status == "ok"
        assert opt._bound >= float(opt.H.abs().max()) * (1 - 1e-12)  # a bound, up to rounding
    assert updates >= 40 and not scans  # every update proven finite without reading H
    assert float(opt.H.abs().max()) > 2 * opt.gamma  # H has left gamma I: the bound tracked real updates


def test_non_finite_update_is_caught_and_resets_h():
    opt = DenseQuasiNewton(2, method="bfgs", initial_scale=False)
    state = opt.state_dict()
    state.update(H=torch.diag(torch.tensor([1e300, 1.0], dtype=F64)), identity=0, gamma=1.0)
    opt.load_state_dict(state)
    s, y = torch.tensor([1e-300, 1.0], dtype=F64), torch.tensor([1e10, 1.0], dtype=F64)  # y.H y overflows
    message = opt._update(s, y, float(y @ s), 1.0, torch.ones(2, dtype=F64))
    assert "non-finite entries in H" in message and torch.equal(opt.H, torch.eye(2, dtype=F64))
    opt.load_state_dict(state)
    opt._bound = 1.0  # a (wrong) small bound cannot hide a non-finite update: W itself is not finite here
    assert "non-finite entries in H" in opt._update(s, y, float(y @ s), 1.0, torch.ones(2, dtype=F64))


@pytest.mark.parametrize("method", METHODS)
def test_skipped_update_and_convergence_statuses(method):
    linear = lambda x: (-x.sum(), -torch.ones_like(x))
    opt = make(method, 3)
    x = torch.zeros(3, dtype=F64)
    res = opt.step(x, *linear(x), linear)
    assert res.status == "skipped_update" and res.line_search == "armijo_only" and float(res.f) < 0.0
    assert opt.consecutive_failures == 0 and opt.gamma == 0.0
    opt = make(method, 2, tolerance_grad=1e-8)
    x1 = torch.ones(2, dtype=F64)
    res = opt.step(x1, *rosenbrock(x1), rosenbrock)
    assert res.status == "converged" and res.evals == 0
    opt = make(method, 2, tolerance_change=1e-3)
    x, *_, results = minimise(opt, rosenbrock, rosen_start(2), 100)
    assert any(r.status == "converged" for r in results)


@pytest.mark.parametrize("method", METHODS)
def test_points_changed_keeps_curvature_unless_asked(method):
    for reset in (False, True):
        opt = make(method, 2, reset_on_points_changed=reset)
        minimise(opt, rosenbrock, rosen_start(2), 4)
        before = opt.state_dict()
        opt.points_changed()
        after = opt.state_dict()
        key = "S" if method == "lbfgs" else "H"
        assert torch.equal(before[key], after[key]) != reset


# ---------------------------------------------------------------------------------- state and memory
@pytest.mark.parametrize("method", METHODS)
def test_state_dict_resume_is_bit_for_bit(method):
    n, k, m = 6, 7, 15
    x0 = torch.tensor([-1.2, 1.0, -0.5, 0.3, 1.5, 0.0], dtype=F64)
    ref = make(method, n, check_every=10)
    *_, ref_results = minimise(ref, rosenbrock, x0, k + m)

    first = make(method, n, check_every=10)
    x, f, g, *_ = minimise(first, rosenbrock, x0, k)
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    buffer.seek(0)
    state = torch.load(buffer, weights_only=True)
    assert all(isinstance(v, (torch.Tensor, int, float, str)) for v in state.values())
    second = make(method, n, check_every=10)
    second.load_state_dict(state)
    for want in ref_results[k:]:
        res = second.step(x, f, g, rosenbrock)
        x, f, g = res.x, res.f, res.g
        assert torch.equal(x, want.x) and torch.equal(f, want.f) and torch.equal(g, want.g)
        assert (res.status, res.evals, res.alpha) == (want.status, want.evals, want.alpha)
    assert second.iteration == ref.iteration and second.state_dict().keys() == ref.state_dict().keys()


def test_load_state_dict_rejects_mismatch():
    with pytest.raises(ValueError, match="kind"):
        LBFGS(3).load_state_dict(DenseQuasiNewton(3).state_dict())
    with pytest.raises(ValueError, match="method"):
        DenseQuasiNewton(3, method="bfgs").load_state_dict(DenseQuasiNewton(3, method="ssbroyden").state_dict())


def test_memory_guard():
    assert dense_memory_bytes(1341) == 1341 * 1341 * 8
    assert dense_memory_bytes(100, torch.float32) == 100 * 100 * 4
    with pytest.raises(ValueError) as err:
        DenseQuasiNewton(100_000, method="ssbroyden")
    text = str(err.value)
    assert "100000" in text and str(100_000 * 100_000 * 8) in text and str(2 * 1024**3) in text and "lbfgs" in text
    with pytest.raises(ValueError, match="max_memory_bytes = 1000"):
        DenseQuasiNewton(20, method="bfgs", max_memory_bytes=1000)
    assert DenseQuasiNewton(20, method="bfgs", max_memory_bytes=3200).H.shape == (20, 20)


def test_invalid_options():
    with pytest.raises(ValueError, match="method"):
        DenseQuasiNewton(3, method="newton")
    with pytest.raises(ValueError, match="c1"):
        LBFGS(3, c1=0.5, c2=0.1)
    with pytest.raises(ValueError, match="shape"):
        LBFGS(3).step(torch.zeros(2, dtype=F64), torch.zeros((), dtype=F64), torch.zeros(2, dtype=F64), rosenbrock)


def test_all_finite_is_exact_even_when_the_sum_overflows():
    from pinn_mrepu.optim.base import all_finite

    big = torch.full((50, 50), 1e308, dtype=F64)  # every entry finite, their sum overflows to inf
    assert all_finite(big, torch.ones(3), torch.empty(0))
    for bad in (math.inf, -math.inf, math.nan):
        for dtype in (F64, torch.float32):
            t = torch.zeros(40, 40, dtype=dtype)
            t[17, 23] = bad
            assert not all_finite(torch.ones(2), t)
            big[3, 4] = bad
            assert not all_finite(big)
            big[3, 4] = 1e308
    mixed = torch.tensor([1e308, 1e308, -math.inf], dtype=F64)
    assert not all_finite(mixed)


def test_dense_update_benchmark_compares_equal_updates(capsys):
    """benchmarks/dense_update.py times two implementations of the same SSBroyden iteration: they must agree."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "benchmarks" / "dense_update.py"
    spec = importlib.util.spec_from_file_location("_bench_dense_update", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    H1, a, g = bench.problem(60)
    H2 = H1.clone()
    for _ in range(4):
        assert bench.rank_one_iteration(H1, a, g) and bench.fused_iteration(H2, a, g)
    assert float((H1 - torch.eye(60, dtype=F64)).abs().max()) > 1e-2  # the updates did something
    # same formulas, different rounding (amplified by the growing condition number of H)
    assert float((H1 - H2).abs().max()) <= 1e-10 * float(H1.abs().max())
    bench.main(["--sizes", "40", "--iterations", "2", "--repeats", "1"])
    assert "| 40 |" in capsys.readouterr().out
