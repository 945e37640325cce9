"""Convergence of the Allen--Cahn reference solution (pinn_mrepu.physics.allen_cahn), printed as markdown tables.

    python benchmarks/allen_cahn_reference.py            # eps = 1e-4, ~15 s on one core

Points: the standard grid x = linspace(-1, 1, 512), t = linspace(0, 1, 201) (as in the widely used AC.mat), plus
the early times t = 1e-6, 1e-4, 1e-3 where the kink of u0 at x = +-1 matters.  Tables: (1) max abs difference
between successive mode counts at dt = 1e-3; (2) between successive time steps at 1024 modes, with the ratio of
successive differences (16 for 4th order); (3) the plain pseudo-spectral solve without kink subtraction against
the default solution: its error falls only like modes^-2, which is why the kink is subtracted; (4) wall times.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np

from pinn_mrepu.physics import allen_cahn as ac
from pinn_mrepu.storage import cpu_model


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--eps", type=float, default=1e-4)
    args = ap.parse_args(argv)
    x = np.linspace(-1.0, 1.0, 512)
    t = np.concatenate([[1e-6, 1e-4, 1e-3], np.linspace(0.0, 1.0, 201)])
    early = t < 0.1

    def solve(modes, dt):
        ac._solve.cache_clear()
        start = time.perf_counter()
        u = ac.allen_cahn_solution(x[None, :], t[:, None], eps=args.eps, modes=modes, dt=dt)
        return u, time.perf_counter() - start

    print(f"eps = {args.eps}; machine: {cpu_model()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"numpy {np.__version__}\n")
    print("| modes | vs modes | max abs diff, all t | t < 0.1 | t >= 0.1 | wall s |\n|---|---|---|---|---|---|")
    prev = None
    for modes in (256, 512, 1024, 2048, 4096):
        u, wall = solve(modes, 1e-3)
        if prev is not None:
            e = np.abs(u - prev[1])
            print(f"| {modes} | {prev[0]} | {e.max():.1e} | {e[early].max():.1e} | {e[~early].max():.1e} "
                  f"| {wall:.2f} |")
        prev = (modes, u)
    print("\n| dt | vs dt | max abs diff | ratio to previous | wall s |\n|---|---|---|---|---|")
    prev, prev_e = None, None
    for dt in (8e-3, 4e-3, 2e-3, 1e-3, 5e-4, 2.5e-4):
        u, wall = solve(1024, dt)
        if prev is not None:
            e = np.abs(u - prev[1]).max()
            ratio = "" if prev_e is None else f"{prev_e / e:.1f}"
            print(f"| {dt:g} | {prev[0]:g} | {e:.1e} | {ratio} | {wall:.2f} |")
            prev_e = e
        prev = (dt, u)
    print("\n| plain solve, modes | max abs error at t = 0.01 | t = 0.1 | t = 0.5 |\n|---|---|---|---|")
    for modes in (1024, 2048, 4096, 8192):
        spacing, snaps, _ = ac._solve(args.eps, modes, 1e-3, 0.5, False)
        errs = []
        for tt in (0.01, 0.1, 0.5):
            row = ac.allen_cahn_solution(x, tt, eps=args.eps)
            plain = ac._trig_eval(snaps[round(tt / spacing)][:, None], x, modes)[:, 0]
            errs.append(f"{np.abs(plain - row).max():.1e}")
        print(f"| {modes} | " + " | ".join(errs) + " |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
