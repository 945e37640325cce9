"""The paper's theory as an executable toolkit: kernel recursion, susceptibilities, critical initialisation,
ensembles of random networks that test it, and the ``pinn-mrepu criticality`` report.

Figures are in :mod:`pinn_mrepu.criticality.plots` (imported on demand: it needs matplotlib).
"""

from .ensembles import EmpiricalKernels as EmpiricalKernels
from .ensembles import empirical_kernels as empirical_kernels
from .initialization import CriticalInit as CriticalInit
from .initialization import critical_init as critical_init
from .report import criticality_report as criticality_report
from .theory import UNIVERSALITY_CLASSES as UNIVERSALITY_CLASSES
from .theory import FixedPoints as FixedPoints
from .theory import fixed_points as fixed_points
from .theory import gaussian_expectation as gaussian_expectation
from .theory import kernel_recursion as kernel_recursion
from .theory import susceptibilities as susceptibilities

__all__ = ["kernel_recursion", "susceptibilities", "gaussian_expectation", "fixed_points", "FixedPoints",
           "UNIVERSALITY_CLASSES", "critical_init", "CriticalInit", "empirical_kernels", "EmpiricalKernels",
           "criticality_report"]
