"""Command-line entry points: ``solve`` and ``pinn-mrepu {solve,compare,criticality}``.

This is the only module that touches process-wide state (signal handlers, the terminal, and glibc's malloc
thresholds via :func:`pinn_mrepu.allocator.tune_malloc`, which stops every training step from page-faulting its
tensors back in).  Exit status of
``solve``: 0 done, 1 training failed (e.g. non-finite loss), 2 bad input, 130 interrupted (SIGINT/SIGTERM; the
run folder then holds a checkpoint that ``solve --resume DIR`` continues).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

from .allocator import tune_malloc
from .errors import ConfigError

__all__ = ["main", "solve_main"]

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130


class _StopFlag:
    """Set by SIGINT/SIGTERM; polled by the trainer between steps."""

    def __init__(self):
        self.stopped = False

    def __call__(self) -> bool:
        return self.stopped

    def install(self) -> None:
        def handler(signum, frame):
            self.stopped = True

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)


def _progress(quiet: bool):
    """A tqdm bar (phase, step, loss, ETA) on a terminal; nothing when quiet or not a TTY."""
    if quiet or not sys.stderr.isatty():
        return None, lambda: None
    from tqdm import tqdm

    bars: dict[str, tqdm] = {}

    def callback(event) -> None:
        bar = bars.get(event.phase)
        if bar is None:
            for other in bars.values():
                other.close()
            bar = bars[event.phase] = tqdm(total=event.total, desc=event.phase, unit="step", dynamic_ncols=True,
                                           leave=True)
        bar.n = min(event.step, event.total)
        bar.set_postfix(loss=f"{event.loss:.3e}", refresh=False)
        bar.refresh()

    def close() -> None:
        for bar in bars.values():
            bar.close()

    return callback, close


def add_solve_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("problem", nargs="?", help="problem YAML file (e.g. problems/burgers.yaml); omit with --resume")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override a config value, e.g. --set network.depth=7 (repeatable)")
    p.add_argument("--activation", help="shorthand for --set network.activation=NAME (resets activation_params)")
    p.add_argument("--out", help="run folder (default results/runs/<problem>-<activation>-<timestamp>)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), help="override train.device")
    p.add_argument("--resume", metavar="DIR", help="continue the interrupted run in DIR")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run folder")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def run_solve(args: argparse.Namespace) -> int:
    from .config import load_config
    from .runs import default_run_dir, resume_folder, run_to_folder

    stop = _StopFlag()
    callback, close = _progress(args.quiet)
    try:
        if args.resume:
            if args.problem or args.overrides or args.activation:
                raise ConfigError("--resume", args.resume, "takes its config from the run folder; give no PROBLEM, --set or --activation")
            stop.install()
            outcome = resume_folder(args.resume, device=args.device, callback=callback, should_stop=stop)
        else:
            if not args.problem:
                raise ConfigError("problem", None, "a problem YAML file is required (or --resume DIR)")
            overrides = list(args.overrides)
            if args.activation:
                overrides.insert(0, f"network.activation={args.activation}")
            config = load_config(args.problem, overrides)
            out = args.out or default_run_dir(config)
            stop.install()
            outcome = run_to_folder(config, out, overwrite=args.overwrite, device=args.device, callback=callback,
                                    should_stop=stop)
    except ConfigError as exc:
        close()
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    close()
    m, r = outcome.metrics, outcome.result
    print(f"{r.status}: {r.message}")
    print(f"  rel L2 error     {m.get('rel_l2', float('nan')):.3e}")
    print(f"  max abs error    {m.get('max_abs_error', float('nan')):.3e}")
    print(f"  mean |residual|  {m.get('mean_abs_residual', float('nan')):.3e}")
    print(f"  steps            adam {r.adam_steps}, lbfgs {r.lbfgs_steps}")
    print(f"  wall time        {r.wall_time_s:.1f} s on {m.get('device')}")
    print(f"  results          {outcome.directory}")
    if r.status == "interrupted":
        print(f"  resume with      solve --resume {outcome.directory}")
        return EXIT_INTERRUPTED
    return EXIT_OK if r.status == "done" else EXIT_FAILED


def _criticality(args: argparse.Namespace) -> int:
    from .criticality_report import criticality_report

    params = {} if args.p is None else {"p": args.p}
    try:
        print(criticality_report(args.activation, depth=args.depth, **params))
        if args.plot:
            from .criticality_plots import write_criticality_figures

            for path in write_criticality_figures(args.activation, depth=args.depth, out_dir=args.plot, **params):
                print(f"wrote {path}")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _compare(args: argparse.Namespace) -> int:
    from .compare_cli import run_compare_cli

    return run_compare_cli(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pinn-mrepu", description="PINNs with MRePU activations")
    sub = parser.add_subparsers(dest="command", required=True)
    solve = sub.add_parser("solve", help="train a PINN on a problem YAML and write a run folder")
    add_solve_arguments(solve)
    solve.set_defaults(func=run_solve)
    crit = sub.add_parser("criticality", help="universality class, susceptibilities and critical init")
    crit.add_argument("--activation", default="mrepu")
    crit.add_argument("--p", type=int, default=None, help="power p for mrepu/repu")
    crit.add_argument("--depth", type=int, default=20)
    crit.add_argument("--plot", metavar="DIR", help="write the figures into DIR")
    crit.set_defaults(func=_criticality)
    try:
        from .compare_cli import add_compare_arguments
    except ImportError:  # pragma: no cover - compare not installed in this build
        add_compare_arguments = None
    if add_compare_arguments is not None:
        comp = sub.add_parser("compare", help="sweep activations x depths x seeds and summarise")
        add_compare_arguments(comp)
        comp.set_defaults(func=_compare)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``pinn-mrepu`` entry point."""
    args = build_parser().parse_args(argv)
    tune_malloc()
    return args.func(args)


def solve_main(argv: Sequence[str] | None = None) -> int:
    """``solve`` entry point (same as ``pinn-mrepu solve``)."""
    parser = argparse.ArgumentParser(prog="solve", description="train a PINN on a problem YAML")
    add_solve_arguments(parser)
    args = parser.parse_args(argv)
    tune_malloc()
    return run_solve(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
