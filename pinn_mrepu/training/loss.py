"""The PINN loss: weighted mean squares of the PDE residual and of each condition's residual.

    L(θ) = Σ_e w_e · mean_i r_e(x_i)² + Σ_c w_c · mean_j r_c(x_j)²

over the problem's equations e (one, ``residual``, for a built-in ``pde:``) and conditions c.

:class:`PointSet` holds the sampled collocation points (interior + one batch per condition) and knows how to
redraw them reproducibly; :class:`PINNLoss` evaluates the terms through a derivative engine.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch

from pinn_mrepu.derivatives import compute_fields, compute_fields_many
from pinn_mrepu.physics import ConditionBatch, Problem

__all__ = ["PointSet", "PINNLoss", "sample_points"]


@dataclass
class PointSet:
    """Collocation points: ``interior (N, d)`` (sampled plus adaptively ``added``) and one batch per condition."""

    interior: torch.Tensor
    conditions: dict[str, ConditionBatch]
    added: torch.Tensor | None = None

    def all_interior(self) -> torch.Tensor:
        return self.interior if self.added is None else torch.cat([self.interior, self.added])

    def state_dict(self) -> dict:
        return {"interior": self.interior, "added": self.added,
                "conditions": {k: (b.points, b.data) for k, b in self.conditions.items()}}

    @classmethod
    def from_state_dict(cls, state: Mapping, device, dtype) -> "PointSet":
        conds = {k: ConditionBatch(p, d).to(device, dtype) for k, (p, d) in state["conditions"].items()}
        added = None if state["added"] is None else state["added"].to(device, dtype)
        return cls(state["interior"].to(device, dtype), conds, added)


def sample_points(problem: Problem, counts: Mapping[str, int], *, sampler: str, seed: int, round: int,
                  device, dtype) -> PointSet:
    """Draw interior and condition points for resampling round ``round`` (reproducible from ``seed``).

    Args:
        counts: ``{"interior": N, "boundary": M, "initial": K}``; each condition draws from its part's budget
            (split evenly when several conditions share a part).
    """
    pts = problem.domain.sample_interior(counts["interior"], sampler=sampler, seed=seed, tag=(round,))
    interior = torch.as_tensor(pts, dtype=dtype, device=device)
    by_part: dict[str, int] = {}
    for cond in problem.conditions.values():
        by_part[cond.part] = by_part.get(cond.part, 0) + 1
    batches = {}
    for k, (name, cond) in enumerate(problem.conditions.items()):
        n = max(1, counts[cond.part] // by_part[cond.part])
        batches[name] = cond.sample(problem.domain, n, sampler=sampler, seed=seed, tag=(round, k + 10),
                                    dtype=dtype, device=device)
    return PointSet(interior, batches)


@dataclass
class PINNLoss:
    """Loss terms of a problem for a model, through the derivative engine ``engine``.

    Args:
        problem: the problem (PDE residual + conditions).
        weights: ``{term: weight}``; missing terms weigh 1.
        engine: derivative engine name (``autograd`` or ``taylor``).
    """

    problem: Problem
    weights: Mapping[str, float] = field(default_factory=dict)
    engine: str = "autograd"

    def __post_init__(self):
        self.pde_fields = self.problem.fields
        self.condition_fields = {n: c.fields(self.problem.domain) for n, c in self.problem.conditions.items()}
        self.w = {t: float(self.weights.get(t, 1.0)) for t in self.problem.loss_terms}

    def residual(self, model: torch.nn.Module, points: torch.Tensor, *, create_graph: bool = True) -> torch.Tensor:
        """Equation residuals ``(N, n_equations)`` at ``points (N, d)`` (one column per equation, in order)."""
        f = compute_fields(model, points, self.pde_fields, variables=self.problem.variables,
                           outputs=self.problem.outputs, engine=self.engine, create_graph=create_graph)
        return torch.cat([eq(f, points) for eq in self.problem.equations.values()], dim=1)

    def terms(self, model: torch.nn.Module, points: PointSet) -> dict[str, torch.Tensor]:
        """``{term: mean square}`` (scalar tensors with graph) for the residual and every condition."""
        interior = points.all_interior()
        conds = self.problem.conditions
        requests = [(interior, self.pde_fields)]
        requests += [(points.conditions[name].points, self.condition_fields[name]) for name in conds]
        fields = compute_fields_many(model, requests, variables=self.problem.variables, outputs=self.problem.outputs,
                                     engine=self.engine)
        out = {name: eq(fields[0], interior).square().mean() for name, eq in self.problem.equations.items()}
        for (name, cond), f in zip(conds.items(), fields[1:]):
            out[name] = cond.residual(f, points.conditions[name]).square().mean()
        return out

    def total(self, terms: Mapping[str, torch.Tensor]) -> torch.Tensor:
        """Weighted sum of the terms."""
        return sum(self.w[k] * v for k, v in terms.items())
