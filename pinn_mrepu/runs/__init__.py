"""Run folders, the unit of results: ``solve``, ``compare`` and the API all write the same format.

:func:`run_to_folder` trains (or resumes) one run into a folder with config.yaml, metrics.json, history.csv,
model.pt and figures; the figures are drawn by :mod:`pinn_mrepu.runs.plots` (imported on demand: matplotlib).
"""

from .folders import RunOutcome as RunOutcome
from .folders import default_run_dir as default_run_dir
from .folders import resume_folder as resume_folder
from .folders import run_to_folder as run_to_folder

__all__ = ["RunOutcome", "default_run_dir", "resume_folder", "run_to_folder"]
