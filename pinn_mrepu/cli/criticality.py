"""``pinn-mrepu criticality``: universality class, susceptibilities and critical init of an activation."""

from __future__ import annotations

import argparse
import sys

from pinn_mrepu.criticality import criticality_report
from pinn_mrepu.errors import ConfigError

from .common import EXIT_BAD_INPUT, EXIT_OK

__all__ = ["add_criticality_arguments", "run_criticality"]


def add_criticality_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments of the ``criticality`` subcommand."""
    p.add_argument("--activation", default="mrepu")
    p.add_argument("--p", type=int, default=None, help="power p for mrepu/repu")
    p.add_argument("--depth", type=int, default=20)
    p.add_argument("--plot", metavar="DIR", help="write the figures into DIR")


def run_criticality(args: argparse.Namespace) -> int:
    params = {} if args.p is None else {"p": args.p}
    try:
        print(criticality_report(args.activation, depth=args.depth, **params))
        if args.plot:
            from pinn_mrepu.criticality.plots import write_criticality_figures

            for path in write_criticality_figures(args.activation, depth=args.depth, out_dir=args.plot, **params):
                print(f"wrote {path}")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK
