"""Cost of the dense quasi-Newton bookkeeping per iteration: rank-one passes, the fused low-rank pass, the bound.

Per SSBroyden iteration the dense optimizer touches its n x n inverse Hessian H to form the direction H g, the
product H y, the update and the finiteness check.  Side by side, from the same start:

- ``rank-one``: the update as three ``addr_`` rank-one passes and a ``div_`` (the scaling), and the finiteness
  check as ``torch.isfinite(H).all()`` (allocates an n x n boolean tensor every iteration);
- ``fused``: ``pinn_mrepu.optim.ssbroyden_update(..., inplace=True)`` (one ``addmm_`` pass ``H <- H / tau +
  U C U^T``) and ``pinn_mrepu.optim.base.all_finite`` (a finite sum proves every entry finite): the code of
  sessions 6-16;
- ``bounded``: the optimizer's own update (``DenseQuasiNewton._update``): the fused pass, and finiteness proven by
  a running bound on max |H| (O(n) per update) instead of a pass over H.

n = 3 901 is a 10 x 20 MLP on 2 inputs (the converged study's depth 10), n = 8 491 KdV's 10 x 30.  Medians of
``--repeats`` timings of ``--iterations`` iterations each, one torch thread:

    python benchmarks/dense_update.py --sizes 901,2161,3901,8491
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from pinn_mrepu.optim import DenseQuasiNewton
from pinn_mrepu.optim.base import all_finite
from pinn_mrepu.optim.updates import ssbroyden_scalars, ssbroyden_update


def rank_one_iteration(H: torch.Tensor, a: torch.Tensor, g: torch.Tensor) -> bool:
    """Direction, SSBroyden update as rank-one passes, entrywise finiteness check (the former bookkeeping)."""
    s = -1e-3 * (H @ g)
    y = a * s
    Hy = H @ y
    yHy = float(torch.dot(y, Hy))
    k = ssbroyden_scalars(float(torch.dot(y, s)), yHy, float(torch.dot(s, g)), 1.0, H.shape[0])
    v = s * k.rho - Hy / yHy
    H.addr_(Hy, Hy, alpha=-1.0 / yHy)
    H.addr_(v, v, alpha=k.phi * yHy)
    H.div_(k.tau)
    H.addr_(s, s, alpha=k.rho)
    return bool(torch.isfinite(H).all())


def fused_iteration(H: torch.Tensor, a: torch.Tensor, g: torch.Tensor) -> bool:
    """Direction, the package's fused SSBroyden update and its finiteness check."""
    s = -1e-3 * (H @ g)
    y = a * s
    ssbroyden_update(H, s, y, 1.0, g, inplace=True)
    return all_finite(H)


def bounded_iteration(opt: DenseQuasiNewton, a: torch.Tensor, g: torch.Tensor) -> bool:
    """Direction and the optimizer's own update (fused pass, finiteness by the running bound)."""
    s = -1e-3 * opt._apply_h(g)
    y = a * s
    return opt._update(s, y, float(torch.dot(y, s)), 1.0, g) == ""


def optimizer_on(H: torch.Tensor) -> DenseQuasiNewton:
    opt = DenseQuasiNewton(H.shape[0], "ssbroyden", initial_scale=False)
    opt.H, opt._identity = H, False
    return opt


def problem(n: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """H = I, a gradient g and the diagonal a of a quadratic's Hessian in [0.5, 2]; each iteration steps
    s = -1e-3 H g and sees y = a s (y.s > 0, so H stays SPD)."""
    gen = torch.Generator().manual_seed(seed)
    g = torch.randn(n, generator=gen, dtype=torch.float64)
    a = 0.5 + 1.5 * torch.rand(n, generator=gen, dtype=torch.float64)
    return torch.eye(n, dtype=torch.float64), a, g


def time_it(fn, n: int, iterations: int, on=lambda H: H) -> float:
    H, a, g = problem(n)
    assert fn(on(H), a, g)  # warm-up, and the check must pass
    H, a, g = problem(n)
    H = on(H)
    t0 = time.perf_counter()
    for _ in range(iterations):
        assert fn(H, a, g)
    return (time.perf_counter() - t0) / iterations


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="901,2161,3901", help="comma-separated parameter counts n")
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, 1 thread; ms per iteration, median of {args.repeats} x {args.iterations}")
    print("| n | H (MB) | rank-one (ms) | fused (ms) | bounded (ms) | fused / rank-one | bounded / fused |")
    print("|---|---|---|---|---|---|---|")
    for n in (int(v) for v in args.sizes.split(",")):
        old, fused, bounded = [], [], []
        for _ in range(args.repeats):  # alternate, so drifting machine load hits all alike
            old.append(time_it(rank_one_iteration, n, args.iterations))
            fused.append(time_it(fused_iteration, n, args.iterations))
            bounded.append(time_it(bounded_iteration, n, args.iterations, optimizer_on))
        a, b, c = (statistics.median(t) * 1e3 for t in (old, fused, bounded))
        print(f"| {n} | {n * n * 8 / 1e6:.0f} | {a:.1f} | {b:.1f} | {c:.1f} | {b / a:.2f} | {c / b:.2f} |")


if __name__ == "__main__":
    main()
