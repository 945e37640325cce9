"""The problem zoo: every analytic exact solution solves its own YAML equations and conditions (float64, through
the package's engines), a deliberately wrong equation does not, and solve/compare run on every file."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from pinn_mrepu import PINNSolver
from pinn_mrepu.cli.main import main
from pinn_mrepu.config import parse_expression
from pinn_mrepu.derivatives import compute_fields
from pinn_mrepu.physics import build_problem
from pinn_mrepu.validation import load_config

F64 = torch.float64
ANALYTIC = ["wave", "kdv", "advection", "helmholtz2d", "biharmonic2d", "kovasznay"]
ZOO = [*ANALYTIC, "allen_cahn"]
TINY = ["network.width=6", "network.depth=2", "train.points.interior=64", "train.points.boundary=16",
        "train.points.initial=16", "train.phases=[{optimizer: adam, steps: 3}, {optimizer: lbfgs, steps: 2}]",
        "train.resample.every=0", "evaluate.monitor_every=0", "evaluate.residual_points=64"]


class ExactModule(torch.nn.Module):
    """The exact solution (one expression per output) as a model ``(N, d) -> (N, n_outputs)``."""

    def __init__(self, exprs):
        super().__init__()
        self.exprs = exprs

    def forward(self, p):
        return torch.cat([e(p) for e in self.exprs], dim=1)


def _exact_model(cfg, problem):
    raw = cfg.problem.exact
    texts = [raw[o] for o in problem.outputs] if isinstance(raw, dict) else [raw]
    return ExactModule([parse_expression(t, variables=problem.variables, params=problem.params) for t in texts])


def _load(problems_dir, name):
    cfg = load_config(problems_dir / f"{name}.yaml")
    return cfg, build_problem(cfg.problem, cfg.name)


def _max_residuals(problem, model, equations, n=128):
    pts = torch.as_tensor(problem.domain.sample_interior(n, sampler="uniform", seed=3), dtype=F64)
    names = {f for eq in equations.values() for f in eq.fields}
    f = compute_fields(model, pts, names, variables=problem.variables, outputs=problem.outputs, engine="autograd")
    return {k: eq(f, pts).abs().max().item() for k, eq in equations.items()}


@pytest.mark.parametrize("name", ANALYTIC)
def test_exact_solution_solves_the_equations_and_conditions(problems_dir, name):
    cfg, problem = _load(problems_dir, name)
    model = _exact_model(cfg, problem)
    for eq, r in _max_residuals(problem, model, problem.equations).items():
        assert r <= 1e-8, (eq, r)
    for cname, cond in problem.conditions.items():
        batch = cond.sample(problem.domain, 64, sampler="uniform", seed=1)
        f = compute_fields(model, batch.points, cond.fields(problem.domain), variables=problem.variables,
                           outputs=problem.outputs, engine="autograd")
        assert cond.residual(f, batch).abs().max().item() <= 1e-8, cname
    # the same exact solution through the numpy path (metrics) agrees with the torch path
    pts = problem.domain.sample_interior(50, sampler="uniform", seed=2)
    np.testing.assert_allclose(problem.exact_values(pts), model(torch.as_tensor(pts)).detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("name", ANALYTIC)
def test_a_wrong_equation_is_not_solved(problems_dir, name):
    """Each equation with one more term (0.1 times its first field) has a clearly nonzero residual."""
    cfg, problem = _load(problems_dir, name)
    raw = dict(cfg.problem.equations)
    ename = next(iter(raw))
    first = problem.equations[ename].fields[0]
    raw[ename] = f"({raw[ename]}) + 0.1*{first}"
    wrong = build_problem(type(cfg.problem)(**{**vars(cfg.problem), "equations": raw}), name)
    r = _max_residuals(problem, _exact_model(cfg, problem), wrong.equations)
    assert r[ename] > 1e-2, r


@pytest.mark.parametrize("name", ZOO)
def test_every_zoo_file_solves_and_compares_on_a_tiny_budget(problems_dir, name, tmp_path):
    sets = [a for item in TINY for a in ("--set", item)]
    out = tmp_path / "run"
    assert main(["solve", str(problems_dir / f"{name}.yaml"), *sets, "--out", str(out), "--quiet"]) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert np.isfinite(metrics["rel_l2"]) and metrics["steps"] == 5
    problem = _load(problems_dir, name)[1]
    if len(problem.outputs) > 1:
        assert set(metrics["per_output"]) == set(problem.outputs)
    sweep = tmp_path / "sweep"
    sets = [a for item in TINY if not item.startswith("network.depth") for a in ("--set", item)]
    assert main(["compare", str(problems_dir / f"{name}.yaml"), "--activations", "tanh,mrepu", "--depths", "2",
                 "--seeds", "0", *sets, "--out", str(sweep), "--quiet", "--no-figures"]) == 0
    assert (sweep / "summary.csv").read_text().count("done") == 2


def test_python_residual_matches_the_yaml_equation(problems_dir):
    """A residual callable passed to PINNSolver trains exactly like the same equation written in YAML."""
    cfg = load_config(problems_dir / "wave.yaml", TINY)
    c = cfg.problem.params["c"]
    data = cfg.to_dict()
    data["problem"]["equations"] = None
    solver = PINNSolver(data, equations={"wave": lambda f, x: f["u_tt"] - c**2 * f["u_xx"]})
    assert solver.problem.equations["wave"].fields == ("u_tt", "u_xx")
    reference = PINNSolver(load_config(problems_dir / "wave.yaml", TINY))
    a, b = solver.train(), reference.train()
    assert a.status == b.status == "done"
    assert solver.trainer.history[-1]["loss"] == pytest.approx(reference.trainer.history[-1]["loss"], rel=1e-10)
