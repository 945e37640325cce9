"""Quasi-Newton phases side by side: L-BFGS, BFGS, SSBFGS and SSBroyden from the same Adam warm start.

For each problem the Adam phase of its shipped file (with the --set overrides) runs once; every optimizer then
continues from that exact state (same parameters, same points) for ``--steps`` iterations, recording rel L2 on
the evaluation subset (``evaluate.monitor_points``) every ``--every`` iterations.  Printed and written to
``--out`` (default results/optimizers.md): iterations and training wall time to reach rel L2 1e-3 / 1e-4 /
1e-5, final rel L2 and how each phase ended, plus figures of rel L2 against iteration and against wall time.

    python benchmarks/optimizers.py --problems burgers,heat,poisson1d,poisson2d --steps 3000

Wall times are this machine's (run nothing else meanwhile); iteration counts do not depend on the machine.
"""

from __future__ import annotations

import argparse
import copy
import io
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import torch
from matplotlib.figure import Figure

from pinn_mrepu import PINNSolver, load_config
from pinn_mrepu.storage import atomic_write, cpu_model
from pinn_mrepu.training.allocator import tune_malloc

ROOT = Path(__file__).resolve().parents[1]
OPTIMIZERS = ("lbfgs", "bfgs", "ssbfgs", "ssbroyden")
LEVELS = (1e-3, 1e-4, 1e-5, 1e-6)


def warm_start(problem: str, overrides: list[str]) -> tuple[object, dict]:
    """The config (with the file's phases) and the trainer state after its Adam phase (phase 0)."""
    config = load_config(ROOT / "problems" / f"{problem}.yaml", overrides)
    adam = copy.deepcopy(config)
    adam.train.phases = [config.train.phases[0]]
    if adam.train.phases[0].optimizer != "adam":
        raise SystemExit(f"{problem}: the first phase must be adam, got {adam.train.phases[0].optimizer}")
    solver = PINNSolver(adam)
    solver.train()
    return config, solver.trainer.state_dict()


def continue_with(config, state: dict, optimizer: str, steps: int, every: int, extra: dict) -> dict:
    """Run ``optimizer`` for ``steps`` iterations from the warm ``state``; its curve and summary."""
    cfg = copy.deepcopy(config)
    cfg.train.phases = [cfg.train.phases[0], {"optimizer": optimizer, "steps": steps, **extra}]
    cfg.evaluate.monitor_every = every
    solver = PINNSolver(cfg)
    solver.trainer.load_state_dict(copy.deepcopy(state))
    start = solver.trainer.elapsed
    t0 = time.perf_counter()
    result = solver.train()
    wall = time.perf_counter() - t0
    rows = [r for r in result.history if r["phase"] == optimizer and "rel_l2" in r]
    curve = [(r["step"] - state["step"], r["elapsed_s"] - start, r["rel_l2"]) for r in rows]
    metrics = solver.evaluate()
    phase = result.phases[-1]
    return {"optimizer": optimizer, "curve": curve, "rel_l2": metrics["rel_l2"], "wall_s": wall,
            "steps": phase["steps"], "evals": phase["evals"], "stopped": phase["stopped"], "message": phase["message"]}


def first_reach(curve: list[tuple[int, float, float]], level: float) -> tuple[int, float] | None:
    return next(((it, t) for it, t, e in curve if e <= level), None)


def _fmt_reach(hit: tuple[int, float] | None) -> str:
    return "—" if hit is None else f"{hit[0]} it / {hit[1]:.0f} s"


def figure(problem: str, runs: list[dict], path: Path, note: str) -> None:
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    a, b = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for run in runs:
        if not run["curve"]:
            continue
        it, t, e = zip(*run["curve"])
        a.semilogy(it, e, label=run["optimizer"])
        b.semilogy(t, e, label=run["optimizer"])
    a.set_xlabel("quasi-Newton iteration (after the Adam warm start)")
    b.set_xlabel("training wall time after the warm start (s)")
    for ax in (a, b):
        ax.set_ylabel("rel L2 error")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{problem}: {note}", fontsize=9)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    atomic_write(path, buf.getvalue())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--problems", default="burgers,heat,poisson1d,poisson2d")
    ap.add_argument("--optimizers", default=",".join(OPTIMIZERS))
    ap.add_argument("--steps", type=int, default=3000, help="quasi-Newton iterations per optimizer")
    ap.add_argument("--every", type=int, default=10, help="rel L2 recorded every this many iterations")
    ap.add_argument("--loss", default="mse", choices=("mse", "sqrt", "log"), help="loss form of the QN phase")
    ap.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--out", default=str(ROOT / "results" / "optimizers.md"))
    args = ap.parse_args(argv)
    tune_malloc()
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    lines = ["# Quasi-Newton optimizers from one Adam warm start", "",
             f"Command: `{shlex.join(['python', 'benchmarks/optimizers.py', *(argv if argv is not None else sys.argv[1:])])}`",
             "", f"Machine: {cpu_model()}, {os.cpu_count()} logical cores, {torch.get_num_threads()} torch threads, "
             f"Python {platform.python_version()}, torch {torch.__version__}; seeds as in each problem file "
             "(train.seed 0 unless overridden).", ""]
    for problem in args.problems.split(","):
        config, state = warm_start(problem, list(args.overrides))
        n = sum(p.numel() for p in PINNSolver(config).model.parameters())
        note = (f"{config.network.depth} x {config.network.width} {config.network.activation}, {n} parameters, "
                f"{config.train.phases[0].steps} Adam steps, then {args.steps} iterations (loss {args.loss})")
        runs = []
        for opt in args.optimizers.split(","):
            extra = {"loss": args.loss}
            runs.append(continue_with(config, state, opt, args.steps, args.every, extra))
            r = runs[-1]
            print(f"{problem} {opt}: rel L2 {r['rel_l2']:.3e} after {r['steps']} it, {r['wall_s']:.1f} s, "
                  f"{r['stopped']}", flush=True)
        fig_path = out.with_name(f"optimizers_{problem}.png")
        figure(problem, runs, fig_path, note)
        lines += [f"## {problem}", "", note + ".", "",
                  "| optimizer | " + " | ".join(f"to {lv:.0e}" for lv in LEVELS) + " | final rel L2 | iterations | "
                  "evaluations | wall s | ended |", "|---" * (len(LEVELS) + 6) + "|"]
        for r in runs:
            reach = " | ".join(_fmt_reach(first_reach(r["curve"], lv)) for lv in LEVELS)
            ended = r["stopped"] + (f": {r['message']}" if r["message"] else "")
            lines.append(f"| {r['optimizer']} | {reach} | {r['rel_l2']:.2e} | {r['steps']} | {r['evals']} | "
                         f"{r['wall_s']:.0f} | {ended} |")
        lines += ["", f"![{problem}]({fig_path.name})", ""]
        atomic_write(out, "\n".join(lines) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
