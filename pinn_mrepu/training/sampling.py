"""Where the collocation points come from during training: fresh draws, RAD resampling and refinement.

- ``uniform`` resampling redraws every point set with ``train.points.sampler`` (round ``r`` of the seed);
- ``rad`` (residual-based adaptive distribution, Wu et al. 2023) redraws the interior points from a pool of
  ``candidates`` uniform points with probability ∝ |r|^k / mean|r|^k + c (k = ``exponent``, c = ``offset``),
  without replacement; the condition points are redrawn as in ``uniform``;
- refinement (``train.refine``) adds the ``add`` points of largest |r| among ``candidates`` to the interior.

Every draw is a function of (seed, round or step) only, so a resumed run draws the same points.
"""

from __future__ import annotations

import torch

from pinn_mrepu.config import TrainConfig

from .loss import PINNLoss, PointSet, sample_points

__all__ = ["draw_points", "resample", "refine"]

_CHUNK = 16384  # residual evaluation chunk (memory bound for large candidate pools)


def draw_points(loss: PINNLoss, cfg: TrainConfig, round_: int, *, device, dtype) -> PointSet:
    """The ``round_``-th draw of every point set with the configured sampler."""
    p = cfg.points
    return sample_points(loss.problem, {"interior": p.interior, "boundary": p.boundary, "initial": p.initial},
                         sampler=p.sampler, seed=cfg.seed, round=round_, device=device, dtype=dtype)


def _abs_residual(loss: PINNLoss, model: torch.nn.Module, points: torch.Tensor) -> torch.Tensor:
    """|r| per point; for several equations the Euclidean norm of the residual vector."""
    parts = [loss.residual(model, chunk, create_graph=False) for chunk in torch.split(points, _CHUNK)]
    r = torch.cat(parts)
    return r.abs().squeeze(1) if r.shape[1] == 1 else torch.linalg.vector_norm(r, dim=1)


def resample(loss: PINNLoss, model: torch.nn.Module, cfg: TrainConfig, round_: int, old: PointSet, *,
             device, dtype) -> PointSet:
    """Round ``round_`` of ``train.resample``: new points (refinement points of ``old`` are kept)."""
    fresh = draw_points(loss, cfg, round_, device=device, dtype=dtype)
    fresh.added = old.added
    r = cfg.resample
    if r.method == "rad":
        pool = loss.problem.domain.sample_interior(r.candidates, sampler="uniform", seed=cfg.seed,
                                                   tag=(20_000 + round_,))
        pool_t = torch.as_tensor(pool, dtype=dtype, device=device)
        res = _abs_residual(loss, model, pool_t).to(torch.float64)
        w = res**r.exponent
        mean = w[torch.isfinite(w)].mean() if bool(torch.isfinite(w).any()) else torch.tensor(1.0, dtype=w.dtype)
        density = torch.nan_to_num(w / mean, nan=0.0, posinf=0.0) + r.offset
        if not bool((density > 0).any()):
            density = torch.ones_like(density)
        gen = torch.Generator().manual_seed(cfg.seed * 1_000_003 + round_)
        n = min(cfg.points.interior, len(pool_t), int((density > 0).sum()))
        idx = torch.multinomial(density.cpu(), n, replacement=False, generator=gen)
        fresh.interior = pool_t[idx.to(pool_t.device)].detach()
    return fresh


def refine(loss: PINNLoss, model: torch.nn.Module, cfg: TrainConfig, step: int, points: PointSet, *,
           device, dtype) -> None:
    """Add the ``train.refine.add`` worst of ``candidates`` fresh points (drawn for ``step``) to ``points``."""
    r = cfg.refine
    cand = loss.problem.domain.sample_interior(r.candidates, sampler="uniform", seed=cfg.seed, tag=(10_000 + step,))
    cand_t = torch.as_tensor(cand, dtype=dtype, device=device)
    res = _abs_residual(loss, model, cand_t)
    worst = cand_t[torch.topk(res, min(r.add, res.numel())).indices].detach()
    points.added = worst if points.added is None else torch.cat([points.added, worst])
