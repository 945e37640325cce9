"""How often a freshly initialised MLP already blows up (forward pass only, no training).

    python benchmarks/experiments_init_probe.py [--activations mrepu:2,mrepu:3,tanh] [--depths 3,6,10,20]
                                                [--widths 32,256] [--seeds 20] [--init critical] [--inputs cube|digits]

For each (activation, depth, width) it draws ``--seeds`` networks ``MLP(d, k, ..., generator=seed, float64)`` and
evaluates them on 1000 uniform points of [-1, 1]^3 (``cube``: d = 3, k = 1) or on the digits training split of
seed 0 as :func:`pinn_mrepu.experiments.load_digits_split` prepares it (``digits``: d = 64, k = 10); a network
counts as blown up when the output's RMS is non-finite or above 1e3.  Explains the "diverged at step 0" rows of
results/experiments/regression.md and digits.md.
"""

from __future__ import annotations

import argparse
import math

import torch

from pinn_mrepu import MLP
from pinn_mrepu.experiments import load_digits_split, parse_variants


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--activations", default="mrepu:2,mrepu:3")
    ap.add_argument("--depths", default="3,6,10,20")
    ap.add_argument("--widths", default="32,256")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--init", default="critical")
    ap.add_argument("--inputs", choices=("cube", "digits"), default="cube")
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.inputs == "digits":
        x = load_digits_split(0)[0]
    else:
        x = torch.rand(1000, 3, generator=torch.Generator().manual_seed(1), dtype=torch.float64) * 2 - 1
    out_dim = 10 if args.inputs == "digits" else 1
    print("| activation | depth | width | blown up (rms > 1e3 or non-finite) | median output rms |")
    print("|---|---|---|---|---|")
    for name, params in parse_variants(args.activations):
        for depth in map(int, args.depths.split(",")):
            for width in map(int, args.widths.split(",")):
                rms = []
                for seed in range(args.seeds):
                    net = MLP(x.shape[1], out_dim, width=width, depth=depth, activation=name, activation_params=params,
                              init=args.init, generator=seed, dtype=torch.float64)
                    with torch.no_grad():
                        rms.append(float(net(x).pow(2).mean().sqrt()))
                bad = sum(1 for r in rms if not math.isfinite(r) or r > 1e3)
                med = sorted(rms)[len(rms) // 2]
                label = f"{name} " + " ".join(f"{k}={v}" for k, v in params.items())
                print(f"| {label.strip()} | {depth} | {width} | {bad}/{len(rms)} | {med:.3g} |")


if __name__ == "__main__":
    main()
