"""Reproduce results/criticality/: figures, the critical-init table, theory-vs-ensemble tolerances, a CLI report.

    python benchmarks/criticality_figures.py                      # everything (a few minutes on 2 CPU cores)
    python benchmarks/criticality_figures.py --out /tmp/crit --method gram

Seeds: ensembles use torch.Generator(seed) with seed 0 (figures) and seeds 0..3 (tables).
"""

from __future__ import annotations

import argparse
import math
import platform
import time
from pathlib import Path

import numpy as np
import torch

from pinn_mrepu.criticality import critical_init
from pinn_mrepu.criticality.ensembles import empirical_kernels
from pinn_mrepu.criticality.plots import write_criticality_figures
from pinn_mrepu.criticality.report import criticality_report

ACTS = [("mrepu", {"p": 1}), ("mrepu", {"p": 2}), ("mrepu", {"p": 3}), ("repu", {"p": 2}), ("repu", {"p": 3}),
        ("tanh", {}), ("relu", {}), ("gelu", {}), ("silu", {}), ("sin", {})]
X = np.array([[0.5, -0.3], [1 / math.sqrt(3), 1 / math.sqrt(3)], [-0.9, 0.2], [0.1, 0.2]])


def _name(name: str, params: dict) -> str:
    return f"{name} p={params['p']}" if params else name


def _g(x: float) -> str:
    return "-" if x is None else ("nan" if isinstance(x, float) and math.isnan(x) else f"{x:.6g}")


def table_critical_init() -> str:
    rows = ["| activation | class | C_b | C_W | K* | chi_par, chi_perp | a1 | layer 1 (c_b, c_w), L = 5 | "
            "layer 1 (c_b, c_w), L = 20 |", "|---|---|---|---|---|---|---|---|---|"]
    for name, params in ACTS:
        ci = critical_init(name, **params)
        l5, l20 = ci.layer_variances(5)[0], ci.layer_variances(20)[0]
        hidden = ci.layer_variances(5)[1]
        k_star = {"scale_invariant": "any K", "none": "-"}.get(ci.universality, _g(ci.k_star))
        rows.append(f"| {_name(name, params)} | {ci.universality} | {_g(hidden[0])} | {_g(hidden[1])} | "
                    f"{k_star} | {_g(ci.chi_par)}, {_g(ci.chi_perp)} | {_g(ci.a1)} | "
                    f"({_g(l5[0])}, {_g(l5[1])}) | ({_g(l20[0])}, {_g(l20[1])}) |")
    return "\n".join(rows)


def _dev(name: str, params: dict, width: int, depth: int, seed: int, n_networks: int = 400) -> np.ndarray:
    ci = critical_init(name, **params)
    lv = ci.layer_variances(depth)
    r = empirical_kernels(ci._act, width=width, depth=depth, n_networks=n_networks, inputs=X, c_b=lv[1][0],
                          c_w=lv[1][1], first_layer=lv[0], seed=seed)
    return r.kernel / r.theory - 1  # (depth, n_inputs)


def table_ensemble(seeds: range) -> str:
    rows = ["| activation (critical init, L = 20) | width | max over the 4 inputs of abs(dev), l = 10 | same, l = 20 | "
            "dev for the input with mean x^2 = 1/3, l = 20 |", "|---|---|---|---|---|"]
    for name, params in [("tanh", {}), ("sin", {}), ("mrepu", {"p": 2}), ("mrepu", {"p": 3}), ("gelu", {}),
                         ("silu", {}), ("relu", {})]:
        for width in (512, 2048):
            devs = np.array([_dev(name, params, width, 20, s) for s in seeds])  # (seeds, depth, inputs)
            mean = devs.mean(axis=0)
            rows.append(f"| {_name(name, params)} | {width} | {np.abs(mean[9]).max():.3f} | "
                        f"{np.abs(mean[19]).max():.3f} | {mean[19, 1]:+.3f} +- {devs[:, 19, 1].std():.3f} |")
    return "\n".join(rows)


def table_width_scan(seeds: range) -> str:
    rows = ["| width | mean dev at l = 12, mean x^2 = 1/3 | same, mean x^2 = 0.425 | width x dev (1/3) |",
            "|---|---|---|---|"]
    for width in (256, 512, 1024, 2048, 4096):
        devs = np.array([_dev("mrepu", {"p": 2}, width, 12, s) for s in seeds])[:, 11]
        m = devs.mean(axis=0)
        rows.append(f"| {width} | {m[1]:+.4f} +- {devs[:, 1].std():.4f} | {m[2]:+.4f} +- {devs[:, 2].std():.4f} | "
                    f"{width * m[1]:.1f} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="results/criticality")
    ap.add_argument("--method", default="weights", choices=("weights", "gram"), help="ensemble sampler (figures)")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    # depth = hidden layers: 19 + the output layer = the 20 linear layers of the tables below
    paths = write_criticality_figures("mrepu", p=2, depth=19, out_dir=out, width=512, n_networks=100, seed=0,
                                      method=args.method)
    t_fig = time.perf_counter() - t0
    (out / "report_mrepu_p2.txt").write_text(criticality_report("mrepu", p=2, depth=19) + "\n")
    seeds = range(4)
    tables = [
        "## critical_init for every registered activation\n\n"
        "Hidden/output (C_b, C_W), class, fixed point, susceptibilities there, a1; first-layer (c_b, c_w) from "
        "`layer_variances(L)` for inputs with mean x^2 = 1/3.\n\n" + table_critical_init(),
        "## Theory vs ensemble at critical init\n\nMean over 400 networks (Gram sampler) of the per-network kernel, "
        f"relative to the recursion, averaged over seeds {list(seeds)}; inputs {X.tolist()}.\n\n"
        + table_ensemble(seeds),
        "## Finite-width bias of MRePU p=2 (critical init, L = 12, growth 2)\n\n400 networks, seeds "
        f"{list(seeds)} (mean +- std over seeds).\n\n" + table_width_scan(seeds),
    ]
    t_all = time.perf_counter() - t0
    footer = (f"\n\nGenerated by `python benchmarks/criticality_figures.py --method {args.method}` in {t_all:.0f} s "
              f"(figures {t_fig:.0f} s); torch {torch.__version__} ({torch.get_num_threads()} thread), "
              f"numpy {np.__version__}, {platform.machine()} {platform.system()}.\n")
    (out / "tables.md").write_text("\n\n".join(tables) + footer)
    print("\n".join(str(p) for p in paths), out / "tables.md", out / "report_mrepu_p2.txt", sep="\n")


if __name__ == "__main__":
    main()
