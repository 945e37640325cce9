"""Why curvature methods stall on MRePU p = 2: the PINN loss along the steepest-descent direction.

MRePU_2 is C¹: σ'' jumps at z = −1, so u_xx — and with it the PINN loss — jumps whenever a pre-activation
crosses −1.  This script trains each activation with Adam (the file's Adam phase), then evaluates the loss
L(θ − t g/|g|) for t = 10^-12 … 10^-1 and reports, per t, the relative change ΔL / L and whether the Armijo
condition L(t) ≤ L(0) − c1 t |g| (c1 = 1e-4) holds; a smooth loss satisfies it for every small enough t.

    python benchmarks/kink_line_search.py --problem burgers --activations mrepu:2,mrepu:3,tanh
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from pinn_mrepu import PINNSolver, load_config
from pinn_mrepu.storage import atomic_write, cpu_model

ROOT = Path(__file__).resolve().parents[1]


def line_profile(solver: PINNSolver, ts: np.ndarray) -> tuple[float, float, list[float]]:
    """``(L(0), |g|, [L(t) for t in ts])`` along the unit steepest-descent direction at the current parameters."""
    tr = solver.trainer
    params = tr.params
    total, _ = tr._objective()
    g = torch.cat([p.grad.reshape(-1) for p in params]).detach()
    x0 = parameters_to_vector(params).detach().clone()
    d = -g / g.norm()
    values = []
    with torch.no_grad():
        for t in ts:
            vector_to_parameters(x0 + float(t) * d, params)
            values.append(float(tr.loss.total(tr.loss.terms(solver.model, tr.points))))
    vector_to_parameters(x0, params)
    return float(total), float(g.norm()), values


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problem", default="burgers")
    ap.add_argument("--activations", default="mrepu:2,mrepu:3,tanh")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", default=str(ROOT / "results" / "mrepu_kink.md"))
    args = ap.parse_args(argv)
    ts = np.logspace(-12, -1, 23)
    lines = ["# The PINN loss along the steepest-descent direction after Adam", "",
             f"Command: `{shlex.join(['python', 'benchmarks/kink_line_search.py', *(argv if argv is not None else sys.argv[1:])])}`  ",
             f"Machine: {cpu_model()}; seed 0 (the file's); the file's Adam phase, then L(θ − t g/|g|).", "",
             "ΔL/L at step t (Armijo: ✓ when L(t) ≤ L(0) − 1e-4 t |g|):", ""]
    header = "| t | " + " | ".join(a for a in args.activations.split(",")) + " |"
    rows: dict[float, list[str]] = {float(t): [] for t in ts}
    summary = []
    for act in args.activations.split(","):
        name, _, p = act.partition(":")
        overrides = [*args.overrides, f"network.activation={name}"] + ([f"network.activation_params.p={p}"] if p else [])
        config = load_config(ROOT / "problems" / f"{args.problem}.yaml", overrides)
        config.train.phases = [config.train.phases[0]]
        solver = PINNSolver(config)
        solver.train()
        f0, gnorm, values = line_profile(solver, ts)
        ok = [v <= f0 - 1e-4 * t * gnorm for t, v in zip(ts, values)]
        for t, v, k in zip(ts, values, ok):
            rows[float(t)].append(f"{(v - f0) / f0:+.2e} {'✓' if k else '✗'}")
        rise = next((i for i, v in enumerate(values) if v > f0), None)
        last_ok = max((float(t) for t, k in zip(ts, ok) if k), default=None)
        text = (f"- {act}: L(0) = {f0:.3e}, |g| = {gnorm:.3e}; Armijo holds for {sum(ok)} of {len(ts)} steps, "
                f"the largest accepted t is {'none' if last_ok is None else f'{last_ok:.0e}'}")
        if rise is not None and rise > 0:
            before = (values[rise - 1] - f0) / f0
            text += (f"; the loss first rises at t = {ts[rise]:.0e}: ΔL/L goes from {before:+.2e} to "
                     f"{(values[rise] - f0) / f0:+.2e}")
        summary.append(text)
        print(summary[-1], flush=True)
    lines += [header, "|---" * (len(args.activations.split(",")) + 1) + "|"]
    lines += [f"| {t:.0e} | " + " | ".join(r) + " |" for t, r in rows.items()]
    lines += ["", *summary, ""]
    atomic_write(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
