"""Accuracy benchmark: every problem in problems/ with its shipped defaults, for each activation.

    python benchmarks/accuracy.py                       # all problems, default activation + baselines
    python benchmarks/accuracy.py --problems burgers --activations mrepu,tanh --markdown results/accuracy.md

Each run is an ordinary run folder (under --runs, git-ignored by default); the table gives rel L2, max error,
wall time, the iterations of each optimizer phase (and how a phase that ended early stopped), and the machine.
Targets (issue 11, 2-core CPU, shipped defaults): Burgers rel L2 <= 1e-5 in <= 300 s training time; heat and
Poisson 2D <= 1e-6 in <= 60 s; Poisson 1D <= 1e-8 in <= 60 s.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

from pinn_mrepu.runs import run_to_folder
from pinn_mrepu.storage import cpu_model
from pinn_mrepu.training.allocator import tune_malloc
from pinn_mrepu.validation import load_config

#: problem -> (rel L2, training seconds)
TARGETS = {"burgers": (1e-5, 300), "heat": (1e-6, 60), "poisson1d": (1e-8, 60), "poisson2d": (1e-6, 60)}


def machine() -> str:
    cpu = cpu_model()
    dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {torch.get_num_threads()} threads, {dev}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--problems", default="burgers,heat,poisson1d,poisson2d")
    ap.add_argument("--activations", default="default",
                    help="comma list of NAME or NAME:P (e.g. mrepu:3); 'default' = the file's own activation")
    ap.add_argument("--set", dest="overrides", action="append", default=[])
    ap.add_argument("--runs", default="scratch/accuracy-runs")
    ap.add_argument("--markdown", help="write the table here (e.g. results/accuracy.md)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    tune_malloc()  # as the solve command does
    if args.threads:
        torch.set_num_threads(args.threads)
    rows = []
    for name in args.problems.split(","):
        path = Path("problems") / f"{name}.yaml"
        done = set()
        for act in args.activations.split(","):
            name_, _, power = act.partition(":")  # NAME or NAME:P (e.g. mrepu:3)
            overrides = list(args.overrides) + ([] if act == "default" else [f"network.activation={name_}"])
            overrides += [f"network.activation_params.p={power}"] if power else []
            config = load_config(path, overrides)
            label = config.network.activation + "".join(f" p={v}" for v in config.network.activation_params.values())
            if label in done:  # "default" already covered this activation
                continue
            done.add(label)
            out = Path(args.runs) / f"{name}-{config.network.activation}"
            t0 = time.perf_counter()
            outcome = run_to_folder(config, out, overwrite=True, device=args.device, figures=False)
            m = outcome.metrics
            level, seconds = TARGETS.get(name, (float("nan"), float("nan")))
            ok = "yes" if m["rel_l2"] <= level and m["wall_time_s"] <= seconds else "no"
            phases = ", ".join(f"{p['optimizer']} {p['steps']}/{p['planned']}"
                               + ("" if p["stopped"] == "completed" else f" ({p['stopped']})") for p in m["phases"])
            rows.append((name, label, m["rel_l2"], m["max_abs_error"], m["wall_time_s"], phases, m["status"],
                         f"{level:.0e} in {seconds:g} s", ok))
            print(f"{name:10s} {label:10s} rel_l2 {m['rel_l2']:.2e}  max {m['max_abs_error']:.2e}"
                  f"  {m['wall_time_s']:6.1f} s  {phases}  {m['status']}"
                  f"  (total {time.perf_counter() - t0:.1f} s)", flush=True)
    lines = [
        "| problem | activation | rel L2 | max abs error | train wall time (s) | iterations per phase | status | target | met |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r[0]} | {r[1]} | {r[2]:.2e} | {r[3]:.2e} | {r[4]:.1f} | {r[5]} | {r[6]} | {r[7]} | {r[8]} |")
    table = "\n".join(lines)
    print(table)
    if args.markdown:
        cmd = "python " + " ".join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])])
        text = (f"# Accuracy with the shipped defaults\n\nCommand: `{cmd}`  \nMachine: {machine()}  \n"
                f"Seeds: the files' `train.seed` (0).  \n\n{table}\n")
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
