"""Load-time finiteness checks: every number the loss will use must be finite before training starts.

:func:`check_finite` evaluates, in float64, on a modest sample of points:

- the domain's extents (finite, and the input normalisation ``2 / (upper - lower)`` finite);
- each equation's non-field part (the source): the residual with every field set to 0 and to 0.7 — a point
  where both are non-finite is non-finite whatever the network (a ``1/u`` term alone is not flagged);
- each condition's residual the same way (its target values, normals, operator expression) on its own points;
- the exact solution and ``network.output_transform`` on the interior sample and (a subset of) the grid.

A non-finite value, or one beyond the training dtype's range, is a
:class:`~pinn_mrepu.errors.ConfigError` naming the field and a point where it happens.  Python residuals passed
to the solver are evaluated too, but one that raises on the probe is left to training.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch

from pinn_mrepu.errors import ConfigError

from .problem import Problem

__all__ = ["GRID_POINTS", "SAMPLE_POINTS", "check_finite"]

SAMPLE_POINTS = 256  #: interior points and points per condition
GRID_POINTS = 8192  #: at most this many nodes of the evaluation grid (evenly strided, ends included)
_PROBES = (0.0, 0.7)
_RANGE = {"float32": float(np.finfo(np.float32).max), "float64": float(np.finfo(np.float64).max)}


def _where(variables: Sequence[str], point: np.ndarray) -> str:
    return ", ".join(f"{v}={float(c):.6g}" for v, c in zip(variables, point))


def _first_bad(values: np.ndarray, limit: float) -> int | None:
    values = np.asarray(values, dtype=np.float64).reshape(len(values), -1)
    bad = ~(np.abs(values) <= limit).all(axis=1)  # NaN compares false
    return int(np.argmax(bad)) if bad.any() else None


def _fail(field: str, shown: object, variables: Sequence[str], point: np.ndarray, value: np.ndarray, limit: float):
    v = np.asarray(value, dtype=np.float64).ravel()
    worst = v[~(np.abs(v) <= limit)][0] if (~(np.abs(v) <= limit)).any() else v[0]
    beyond = "beyond the training dtype's range" if np.isfinite(worst) else "not finite"
    raise ConfigError(field, shown, f"is {beyond} ({worst:.6g}) at {_where(variables, point)}; it must be finite "
                                    "on the whole domain")


def _probe(fn: Callable[[dict, torch.Tensor], torch.Tensor], names: Sequence[str], points: torch.Tensor):
    """The residual at both probe values of the fields; None when ``fn`` raises (left to training)."""
    outs = []
    for c in _PROBES:
        fields = {n: torch.full((points.shape[0], 1), c, dtype=points.dtype) for n in names}
        try:
            with torch.no_grad():
                out = torch.as_tensor(fn(fields, points), dtype=torch.float64)
        except Exception:  # noqa: BLE001 - a Python residual that needs real fields
            return None
        outs.append(out.reshape(points.shape[0], -1).numpy())
    both = np.abs(outs[0]) + np.abs(outs[1])  # non-finite only where both are
    return np.where(np.isfinite(outs[0]) | np.isfinite(outs[1]), 0.0, both)


def _grid_subset(points: np.ndarray) -> np.ndarray:
    if len(points) <= GRID_POINTS:
        return points
    keep = np.unique(np.linspace(0, len(points) - 1, GRID_POINTS).round().astype(np.int64))
    return points[keep]


def _check_domain(problem: Problem) -> None:
    dom = problem.domain
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        span = dom.upper - dom.lower
        scale = 2.0 / span
    for i, var in enumerate(dom.variables):
        if not (np.isfinite(span[i]) and np.isfinite(scale[i]) and span[i] > 0):
            field = "problem.time" if var == "t" else f"problem.space.{var}"
            raise ConfigError(field, [float(dom.lower[i]), float(dom.upper[i])],
                              f"must span a finite, non-degenerate length (upper - lower = {span[i]:.6g})")


def check_finite(problem: Problem, transform: Sequence[Callable] | None = None, *, grid: Sequence[int],
                 sampler: str, seed: int, dtype: str = "float64") -> None:
    """Raise a ConfigError if a source, condition value, exact solution or output transform is non-finite.

    Args:
        problem: the built problem.
        transform: the ``(base, factor)`` expressions of ``network.output_transform``, or None.
        grid: ``evaluate.grid`` (node counts per coordinate).
        sampler, seed: ``train.points.sampler`` and ``train.seed`` (the sample is drawn like the training points).
        dtype: ``train.dtype``; values must also fit its range.
    """
    _check_domain(problem)
    limit = _RANGE.get(dtype, _RANGE["float64"])
    dom, variables = problem.domain, problem.variables
    interior = dom.sample_interior(SAMPLE_POINTS, sampler=sampler, seed=seed, tag=(7717,))
    grid_pts = _grid_subset(dom.grid(list(grid))[0])
    everywhere = np.concatenate([interior, grid_pts])
    x = torch.as_tensor(everywhere, dtype=torch.float64)
    for name, eq in problem.equations.items():
        res = _probe(eq, eq.fields, x)
        if res is not None and (i := _first_bad(res, limit)) is not None:
            source = getattr(problem.pde, "source", None)
            field, shown = (("problem.source", getattr(source, "text", name)) if source is not None else
                            (f"problem.equations.{name}", getattr(eq, "text", "") or name))
            _fail(field, shown, variables, everywhere[i], res[i], limit)
    for name, cond in problem.conditions.items():
        batch = cond.sample(dom, SAMPLE_POINTS, sampler=sampler, seed=seed, tag=(7718,))
        field = f"problem.conditions.{name}"
        for key, data in batch.data.items():
            if (i := _first_bad(data.numpy(), limit)) is not None:
                value = getattr(cond, "value", None)
                _fail(f"{field}.value" if key == "target" else field, getattr(value, "text", key), variables,
                      batch.points[i].numpy(), data[i].numpy(), limit)
        res = _probe(lambda f, p, c=cond, b=batch: c.residual(f, b), cond.fields(dom), batch.points)
        if res is not None and (i := _first_bad(res, limit)) is not None:
            expr = getattr(cond, "expression", getattr(cond, "value", None))
            _fail(field, getattr(expr, "text", name), variables, batch.points[i].numpy(), res[i], limit)
    if problem.exact is not None:
        values = problem.exact_values(everywhere)
        if (i := _first_bad(values, limit)) is not None:
            _fail("problem.exact", getattr(getattr(problem.exact, "__self__", None), "text", "problem.exact"),
                  variables, everywhere[i], values[i], limit)
    for key, expr in zip(("base", "factor"), transform or ()):
        values = expr(torch.as_tensor(everywhere, dtype=torch.float64)).numpy()
        if (i := _first_bad(values, limit)) is not None:
            _fail(f"network.output_transform.{key}", getattr(expr, "text", key), variables, everywhere[i], values[i],
                  limit)
