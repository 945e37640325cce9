"""The paper's non-PDE experiments (arXiv 2408.02697): deep polynomial regression and a digits stand-in for vision.

- :func:`run_regression`: fit a target expression on [-1, 1]^d with a deep MLP (test MSE, H1 error, status);
- :func:`run_digits`: classify scikit-learn's bundled 8x8 digits with a deep or residual MLP;
- :func:`run_study`: a resumable grid of either, with the lr tuned per cell by the training loss;
- :func:`write_report`: summary CSV, markdown tables and figures of a study.
"""

from .digits import ResidualMLP as ResidualMLP
from .digits import load_digits_split as load_digits_split
from .digits import run_digits as run_digits
from .regression import TARGETS as TARGETS
from .regression import Target as Target
from .regression import make_target as make_target
from .regression import run_regression as run_regression
from .report import summarise as summarise
from .report import write_report as write_report
from .study import StudyResult as StudyResult
from .study import digits_cells as digits_cells
from .study import parse_variants as parse_variants
from .study import read_rows as read_rows
from .study import regression_cells as regression_cells
from .study import run_study as run_study

__all__ = ["run_regression", "run_digits", "run_study", "write_report", "summarise", "read_rows", "StudyResult",
           "regression_cells", "digits_cells", "parse_variants", "TARGETS", "Target", "make_target",
           "ResidualMLP", "load_digits_split"]
