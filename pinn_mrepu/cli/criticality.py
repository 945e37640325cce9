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
    p.add_argument("--activation", default="mrepu", help="a registered activation (default: %(default)s)")
    p.add_argument("--p", type=int, default=None,
                   help="power p for mrepu/repu (default: the activation's own, 2), also of the RePU reference")
    p.add_argument("--depth", type=int, default=20,
                   help="number of hidden layers L, as network.depth; the network has L + 1 linear layers "
                        "(default: %(default)s)")
    p.add_argument("--width", type=int, default=20,
                   help="hidden width of the network the layer variances are for (MRePU's first layer has a "
                        "finite-width margin; default: %(default)s, as network.width)")
    p.add_argument("--plot", metavar="DIR", default=None,
                   help="write kernel_vs_layer.png, susceptibilities.png, phase_diagram.png into DIR "
                        "(default: no figures)")


def run_criticality(args: argparse.Namespace) -> int:
    params = {} if args.p is None else {"p": args.p}
    try:
        print(criticality_report(args.activation, depth=args.depth, width=args.width, **params))
        if args.plot:
            from pinn_mrepu.criticality.plots import write_criticality_figures

            for path in write_criticality_figures(args.activation, depth=args.depth, out_dir=args.plot, **params):
                print(f"wrote {path}")
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK
