"""Boundary and initial conditions.

Each condition knows where its points live, which derivative fields it needs and its residual (zero when the
condition holds):

==========  =====================================  ==========================================
type        points                                 residual
==========  =====================================  ==========================================
dirichlet   chosen faces x time                    f - g   (f = u, or any field, e.g. u_x)
neumann     chosen faces x time                    du/dn - g   (outward normal n)
periodic    face ``v_min`` paired with ``v_max``   [u(min) - u(max); u_v(min) - u_v(max)] per output
initial     t = t0                                 f - g   (f = u, or a derivative such as u_t)
operator    chosen faces x time                    any expression over fields (e.g. u_x + u - 1)
==========  =====================================  ==========================================

Targets ``g`` are :class:`~pinn_mrepu.config.Expression` objects over the domain's coordinates and are
evaluated once per sampled batch; ``f`` names the constrained field (an output or a derivative of one).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from .domains import Domain, Face

__all__ = ["Condition", "ConditionBatch", "Dirichlet", "Neumann", "Periodic", "Initial", "Operator", "CONDITIONS"]


@dataclass
class ConditionBatch:
    """Sampled points of one condition: ``points (M, d)`` plus precomputed per-point data (targets, normals)."""

    points: torch.Tensor
    data: dict[str, torch.Tensor] = field(default_factory=dict)

    def to(self, device: torch.device | str, dtype: torch.dtype) -> "ConditionBatch":
        return ConditionBatch(self.points.to(device, dtype), {k: v.to(device, dtype) for k, v in self.data.items()})


class Condition(ABC):
    """One boundary or initial condition.

    Attributes:
        name: the label used for its loss term and weight (e.g. ``initial``, ``boundary``).
        part: which point budget it draws from: ``"boundary"`` or ``"initial"``.
    """

    name: str
    part: str

    @abstractmethod
    def fields(self, domain: Domain) -> tuple[str, ...]:
        """Derivative field names the residual needs."""

    @abstractmethod
    def sample_numpy(self, domain: Domain, n: int, *, sampler: str, seed: int, tag: Sequence[int]) -> dict[str, np.ndarray]:
        """``{"points": (M, d), ...}`` float64 arrays."""

    @abstractmethod
    def residual(self, f: Mapping[str, torch.Tensor], batch: ConditionBatch) -> torch.Tensor:
        """``(M', 1)`` residual from the fields at ``batch.points``."""

    def sample(self, domain: Domain, n: int, *, sampler: str, seed: int, tag: Sequence[int] = (),
               dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu") -> ConditionBatch:
        """Sample ``n`` points (see :meth:`sample_numpy`) as tensors on ``device``."""
        arrays = self.sample_numpy(domain, n, sampler=sampler, seed=seed, tag=tag)
        pts = torch.as_tensor(arrays.pop("points"), dtype=dtype, device=device)
        return ConditionBatch(pts, {k: torch.as_tensor(v, dtype=dtype, device=device) for k, v in arrays.items()})


def _faces(domain: Domain, on: Sequence[str] | str) -> tuple[Face, ...]:
    if on == "boundary" or on == ("boundary",) or on == ["boundary"]:
        return domain.faces
    names = [on] if isinstance(on, str) else list(on)
    return tuple(domain.face(n) for n in names)


class _TargetCondition(Condition):
    def __init__(self, value, *, name: str):
        self.value = value
        self.name = name

    def _with_target(self, points: np.ndarray, **extra: np.ndarray) -> dict[str, np.ndarray]:
        return {"points": points, "target": self.value.numpy(points).reshape(-1, 1), **extra}


class Dirichlet(_TargetCondition):
    """f = g on the faces ``on`` (``"boundary"`` for all, or names like ``["x_min", "x_max"]``); ``field`` is
    the constrained field, ``u`` by default (an output name, or a derivative such as ``u_x``)."""

    part = "boundary"

    def __init__(self, value, *, on: Sequence[str] | str = "boundary", name: str = "boundary", field: str = "u"):
        super().__init__(value, name=name)
        self.on = on
        self.field = field

    def fields(self, domain: Domain) -> tuple[str, ...]:
        return (self.field,)

    def sample_numpy(self, domain, n, *, sampler, seed, tag):
        pts, _ = domain.sample_faces(n, _faces(domain, self.on), sampler=sampler, seed=seed, tag=tag)
        return self._with_target(pts)

    def residual(self, f, batch):
        return f[self.field] - batch.data["target"]


class Neumann(_TargetCondition):
    """d(output)/dn = g on the faces ``on``, n the outward unit normal."""

    part = "boundary"

    def __init__(self, value, *, space_names: Sequence[str], on: Sequence[str] | str = "boundary",
                 name: str = "boundary", output: str = "u"):
        super().__init__(value, name=name)
        self.on = on
        self.grad_names = tuple(f"{output}_{v}" for v in space_names)

    def fields(self, domain: Domain) -> tuple[str, ...]:
        return self.grad_names

    def sample_numpy(self, domain, n, *, sampler, seed, tag):
        pts, normals = domain.sample_faces(n, _faces(domain, self.on), sampler=sampler, seed=seed, tag=tag)
        return self._with_target(pts, normals=normals)

    def residual(self, f, batch):
        grad = torch.cat([f[k] for k in self.grad_names], dim=1)
        return (grad * batch.data["normals"]).sum(dim=1, keepdim=True) - batch.data["target"]


class Periodic(Condition):
    """Each of ``outputs`` and its first derivative along ``variable`` agree on the faces ``variable_min`` and
    ``variable_max``."""

    part = "boundary"

    def __init__(self, variable: str, *, name: str = "boundary", outputs: Sequence[str] = ("u",)):
        self.variable = variable
        self.name = name
        self.outputs = tuple(outputs)

    def fields(self, domain: Domain) -> tuple[str, ...]:
        return tuple(name for o in self.outputs for name in (o, f"{o}_{self.variable}"))

    def sample_numpy(self, domain, n, *, sampler, seed, tag):
        lo_face = domain.face(f"{self.variable}_min")
        lo, _ = domain.sample_faces(max(1, n // 2), [lo_face], sampler=sampler, seed=seed, tag=tag)
        hi = lo.copy()
        hi[:, lo_face.axis] = domain.upper[lo_face.axis]
        return {"points": np.concatenate([lo, hi])}

    def residual(self, f, batch):
        m = batch.points.shape[0] // 2
        names = self.fields(None)
        return torch.cat([f[k][:m] - f[k][m:] for k in names])


class Initial(_TargetCondition):
    """f(x, t0) = g(x), with ``field`` f = ``u`` by default (or a time derivative such as ``u_t``)."""

    part = "initial"

    def __init__(self, value, *, name: str = "initial", field: str = "u"):
        super().__init__(value, name=name)
        self.field = field

    def fields(self, domain: Domain) -> tuple[str, ...]:
        return (self.field,)

    def sample_numpy(self, domain, n, *, sampler, seed, tag):
        return self._with_target(domain.sample_initial(n, sampler=sampler, seed=seed, tag=tag))

    def residual(self, f, batch):
        return f[self.field] - batch.data["target"]


class Operator(Condition):
    """``expression(fields, x) = 0`` on the faces ``on``: any condition written over derivative fields, e.g. a
    Robin condition ``u_x + u - 1``; ``expression`` is an :class:`~pinn_mrepu.config.Expression` that reads
    fields (its :attr:`fields_used`)."""

    part = "boundary"

    def __init__(self, expression, *, on: Sequence[str] | str = "boundary", name: str = "boundary"):
        self.expression = expression
        self.on = on
        self.name = name

    def fields(self, domain: Domain) -> tuple[str, ...]:
        return tuple(self.expression.fields_used)

    def sample_numpy(self, domain, n, *, sampler, seed, tag):
        pts, _ = domain.sample_faces(n, _faces(domain, self.on), sampler=sampler, seed=seed, tag=tag)
        return {"points": pts}

    def residual(self, f, batch):
        return self.expression(batch.points, f)


CONDITIONS = {"dirichlet": Dirichlet, "neumann": Neumann, "periodic": Periodic, "initial": Initial,
              "operator": Operator}
