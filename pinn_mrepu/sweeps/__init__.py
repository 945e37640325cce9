"""Activation x depth x seed sweeps: plan, run one, executors (local, ray), statistics, figures.

``compare(problem, activations=..., depths=..., seeds=...)`` is the entry point; figures are drawn by
:mod:`pinn_mrepu.sweeps.plots` (imported on demand: matplotlib).
"""

from .executors import EXECUTORS as EXECUTORS
from .plan import RunSpec as RunSpec
from .plan import SweepPlan as SweepPlan
from .plan import Variant as Variant
from .plan import default_out as default_out
from .plan import parse_activations as parse_activations
from .plan import parse_int_list as parse_int_list
from .plan import plan_sweep as plan_sweep
from .sweep import CompareEvent as CompareEvent
from .sweep import compare as compare

__all__ = ["compare", "CompareEvent", "plan_sweep", "SweepPlan", "RunSpec", "Variant", "parse_activations",
           "parse_int_list", "default_out", "EXECUTORS"]
