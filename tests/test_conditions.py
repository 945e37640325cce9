"""Boundary and initial conditions: zero residual for exact data, non-zero for wrong data, point placement."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinn_mrepu.physics.conditions import CONDITIONS, ConditionBatch, Dirichlet, Initial, Neumann, Operator, Periodic
from pinn_mrepu.derivatives import compute_fields
from pinn_mrepu.physics.domains import Domain, Interval, Rectangle
from pinn_mrepu.config.expressions import parse_expression

F64 = torch.float64


class Fn(torch.nn.Module):
    """u(points) given by a torch function of the columns; maps (N, d) to (N, 1)."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, p):
        return self.fn(*p.unbind(dim=1)).unsqueeze(1)


def _residual(cond, domain, model, n=40, sampler="sobol", seed=0):
    batch = cond.sample(domain, n, sampler=sampler, seed=seed, dtype=F64)
    f = compute_fields(model, batch.points, cond.fields(domain), variables=domain.variables)
    res = cond.residual(f, batch)
    assert res.ndim == 2 and res.shape[1] == 1
    return batch, res


def test_registry():
    assert CONDITIONS == {"dirichlet": Dirichlet, "neumann": Neumann, "periodic": Periodic, "initial": Initial,
                          "operator": Operator}


@pytest.mark.parametrize("sampler", ["uniform", "sobol", "halton", "lhs"])
def test_dirichlet_exact_data_has_zero_residual(sampler):
    domain = Domain(Interval("x", -1.0, 2.0), (0.0, 1.5))
    g = parse_expression("sin(pi*x)*exp(-t) + x**2*t", variables=domain.variables)
    model = Fn(lambda x, t: torch.sin(math.pi * x) * torch.exp(-t) + x**2 * t)
    cond = Dirichlet(g)
    assert cond.part == "boundary" and cond.name == "boundary" and cond.fields(domain) == ("u",)
    batch, res = _residual(cond, domain, model, sampler=sampler)
    assert batch.points.shape == (40, 2) and batch.data["target"].shape == (40, 1)
    assert set(batch.points[:, 0].tolist()) == {-1.0, 2.0}
    assert res.abs().max().item() <= 1e-14
    # a different function does not satisfy it
    _, wrong = _residual(cond, domain, Fn(lambda x, t: x**2 * t + 0.1), sampler=sampler)
    assert wrong.abs().max().item() > 0.05


def test_dirichlet_on_named_faces_only():
    domain = Domain(Rectangle([Interval("x", 0.0, 1.0), Interval("y", 0.0, 2.0)]))
    cond = Dirichlet(parse_expression("x*y", variables=domain.variables), on=["x_max", "y_min"], name="walls")
    batch, res = _residual(cond, domain, Fn(lambda x, y: x * y), n=30)
    p = batch.points
    assert torch.all((p[:, 0] == 1.0) | (p[:, 1] == 0.0))
    assert torch.any(p[:, 0] == 1.0) and torch.any(p[:, 1] == 0.0)
    assert res.abs().max().item() <= 1e-15
    single = Dirichlet(parse_expression(0, variables=domain.variables), on="y_max")
    assert torch.all(single.sample(domain, 8, sampler="uniform", seed=0).points[:, 1] == 2.0)


U2 = lambda x, y: torch.sin(x) * torch.cos(y)  # noqa: E731
# du/dn = grad u . n on each face of [0, 1] x [0, 2], n outward:
#   x_min (x=0, n=-e_x): -cos(0) cos(y);  x_max (x=1, n=+e_x): cos(1) cos(y)
#   y_min (y=0, n=-e_y): sin(x) sin(0) = 0;  y_max (y=2, n=+e_y): -sin(x) sin(2)
NEUMANN_TARGETS = {"x_min": "-cos(y)", "x_max": "cos(1)*cos(y)", "y_min": "0", "y_max": "-sin(x)*sin(2)"}


@pytest.mark.parametrize("face, target", list(NEUMANN_TARGETS.items()))
def test_neumann_exact_normal_derivative_has_zero_residual(face, target):
    domain = Domain(Rectangle([Interval("x", 0.0, 1.0), Interval("y", 0.0, 2.0)]))
    g = parse_expression(target, variables=domain.variables)
    cond = Neumann(g, space_names=("x", "y"), on=[face])
    assert cond.fields(domain) == ("u_x", "u_y")
    batch, res = _residual(cond, domain, Fn(U2), n=25)
    assert batch.data["normals"].shape == (25, 2)
    assert res.abs().max().item() <= 1e-14


def test_neumann_sign_uses_outward_normal():
    """The inward derivative (+u_x on x_min) is not the Neumann datum: the residual is 2 cos(y) there."""
    domain = Domain(Rectangle([Interval("x", 0.0, 1.0), Interval("y", 0.0, 2.0)]))
    cond = Neumann(parse_expression("cos(y)", variables=domain.variables), space_names=("x", "y"), on=["x_min"])
    batch, res = _residual(cond, domain, Fn(U2), n=25)
    torch.testing.assert_close(res, -2.0 * torch.cos(batch.points[:, 1:2]), rtol=1e-13, atol=1e-14)


