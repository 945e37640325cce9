"""Diagnostic for the converged study: can each activation *fit* the Burgers solution by plain regression?

The PINN study (results/study/burgers) has MRePU at rel L2 ~0.1 on Burgers where tanh reaches 6e-5.  This script
separates representation from the PDE loss: the same 3 x 20 float64 network (critical init, inputs scaled to
[-1, 1]) is fitted to the exact Cole-Hopf solution at random points of [-1, 1] x [0, 1] by mean-square error, with
the study's optimizers (Adam, then the package's dense SSBroyden), and the rel L2 error is measured on the
256 x 101 evaluation grid of problems/burgers.yaml.

    python benchmarks/burgers_fit.py --seeds 0,1
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from pinn_mrepu.nn import MLP
from pinn_mrepu.optim import DenseQuasiNewton
from pinn_mrepu.physics.references import burgers_solution

NU = 0.01 / math.pi
ACTIVATIONS = {"tanh": ("tanh", {}), "mrepu-p2": ("mrepu", {"p": 2}), "mrepu-p3": ("mrepu", {"p": 3}),
               "silu": ("silu", {})}


def data(points: int, seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Training points and values, evaluation grid and values (float64)."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.uniform(-1, 1, points), rng.uniform(0, 1, points)])
    xg, tg = np.meshgrid(np.linspace(-1, 1, 256), np.linspace(0, 1, 101))
    grid = np.column_stack([xg.ravel(), tg.ravel()])
    arrays = (x, burgers_solution(x[:, 0], x[:, 1], NU), grid, burgers_solution(grid[:, 0], grid[:, 1], NU))
    return tuple(torch.tensor(a, dtype=torch.float64) for a in arrays)


def fit(name: str, seed: int, X, Y, G, UG, adam_steps: int, lr: float, qn_steps: int) -> dict[str, float]:
    act, params = ACTIVATIONS[name]
    model = MLP(2, 1, width=20, depth=3, activation=act, activation_params=params, init="critical",
                input_bounds=([-1, 0], [1, 1]), generator=seed, dtype=torch.float64)
    ps = list(model.parameters())
    t0 = time.perf_counter()
    opt = torch.optim.Adam(ps, lr=lr)
    for _ in range(adam_steps):
        opt.zero_grad()
        loss = ((model(X)[:, 0] - Y) ** 2).mean()
        loss.backward()
        opt.step()
    adam_loss = float(loss.detach())

    def closure(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        vector_to_parameters(x, ps)
        for p in ps:
            p.grad = None
        value = ((model(X)[:, 0] - Y) ** 2).mean()
        value.backward()
        return value.detach(), torch.cat([p.grad.reshape(-1) for p in ps])

    qn = DenseQuasiNewton(sum(p.numel() for p in ps), "ssbroyden")
    x = parameters_to_vector(ps).detach()
    f, g = closure(x)
    for _ in range(qn_steps):
        r = qn.step(x, f, g, closure)
        x, f, g = r.x, r.f, r.g
        if qn.consecutive_failures >= qn.max_failures:
            break
    vector_to_parameters(x, ps)
    with torch.no_grad():
        err = float(torch.linalg.norm(model(G)[:, 0] - UG) / torch.linalg.norm(UG))
    return {"adam_mse": adam_loss, "mse": float(f), "rel_l2": err, "iterations": qn.iteration,
            "seconds": time.perf_counter() - t0}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--activations", default="tanh,mrepu-p3,mrepu-p2,silu")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--points", type=int, default=4000)
    ap.add_argument("--adam-steps", type=int, default=2000)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--qn-steps", type=int, default=1500)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    X, Y, G, UG = data(args.points)
    print(f"regression of the Burgers solution: {args.points} random points, 3 x 20, {args.adam_steps} Adam "
          f"(lr {args.lr}) + {args.qn_steps} SSBroyden, torch {torch.__version__}, 1 thread")
    print("| activation | seed | MSE after Adam | MSE after SSBroyden | grid rel L2 | SSBroyden its | s |")
    print("|---|---|---|---|---|---|---|")
    for name in args.activations.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            r = fit(name, seed, X, Y, G, UG, args.adam_steps, args.lr, args.qn_steps)
            print(f"| {name} | {seed} | {r['adam_mse']:.2e} | {r['mse']:.2e} | {r['rel_l2']:.2e} | "
                  f"{r['iterations']} | {r['seconds']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
