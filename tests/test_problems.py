"""Problem files: their exact solutions satisfy the PDE and every condition (float64, through the engine)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pinn_mrepu.validation import load_config
from pinn_mrepu.derivatives import compute_fields
from pinn_mrepu.config.expressions import parse_expression
from pinn_mrepu.physics.pdes import PDES, Burgers, Heat, Poisson, get_pde
from pinn_mrepu.physics.problem import build_problem

F64 = torch.float64
GLOROT = ["network.init=glorot_normal"]  # keep these tests independent of the critical-init machinery
EXPRESSION_PROBLEMS = ["heat", "poisson1d", "poisson2d"]


class ExactModule(torch.nn.Module):
    """The exact-solution Expression as a model (N, d) -> (N, 1), so the derivative engine can differentiate it."""

    def __init__(self, expr, scale=1.0):
        super().__init__()
        self.expr, self.scale = expr, scale

    def forward(self, p):
        return self.scale * self.expr(p)


def _load(problems_dir, name, overrides=()):
    cfg = load_config(problems_dir / f"{name}.yaml", [*GLOROT, *overrides])
    return cfg, build_problem(cfg.problem, cfg.name)


def _exact_module(cfg, problem, scale=1.0):
    expr = parse_expression(cfg.problem.exact, variables=problem.variables, params=problem.pde.params)
    return ExactModule(expr, scale)


def _pde_residual(problem, model, n=64, seed=0):
    pts = torch.as_tensor(problem.domain.sample_interior(n, sampler="uniform", seed=seed), dtype=F64)
    f = compute_fields(model, pts, problem.pde.fields(), variables=problem.variables)
    res = problem.pde.residual(f, pts)
    assert res.shape == (n, 1)
    return res


@pytest.mark.parametrize("name", EXPRESSION_PROBLEMS)
def test_exact_solution_has_zero_pde_residual(problems_dir, name):
    cfg, problem = _load(problems_dir, name)
    res = _pde_residual(problem, _exact_module(cfg, problem))
    assert res.abs().max().item() <= 1e-8
    # and the check has teeth: a scaled copy of the solution does not solve the (forced / initial-value) problem
    wrong = _pde_residual(problem, _exact_module(cfg, problem, scale=1.1))
    if name != "heat":  # heat is homogeneous and linear: 1.1 u still solves the PDE (but not the initial condition)
        assert wrong.abs().max().item() > 0.1


@pytest.mark.parametrize("name", EXPRESSION_PROBLEMS)
@pytest.mark.parametrize("sampler", ["sobol", "uniform"])
def test_exact_solution_satisfies_every_condition(problems_dir, name, sampler):
    cfg, problem = _load(problems_dir, name)
    model = _exact_module(cfg, problem)
    assert problem.conditions
    for cname, cond in problem.conditions.items():
        batch = cond.sample(problem.domain, 48, sampler=sampler, seed=1)
        f = compute_fields(model, batch.points, cond.fields(problem.domain), variables=problem.variables)
        res = cond.residual(f, batch)
        assert res.numel() > 0
        assert res.abs().max().item() <= 1e-10, f"{name}.{cname}"
    if "initial" in problem.conditions:
        cond = problem.conditions["initial"]
        batch = cond.sample(problem.domain, 48, sampler=sampler, seed=1)
        scaled = _exact_module(cfg, problem, scale=1.1)
        f = compute_fields(scaled, batch.points, cond.fields(problem.domain), variables=problem.variables)
        assert cond.residual(f, batch).abs().max().item() > 0.05


@pytest.mark.parametrize("name", EXPRESSION_PROBLEMS)
def test_numpy_exact_matches_expression(problems_dir, name):
    cfg, problem = _load(problems_dir, name)
    pts = problem.domain.sample_interior(20, sampler="halton", seed=0)
    want = _exact_module(cfg, problem)(torch.as_tensor(pts)).numpy().ravel()
    np.testing.assert_allclose(problem.exact(pts), want, rtol=0, atol=0)


def test_problem_structure(problems_dir):
    expected = {
        "burgers": (Burgers, ("x", "t"), ("residual", "initial", "boundary"), ("u", "u_t", "u_x", "u_xx")),
        "heat": (Heat, ("x", "t"), ("residual", "initial", "boundary"), ("u_t", "u_xx")),
        "poisson1d": (Poisson, ("x",), ("residual", "boundary"), ("u_xx",)),
        "poisson2d": (Poisson, ("x", "y"), ("residual", "boundary"), ("u_xx", "u_yy")),
    }
    for name, (cls, variables, terms, fields) in expected.items():
        cfg, problem = _load(problems_dir, name)
        assert problem.name == name and isinstance(problem.pde, cls)
        assert problem.variables == variables and problem.loss_terms == terms
        assert problem.pde.fields() == fields
        assert problem.exact is not None
    assert PDES == {"poisson": Poisson, "heat": Heat, "burgers": Burgers}
    assert get_pde("heat") is Heat


def test_residual_formulas_on_synthetic_fields():
    """Residuals as plain functions of named fields (no autograd), checked against the written equations."""
    g = torch.Generator().manual_seed(0)
    f = {k: torch.randn(7, 1, generator=g, dtype=F64) for k in ("u", "u_t", "u_x", "u_xx", "u_yy")}
    pts = torch.rand(7, 3, generator=g, dtype=F64)
    b = Burgers({"nu": 0.3})
    torch.testing.assert_close(b.residual(f, pts), f["u_t"] + f["u"] * f["u_x"] - 0.3 * f["u_xx"])
    h = Heat({"alpha": 0.4}, space=("x", "y"))
    torch.testing.assert_close(h.residual(f, pts), f["u_t"] - 0.4 * (f["u_xx"] + f["u_yy"]))
    src = parse_expression("x*y", variables=("x", "y", "t"))
    p = Poisson(space=("x", "y"), source=src)
    torch.testing.assert_close(p.residual(f, pts), -(f["u_xx"] + f["u_yy"]) - pts[:, :1] * pts[:, 1:2])


def test_burgers_reference_satisfies_conditions(problems_dir):
    cfg, problem = _load(problems_dir, "burgers")
    nu = problem.pde.params["nu"]
    assert nu == pytest.approx(0.01 / np.pi, rel=1e-15)
    init = problem.conditions["initial"].sample_numpy(problem.domain, 64, sampler="sobol", seed=0, tag=())
    np.testing.assert_allclose(problem.exact(init["points"]), init["target"].ravel(), rtol=0, atol=1e-13)
    bnd = problem.conditions["boundary"].sample_numpy(problem.domain, 64, sampler="sobol", seed=0, tag=())
    assert set(np.unique(bnd["points"][:, 0])) == {-1.0, 1.0}
    np.testing.assert_allclose(problem.exact(bnd["points"]), 0.0, atol=1e-12)


def test_burgers_reference_finite_difference_residual(problems_dir):
    """Central differences of the reference at t = 0.2: the residual is O(h^2) (small, and 4x smaller per halving)."""
    cfg, problem = _load(problems_dir, "burgers")
    nu, t = problem.pde.params["nu"], 0.2
    x = np.linspace(-0.9, 0.9, 37)

    def residual(h):
        u = lambda dx, dt: problem.exact(np.stack([x + dx, np.full_like(x, t + dt)], axis=1))  # noqa: E731
        u0 = u(0, 0)
        ut = (u(0, h) - u(0, -h)) / (2 * h)
        ux = (u(h, 0) - u(-h, 0)) / (2 * h)
        uxx = (u(h, 0) - 2 * u0 + u(-h, 0)) / h**2
        return np.abs(ut + u0 * ux - nu * uxx).max(), np.abs(ut).max()

    r1, scale = residual(2e-3)
    r2, _ = residual(1e-3)
    assert scale > 1.0  # the terms are O(1) ...
    assert r2 <= 2e-4  # ... and cancel to 1e-4
    assert 3.0 <= r1 / r2 <= 5.0  # second-order convergence of the residual to zero