def test_neumann_all_faces_time_dependent():
    """u = exp(-t) (x^2 + y^2) on [-1, 1]^2 x [0, 1]: du/dn = 2 exp(-t) on every face (|x| = 1 or |y| = 1)."""
    domain = Domain(Rectangle([Interval("x", -1.0, 1.0), Interval("y", -1.0, 1.0)]), (0.0, 1.0))
    cond = Neumann(parse_expression("2*exp(-t)", variables=domain.variables), space_names=("x", "y"))
    assert cond.fields(domain) == ("u_x", "u_y")  # spatial gradient only, no u_t
    batch, res = _residual(cond, domain, Fn(lambda x, y, t: torch.exp(-t) * (x**2 + y**2)), n=64)
    assert batch.points.shape == (64, 3)
    assert res.abs().max().item() <= 1e-14


def test_periodic_pairs_points_and_vanishes_for_periodic_functions():
    domain = Domain(Rectangle([Interval("x", 0.0, 2.0), Interval("y", -1.0, 1.0)]), (0.0, 1.0))
    cond = Periodic("x")
    assert cond.fields(domain) == ("u", "u_x")
    periodic = Fn(lambda x, y, t: torch.sin(math.pi * x + t) * torch.cos(y) + torch.cos(math.pi * x) * y**3)
    batch, res = _residual(cond, domain, periodic, n=40)
    p = batch.points
    m = p.shape[0] // 2
    assert m == 20 and res.shape == (40, 1)
    assert torch.all(p[:m, 0] == 0.0) and torch.all(p[m:, 0] == 2.0)
    torch.testing.assert_close(p[:m, 1:], p[m:, 1:], rtol=0, atol=0)  # same y and t
    assert res.abs().max().item() <= 1e-13
    # x (2 - x): equal values (0) at both ends but slopes +2 and -2, so only the derivative rows are non-zero
    _, res2 = _residual(cond, domain, Fn(lambda x, y, t: x * (2 - x) * (1 + y**2)), n=40)
    assert res2[:20].abs().max().item() <= 1e-15
    torch.testing.assert_close(res2[20:], 4.0 * (1 + p[:20, 1:2] ** 2), rtol=1e-13, atol=1e-13)


def test_periodic_detects_non_periodic_values():
    domain = Domain(Interval("x", 0.0, 1.0), (0.0, 1.0))
    _, res = _residual(Periodic("x"), domain, Fn(lambda x, t: x + t), n=10)
    torch.testing.assert_close(res[:5], torch.full((5, 1), -1.0, dtype=F64))  # u(0) - u(1) = -1
    assert torch.all(res[5:] == 0.0)  # u_x = 1 on both sides


@pytest.mark.parametrize("sampler", ["uniform", "sobol"])
def test_initial_condition_at_t0(sampler):
    domain = Domain(Interval("x", -1.0, 1.0), (0.25, 1.0))
    cond = Initial(parse_expression("-sin(pi*x)", variables=domain.variables))
    assert cond.part == "initial" and cond.name == "initial"
    exact = Fn(lambda x, t: -torch.sin(math.pi * x) * torch.exp(-(t - 0.25)) + (t - 0.25) ** 2)
    batch, res = _residual(cond, domain, exact, n=33, sampler=sampler)
    assert batch.points.shape == (33, 2) and torch.all(batch.points[:, 1] == 0.25)
    assert res.abs().max().item() <= 1e-15
    # the same function is not the initial value at a later time
    _, late = _residual(cond, domain, Fn(lambda x, t: -torch.sin(math.pi * x) + t), n=33, sampler=sampler)
    torch.testing.assert_close(late, torch.full((33, 1), 0.25, dtype=F64), rtol=1e-14, atol=1e-15)


def test_steady_1d_dirichlet_uses_both_ends():
    domain = Domain(Interval("x", -1.0, 1.0))
    cond = Dirichlet(parse_expression("x**3", variables=("x",)))
    batch, res = _residual(cond, domain, Fn(lambda x: x**3), n=2)
    assert batch.points.flatten().tolist() == [-1.0, 1.0]
    assert batch.data["target"].flatten().tolist() == [-1.0, 1.0]
    assert res.abs().max().item() == 0.0


def test_batch_dtype_device_and_reproducibility():
    domain = Domain(Interval("x", 0.0, 1.0), (0.0, 1.0))
    cond = Dirichlet(parse_expression("x+t", variables=domain.variables))
    a = cond.sample(domain, 16, sampler="halton", seed=4, tag=(1,))
    b = cond.sample(domain, 16, sampler="halton", seed=4, tag=(1,))
    c = cond.sample(domain, 16, sampler="halton", seed=4, tag=(2,))
    assert a.points.dtype == F64
    torch.testing.assert_close(a.points, b.points, rtol=0, atol=0)
    assert not torch.equal(a.points, c.points)
    a32 = a.to("cpu", torch.float32)
    assert isinstance(a32, ConditionBatch) and a32.points.dtype == torch.float32
    assert a32.data["target"].dtype == torch.float32
    np.testing.assert_allclose(a.data["target"].numpy().ravel(), a.points.sum(1).numpy(), rtol=1e-15)
