"""Does a trained network use its activation's kink?  Kink crossings of the run folders of a sweep.

For every run folder (``<sweep>/runs/<run>/model.pt``) whose activation has a kink (MRePU at z = -1, RePU and ReLU
at 0), :func:`pinn_mrepu.nn.kink_crossings` on the run's evaluation grid: the hidden neurons whose pre-activation
takes values on both sides of the kink (its kink surface lies inside the domain, and derivatives of order above the
activation's smoothness jump across it), at initialisation (the run's config and seed, untrained) and after
training; with the fraction of pre-activations left of the kink and the closest approach |z - kink|.  Beside them
the run's rel L2 and how its last phase ended.  Reads run folders only: nothing is trained.

    python benchmarks/kink_activity.py results/study/kdv --depths 10 --out results/study/kdv/kink_activity.md

Several sweep folders give one table each, in one file.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
from pathlib import Path

import torch

from pinn_mrepu import PINNSolver
from pinn_mrepu.nn import kink_crossings
from pinn_mrepu.storage import atomic_write


def _grid(solver: PINNSolver) -> torch.Tensor:
    points, _ = solver.evaluation_grid()
    return torch.as_tensor(points)


def _ending(metrics: dict) -> str:
    """How the run ended, short: ``finished`` or ``<optimizer> stopped after k of n: <reason>``."""
    message = str(metrics.get("message", ""))
    found = re.match(r"(\w+) (?:stopped|converged) after (\d+) of (\d+) iterations: (.*)", message)
    if not found:
        return message[:60]
    reason = ("line-search failures" if "line-search failures" in found[4]
              else "flat loss" if "loss changed by less" in found[4] else found[4][:40])
    return f"{found[1]} ended at {found[2]} of {found[3]} ({reason})"


def rows(sweep: Path, depths: set[int] | None) -> list[dict]:
    out = []
    for folder in sorted((sweep / "runs").glob("*/")):
        metrics_file = folder / "metrics.json"
        if not ((folder / "model.pt").is_file() and metrics_file.is_file()):
            continue
        metrics = json.loads(metrics_file.read_text())
        if depths and metrics.get("depth") not in depths:
            continue
        trained = PINNSolver.load(folder)
        net = getattr(trained.model, "net", trained.model)  # the MLP, also under a hard-constraint transform
        if not getattr(getattr(net, "activation", None), "kinks", ()):
            continue
        points = _grid(trained)
        start = PINNSolver(trained.config)  # the run's config and seed: its initial network
        out.append({"run": folder.name, "rel_l2": metrics.get("rel_l2"), "ending": _ending(metrics),
                    "init": kink_crossings(start.model, points), "trained": kink_crossings(trained.model, points),
                    "points": len(points)})
    return out


def _layers(k) -> str:
    return ", ".join(f"{i + 1}: {c}" for i, c in enumerate(k.crossing) if c) or "-"


def table(found: list[dict]) -> list[str]:
    lines = ["| run | rel L2 | last phase | crossing neurons at init | crossing after training (layer: neurons) | "
             "left of the kink | closest abs(z - kink) |", "|---|---|---|---|---|---|---|"]
    for r in found:
        k = r["trained"]
        rel = "" if r["rel_l2"] is None else f"{r['rel_l2']:.1e}"
        lines.append(f"| {r['run']} | {rel} | {r['ending']} | {r['init'].total} of {sum(k.width)} | {k.total} "
                     f"({_layers(k)}) | {100 * k.beyond:.3g} % | {k.closest:.2g} |")
    return lines


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sweeps", type=Path, nargs="+", help="sweep folders (each holding runs/)")
    ap.add_argument("--depths", default="", help="comma-separated depths to include (default: all)")
    ap.add_argument("--out", type=Path, help="also write the tables as Markdown here")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    depths = {int(d) for d in args.depths.split(",") if d} or None
    command = shlex.join(["python", "benchmarks/kink_activity.py", *(argv if argv is not None else sys.argv[1:])])
    lines = ["# Kink crossings of trained networks", "", f"Command: `{command}`  ",
             "On each run's evaluation grid; a neuron crosses when its pre-activation is on both sides of the "
             "activation's kink there (MRePU: z = -1).  Reads the run folders, trains nothing."]
    for sweep in args.sweeps:
        found = rows(sweep, depths)
        points = ", ".join(map(str, sorted({r["points"] for r in found})))
        lines += ["", f"## {sweep} ({len(found)} runs; {points} grid points)", "", *table(found)]
    print("\n".join(lines))
    if args.out is not None:
        atomic_write(args.out, "\n".join(lines) + "\n")

if __name__ == "__main__":
    main()
