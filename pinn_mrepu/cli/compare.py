"""``pinn-mrepu compare``: the command-line layer over :func:`pinn_mrepu.compare`.

    pinn-mrepu compare PROBLEM.yaml --activations mrepu,tanh,repu [--p 2,3] --depths 3,5,7,10 --seeds 0-4
                       [--set KEY=VALUE ...] [--jobs N] [--executor local|ray] [--address ADDR] [--out DIR] [--quiet]

Exit status: 0 the sweep finished (failed runs are results, not errors), 1 some run raised an exception
(status ``error`` in summary.csv), 2 bad input (one line on stderr, nothing run), 130 interrupted
(SIGINT/SIGTERM: running runs checkpoint; re-run the printed command to resume).
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
from pathlib import Path

import yaml

from pinn_mrepu.errors import ConfigError
from pinn_mrepu.sweeps import compare, default_out
from pinn_mrepu.sweeps.stats import format_number, group_summary

from .common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    StopFlag,
    io_error,
)

__all__ = ["add_compare_arguments", "run_compare_cli"]


def add_compare_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the ``compare`` subcommand."""
    p.add_argument("problem", help="problem YAML file (e.g. problems/burgers.yaml)")
    p.add_argument("--activations", default="mrepu,tanh,repu",
                   help="comma-separated activations; NAME:P fixes p for mrepu/repu, e.g. mrepu:2,mrepu:3,tanh "
                        "(default mrepu,tanh,repu)")
    p.add_argument("--p", help="powers for mrepu/repu given without :P, e.g. 2,3 (one variant per p)")
    p.add_argument("--depths", default="3,5,7,10", help="hidden-layer counts, e.g. 3,5,7,10 (default)")
    p.add_argument("--seeds", default="0-4", help="seeds: a range 0-4 (default) or a list 0,1,5")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value in every run, e.g. --set train.phases.adam.steps=2000 (repeatable)")
    p.add_argument("--tune", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="candidate values tried per activation and depth on the tuning seeds, e.g. --tune "
                        "train.phases.adam.lr=1e-3,3e-3,1e-2 (repeatable: the cartesian product is tried); the study "
                        "then runs with each activation's winner")
    p.add_argument("--tune-seeds", default="100-102", help="seeds of the tuning runs, disjoint from --seeds "
                                                           "(default 100-102)")
    p.add_argument("--tune-by", default="loss", choices=("loss", "residual"),
                   help="tuning score, never the exact solution: final training loss (default) or mean |PDE "
                        "residual| on fresh points")
    p.add_argument("--jobs", type=int, default=1, help="concurrent runs (default 1: in this process)")
    p.add_argument("--executor", default="local", help="local (process pool, default) or ray (pip install pinn_mrepu[ray])")
    p.add_argument("--address", help="Ray cluster address (default: start a local Ray)")
    p.add_argument("--out", help="sweep folder (default results/compare/<problem>-<timestamp>); "
                                 "re-running with the same --out resumes")
    p.add_argument("--run-figures", action="store_true", help="also write solution.png and loss.png in every run folder")
    p.add_argument("--no-figures", action="store_true", help="write no sweep figures")
    p.add_argument("--report", action="store_true",
                   help="run nothing: write summary.{csv,md}, tuning.csv and the figures from the finished runs in --out")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _progress_bar(quiet: bool):
    """A tqdm bar over runs (with ETA) on a terminal; nothing when quiet or not a TTY."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bar = []

    def callback(event) -> None:
        if not bar:
            bar.append(tqdm(total=event.total, initial=event.completed, desc="compare", unit="run", dynamic_ncols=True))
        if event.record is not None:
            r = event.record
            bar[0].set_postfix_str(f"{r['activation']} d{r['depth']} s{r['seed']}: {r['status']}", refresh=False)
            bar[0].update(1)

    return callback, lambda: [b.close() for b in bar]


def _median_table(records: list[dict]) -> list[str]:
    groups = group_summary(records)
    labels = list(dict.fromkeys(g["activation"] for g in groups))
    depths = sorted({g["depth"] for g in groups})
    cell = {(g["activation"], g["depth"]): g for g in groups}
    width = max(len("activation"), *(len(lab) for lab in labels))
    lines = ["median rel L2 error (failures/runs when any failed)",
             f"{'activation':<{width}}" + "".join(f"  {'depth ' + str(d):>16}" for d in depths)]
    for lab in labels:
        row = f"{lab:<{width}}"
        for d in depths:
            g = cell.get((lab, d))
            text = "" if g is None else format_number(g["median"]) + (f" ({g['failures']}/{g['runs']})" if g["failures"] else "")
            row += f"  {text:>16}"
        lines.append(row)
    return lines


def run_compare_cli(args: argparse.Namespace) -> int:
    """Run ``pinn-mrepu compare`` from parsed ``args``; returns the exit status."""
    stop = StopFlag()
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    callback, close = _progress_bar(args.quiet)
    out, existed = None, True
    try:
        out = args.out or default_out(args.problem)
        existed = Path(out).exists()
        stop.install()
        records = compare(args.problem, activations=args.activations, p=args.p, depths=args.depths, seeds=args.seeds,
                          overrides=args.overrides, jobs=args.jobs, executor=args.executor, address=args.address,
                          out=out, progress=callback, should_stop=stop, figures=not args.no_figures,
                          run_figures=args.run_figures, tune=args.tune, tune_seeds=args.tune_seeds,
                          tune_by=args.tune_by, execute=not args.report)
    except (ConfigError, OSError) as exc:
        if not existed and out is not None and Path(out).is_dir() and not any(Path(out).iterdir()):
            Path(out).rmdir()  # an empty folder made by this failed call
        print(f"error: {exc if isinstance(exc, ConfigError) else io_error(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    finally:
        close()
        for s, handler in saved.items():
            if handler is not None:
                signal.signal(s, handler)
    try:
        command = yaml.safe_load(Path(out, "sweep.yaml").read_text(encoding="utf-8"))["command"]
    except (OSError, KeyError, TypeError, yaml.YAMLError):
        command = None
    for line in _median_table(records):
        print(line)
    counts = {s: sum(r["status"] == s for r in records) for s in ("done", "failed", "error", "interrupted", "pending")}
    print("runs: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    wall = sum(r["wall_time_s"] for r in records if isinstance(r.get("wall_time_s"), float) and math.isfinite(r["wall_time_s"]))
    print(f"training time summed over runs: {wall:.1f} s")
    print(f"results: {out}/summary.md, {out}/summary.csv, figures and runs/ in {out}")
    if args.report:  # nothing was run: the summaries are the point, unfinished runs are expected
        if counts["error"] or counts["interrupted"] or counts["pending"]:  # a resume redoes or runs these
            print(f"report only; continue the sweep with: {command or '(the same command without --report)'}")
        return EXIT_OK
    if stop.stopped or counts["interrupted"] or counts["pending"]:
        print(f"interrupted; resume with: {command or '(the same command with --out ' + str(out) + ')'}")
        return EXIT_INTERRUPTED
    if counts["error"]:
        print(f"{counts['error']} run(s) raised an exception: see the message column of {out}/summary.csv "
              "and error.txt in their run folders")
        return EXIT_FAILED
    return EXIT_OK
