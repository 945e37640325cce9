"""Quasi-Newton optimizers on a flat float64 parameter vector (BFGS, SSBFGS, SSBroyden, L-BFGS).

They know nothing about neural networks: the caller flattens the parameters into ``x`` (n,) and
passes ``closure(x) -> (loss (), grad (n,))``; each :meth:`QuasiNewton.step` is one iteration with a
strong-Wolfe line search that survives non-finite trial points.  Depends only on torch.

    opt = DenseQuasiNewton(n, method="ssbroyden")      # or "bfgs", "ssbfgs";  LBFGS(n, history_size=50)
    f, g = closure(x)
    res = opt.step(x, f, g, closure)                   # StepResult(x, f, g, evals, status, alpha, message, ...)
"""

from .base import CONVERGED, OK, RESET, SKIPPED_UPDATE, QuasiNewton, StepResult
from .lbfgs import LBFGS, two_loop
from .line_search import (
    ARMIJO_ONLY,
    FAILED,
    NOT_DESCENT,
    STRONG_WOLFE,
    Closure,
    LineSearch,
    LineSearchResult,
    cubic_minimizer,
    strong_wolfe,
)
from .quasi_newton import DEFAULT_MAX_MEMORY_BYTES, METHODS, DenseQuasiNewton, dense_memory_bytes
from .updates import SSBroydenScalars, bfgs_update, ssbfgs_update, ssbroyden_scalars, ssbroyden_update

__all__ = ["ARMIJO_ONLY", "CONVERGED", "DEFAULT_MAX_MEMORY_BYTES", "FAILED", "LBFGS", "METHODS",
           "NOT_DESCENT", "OK", "RESET", "SKIPPED_UPDATE", "STRONG_WOLFE", "Closure", "DenseQuasiNewton",
           "LineSearch", "LineSearchResult", "QuasiNewton", "SSBroydenScalars", "StepResult",
           "bfgs_update", "cubic_minimizer", "dense_memory_bytes", "ssbfgs_update", "ssbroyden_scalars",
           "ssbroyden_update", "strong_wolfe", "two_loop"]
