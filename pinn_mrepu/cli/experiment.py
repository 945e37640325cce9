"""``pinn-mrepu experiment regression|digits``: the paper's non-PDE experiments as a resumable study.

    pinn-mrepu experiment regression [--targets xyz,poly3,sincos] [--depths 3,6,10,20]
                                     [--activations mrepu:2,mrepu:3,repu:2,repu:3,relu,gelu,tanh] [--seeds 0-2]
                                     [--steps 2000] [--width 32] [--lrs 1e-3,3e-3] [--tune-seeds 0] [--init critical]
                                     [--n-train 2000] [--n-test 2000] [--out DIR] [--time-limit S]
    pinn-mrepu experiment digits     [--depths 5,10,20] [--residual-blocks 5] [--epochs 30] [--width 64] ...

Each run is one row of ``DIR/<kind>.csv``; re-running with the same ``--out`` skips finished rows.  Then
``DIR/<kind>_summary.csv``, ``<kind>_report.md`` and figures are written from the main runs.  Exit status: 0 the
study is complete, 1 it stopped early (``--time-limit`` or SIGINT/SIGTERM: re-run to resume), 2 bad input.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys

import torch

from pinn_mrepu.errors import ConfigError
from pinn_mrepu.experiments import digits_cells, make_target, parse_variants, regression_cells, run_study, write_report
from pinn_mrepu.nn import MLP
from pinn_mrepu.storage import cpu_model

from .common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, StopFlag, io_error

__all__ = ["add_experiment_arguments", "run_experiment_cli"]

_DEFAULT_ACTS = "mrepu:2,mrepu:3,repu:2,repu:3,relu,gelu,tanh"


def add_experiment_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the ``experiment`` subcommand."""
    p.add_argument("kind", choices=("regression", "digits"), help="which experiment")
    p.add_argument("--activations", help=f"NAME or NAME:P, comma-separated (default regression {_DEFAULT_ACTS}; "
                                         "digits mrepu:2,relu,gelu,repu:2,tanh)")
    p.add_argument("--depths", help="hidden layers (default regression 3,6,10,20; digits 5,10,20)")
    p.add_argument("--seeds", default="0-2", help="main seeds: a range 0-2 (default) or a list 0,1,5")
    p.add_argument("--tune-seeds", default="0", help="seeds on which each lr candidate runs (default 0)")
    p.add_argument("--lrs", default="1e-3,3e-3", help="Adam lr candidates, chosen per cell by training loss")
    p.add_argument("--init", default="critical", help="critical (default), glorot_normal or lecun_normal")
    p.add_argument("--width", type=int, help="neurons per hidden layer (default regression 32, digits 64)")
    p.add_argument("--targets", default="xyz,poly3,sincos", help="regression: names or expressions over x,y,z")
    p.add_argument("--steps", type=int, default=2000, help="regression: full-batch Adam steps (default 2000)")
    p.add_argument("--n-train", type=int, default=2000, help="regression: training points (default 2000)")
    p.add_argument("--n-test", type=int, default=2000, help="regression: test points (default 2000)")
    p.add_argument("--epochs", type=int, default=30, help="digits: epochs of mini-batch Adam (default 30)")
    p.add_argument("--residual-blocks", default="5", help="digits: residual MLP block counts; 0 for none")
    p.add_argument("--out", help="study folder (default results/experiments/<kind>); re-running resumes")
    p.add_argument("--time-limit", type=float, help="stop starting new runs after this many seconds")
    p.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    p.add_argument("--quiet", action="store_true", help="no per-run line on stderr")


def _ints(text: str, what: str) -> list[int]:
    out = []
    for part in (s.strip() for s in str(text).split(",") if s.strip()):
        lo, sep, hi = part.partition("-")
        if not (lo.isdigit() and (not sep or hi.isdigit())):
            raise ConfigError(what, text, "must be integers or ranges, e.g. 0-2 or 3,6,10")
        out.extend(range(int(lo), int(hi) + 1) if sep else [int(lo)])
    if not out:
        raise ConfigError(what, text, "must list at least one integer")
    return list(dict.fromkeys(out))


def _floats(text: str, what: str) -> list[float]:
    try:
        vals = [float(s) for s in str(text).split(",") if s.strip()]
    except ValueError:
        vals = []
    if not vals or not all(v > 0 for v in vals):
        raise ConfigError(what, text, "must be positive numbers, e.g. 1e-3,3e-3")
    return vals


def _study(args) -> tuple[list[dict], str]:
    if args.kind == "regression":
        variants = parse_variants(args.activations or _DEFAULT_ACTS)
        depths = _ints(args.depths or "3,6,10,20", "depths")
        cells = regression_cells([t.strip() for t in args.targets.split(",") if t.strip()], variants, depths,
                                 width=args.width or 32, steps=args.steps, init=args.init,
                                 n_train=args.n_train, n_test=args.n_test)
        budget = (f"width {args.width or 32}, {args.steps} full-batch Adam steps on {args.n_train} points, "
                  f"init {args.init}")
    else:
        variants = parse_variants(args.activations or "mrepu:2,relu,gelu,repu:2,tanh")
        depths = _ints(args.depths or "5,10,20", "depths")
        blocks = [b for b in _ints(args.residual_blocks, "residual-blocks") if b > 0]
        cells = digits_cells([("mlp", d) for d in depths] + [("residual", b) for b in blocks], variants,
                             width=args.width or 64, epochs=args.epochs, init=args.init)
        budget = f"width {args.width or 64}, {args.epochs} epochs of Adam (batch 64), init {args.init}"
    return cells, budget


def _validate(cells: list[dict]) -> None:
    """Every target, activation and init of the grid builds (ConfigError before anything runs)."""
    for target in dict.fromkeys(c["target"] for c in cells if "target" in c):
        make_target(target)
    for a, p, init in dict.fromkeys((c["activation"], tuple(sorted(c["params"].items())), c["init"]) for c in cells):
        MLP(1, 1, width=1, depth=1, activation=a, activation_params=dict(p), init=init)


def run_experiment_cli(args) -> int:
    """Run (or resume) the study and write its report; one ``error:`` line and status 2 on bad input."""
    try:
        cells, budget = _study(args)
        seeds, tune = _ints(args.seeds, "seeds"), _ints(args.tune_seeds, "tune-seeds")
        lrs = _floats(args.lrs, "lrs")
        _validate(cells)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    torch.set_num_threads(max(1, args.threads))
    out = args.out or os.path.join("results", "experiments", args.kind)
    stop = StopFlag()
    stop.install()

    def progress(event: dict) -> None:
        if args.quiet or event["skipped"]:
            return
        r = event["row"]
        what = r.get("target") or f"{r['arch']}"
        print(f"[{event['done']}/{event['planned']}] {what} {r['activation']} {r['params']} depth {r['depth']} "
              f"seed {r['seed']} lr {r['lr']:g}: {r['status']} ({r['seconds']:.1f} s)", file=sys.stderr)

    try:
        result = run_study(args.kind, cells, out, seeds=seeds, lrs=lrs, tune_seeds=tune,
                           time_limit_s=args.time_limit, should_stop=stop, on_run=progress)
        header = [f"Status: {result.message}.", "",
                  f"Command: `pinn-mrepu experiment {' '.join(shlex.quote(a) for a in sys.argv[2:])}`" if
                  sys.argv[1:2] == ["experiment"] else f"Command: `pinn-mrepu experiment {args.kind} ...`", "",
                  f"Budget: {budget}; lr candidates {', '.join(f'{v:g}' for v in lrs)} chosen per cell by the "
                  f"median final training loss on tuning seeds {', '.join(map(str, tune))}; main seeds "
                  f"{', '.join(map(str, seeds))}.", "",
                  f"Machine: {cpu_model()} ({os.cpu_count()} cores), torch {torch.__version__}, "
                  f"{torch.get_num_threads()} thread(s), Python {platform.python_version()}."]
        write_report(args.kind, result.main_rows, out, header=header, budget=budget)
    except OSError as exc:
        print(f"error: {io_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{result.message}; report in {out}", file=sys.stderr)
    return EXIT_OK if result.status == "complete" else EXIT_FAILED
