"""Thin argparse layers over the API: ``solve``, ``pinn-mrepu {solve,compare,criticality}``."""

from .common import EXIT_BAD_INPUT as EXIT_BAD_INPUT
from .common import EXIT_FAILED as EXIT_FAILED
from .common import EXIT_INTERRUPTED as EXIT_INTERRUPTED
from .common import EXIT_OK as EXIT_OK
from .main import main as main
from .main import solve_main as solve_main

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_INTERRUPTED", "EXIT_OK", "main", "solve_main"]
