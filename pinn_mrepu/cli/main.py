"""Command-line entry points: ``solve`` and ``pinn-mrepu {solve,compare,criticality,experiment}``.

The ``cli`` package is the only one that touches process-wide state (signal handlers, the terminal, and glibc's malloc
thresholds via :func:`pinn_mrepu.training.allocator.tune_malloc`, which stops every training step from page-faulting its
tensors back in).  Exit status of
``solve``: 0 done, 1 training failed (e.g. non-finite loss), 2 bad input, 130 interrupted (SIGINT/SIGTERM; the
run folder then holds a checkpoint that ``solve --resume DIR`` continues).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pinn_mrepu.training.allocator import tune_malloc

from .compare import add_compare_arguments, run_compare_cli
from .criticality import add_criticality_arguments, run_criticality
from .experiment import add_experiment_arguments, run_experiment_cli
from .solve import add_solve_arguments, run_solve

__all__ = ["build_parser", "main", "solve_main"]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pinn_mrepu")
    except PackageNotFoundError:  # running from a source tree that is not installed
        return "unknown (not installed)"


_EXITS = {"solve": "0 done, 1 training failed (non-finite loss; the last finite state is kept), 2 bad input (one "
                   "line on stderr, nothing written), 130 interrupted (resume with solve --resume DIR)",
          "compare": "0 the sweep finished (failed runs are results), 1 some run raised an exception, 2 bad input "
                     "(one line on stderr, nothing run), 130 interrupted (re-run the printed command to resume)"}


def _epilog(kind: str = "solve") -> str:
    from pinn_mrepu.activations import activation_names

    return (f"activations: {', '.join(activation_names())} (mrepu/repu take p: --set network.activation_params.p=3)."
            f"  Exit status: {_EXITS[kind]}.  Every config key is documented in README.md, section Configuration; "
            "problem files are in problems/.")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pinn-mrepu", description="PINNs with MRePU activations")
    parser.add_argument("--version", action="version", version=f"pinn-mrepu {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    solve = sub.add_parser("solve", help="train a PINN on a problem YAML and write a run folder", epilog=_epilog())
    add_solve_arguments(solve)
    solve.set_defaults(func=run_solve)
    crit = sub.add_parser("criticality", help="universality class, susceptibilities and critical init")
    add_criticality_arguments(crit)
    crit.set_defaults(func=run_criticality)
    comp = sub.add_parser("compare", help="sweep activations x depths x seeds and summarise",
                          epilog=_epilog("compare"))
    add_compare_arguments(comp)
    comp.set_defaults(func=run_compare_cli)
    expt = sub.add_parser("experiment", help="the paper's non-PDE experiments: deep regression, digits")
    add_experiment_arguments(expt)
    expt.set_defaults(func=run_experiment_cli)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """``pinn-mrepu`` entry point."""
    args = build_parser().parse_args(argv)
    tune_malloc()
    return args.func(args)


def solve_main(argv: Sequence[str] | None = None) -> int:
    """``solve`` entry point (same as ``pinn-mrepu solve``)."""
    parser = argparse.ArgumentParser(prog="solve", description="train a PINN on a problem YAML", epilog=_epilog())
    parser.add_argument("--version", action="version", version=f"pinn-mrepu {_version()}")
    add_solve_arguments(parser)
    args = parser.parse_args(argv)
    tune_malloc()
    return run_solve(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
