"""Optimizer phases and the :data:`PHASES` registry (name -> Phase class).

A new optimizer is one module here (a :class:`Phase` subclass with its ``Options`` dataclass) plus one entry in
:data:`PHASES`.  ``train.phases`` in the YAML is a list of mappings, each naming its ``optimizer``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pinn_mrepu.config import build_section
from pinn_mrepu.errors import ConfigError

from .adam import Adam as Adam
from .adam import AdamOptions as AdamOptions
from .base import NonFiniteLoss as NonFiniteLoss
from .base import Objective as Objective
from .base import Phase as Phase
from .base import PhaseOptions as PhaseOptions
from .base import PhaseStep as PhaseStep
from .quasi_newton import BFGSPhase as BFGSPhase
from .quasi_newton import DenseOptions as DenseOptions
from .quasi_newton import LBFGSOptions as LBFGSOptions
from .quasi_newton import LBFGSPhase as LBFGSPhase
from .quasi_newton import SSBFGSPhase as SSBFGSPhase
from .quasi_newton import SSBroydenPhase as SSBroydenPhase
from .quasi_newton import dense_bytes as dense_bytes

__all__ = ["PHASES", "build_phases", "Phase", "PhaseOptions", "PhaseStep", "NonFiniteLoss", "Objective",
           "Adam", "AdamOptions", "LBFGSPhase", "LBFGSOptions", "BFGSPhase", "SSBFGSPhase", "SSBroydenPhase",
           "DenseOptions", "dense_bytes"]

PHASES: dict[str, type[Phase]] = {cls.name: cls for cls in (Adam, LBFGSPhase, BFGSPhase, SSBFGSPhase, SSBroydenPhase)}


def build_phases(items: Any, path: str = "train.phases") -> list[PhaseOptions]:
    """Strictly build each phase's options from a list of mappings (or options objects, returned as they are).

    Raises:
        ConfigError: not a list, a phase without a known ``optimizer`` (lists the valid names), or a bad option.
    """
    if not isinstance(items, Sequence) or isinstance(items, str) or not items:
        raise ConfigError(path, items, "must be a non-empty list of phases, e.g. [{optimizer: adam, steps: 1000}]")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, PhaseOptions):
            out.append(item)
            continue
        where = f"{path}.{i}"
        if not isinstance(item, dict):
            raise ConfigError(where, item, "must be a mapping with an optimizer key")
        name = item.get("optimizer")
        if name not in PHASES:
            raise ConfigError(f"{where}.optimizer", name, f"must be one of {', '.join(PHASES)}")
        out.append(build_section(PHASES[name].Options, item, where))
    return out
