"""The optimizer-phase contract: one phase = one optimizer, its options, its state and its step.

Training is a list of phases (``train.phases`` in the YAML).  The trainer owns the loop, logging, stopping,
checkpoints and the NaN guard; a phase owns its optimizer state and does one iteration per :meth:`Phase.step`
through an :class:`Objective` that evaluates the loss at the model's current parameters.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch

from pinn_mrepu.config import rule as _rule

__all__ = ["Phase", "PhaseStep", "NonFiniteLoss", "Objective", "PhaseOptions"]

#: ``objective() -> (total loss (0-d, with graph), {term: float})`` at the model's current parameters, after
#: zeroing and filling the parameters' ``.grad`` by a backward pass.  The loss may be non-finite.
Objective = Callable[[], tuple[torch.Tensor, dict[str, float]]]


@dataclass
class PhaseOptions:
    """Options every phase has: the registry name of its ``optimizer`` and its iteration budget ``steps``."""

    optimizer: str = ""
    steps: int = field(default=1000, metadata=_rule(min=0))


class NonFiniteLoss(Exception):
    """The loss at an accepted point is not finite; ``term`` names the first non-finite loss term."""

    def __init__(self, term: str):
        super().__init__(term)
        self.term = term


@dataclass
class PhaseStep:
    """One iteration's outcome.

    Attributes:
        loss: the weighted (mean-square) loss at the new parameters.
        terms: each loss term there.
        evals: loss + gradient evaluations the iteration used.
        stop: non-empty when the phase cannot continue (e.g. repeated line-search failures); says why.
        ended: non-empty when the phase ends without a failure: ``"converged"`` (it met its tolerance) or
            ``"flat"`` (the loss stopped changing at the dtype's resolution: a minimum or a plateau, which the loss
            alone cannot tell apart, so not called converged).
        note: what happened when it is not a plain step (e.g. "line search failed; H reset").
    """

    loss: float
    terms: dict[str, float]
    evals: int = 1
    stop: str = ""
    ended: str = ""
    note: str = ""


class Phase(ABC):
    """One optimizer over the model's parameters.  Subclasses set ``name`` and ``Options`` and implement
    :meth:`step`, :meth:`state_dict` and :meth:`load_state_dict` (plain tensors and numbers, resumable bit for bit)."""

    name: ClassVar[str]
    Options: ClassVar[type[PhaseOptions]]

    def __init__(self, options: PhaseOptions, params: list[torch.nn.Parameter]):
        self.options = options
        self.params = params

    @abstractmethod
    def step(self, objective: Objective, step: int) -> PhaseStep:
        """One iteration; ``step`` is the number of iterations this phase has already done."""

    def points_changed(self) -> None:
        """The collocation points were redrawn: the loss function changed (drop cached evaluations)."""

    def lr(self, step: int) -> float | None:
        """The learning rate (or step scale) the phase uses at ``step``, for the history; None if it has none."""
        return None

    @abstractmethod
    def state_dict(self) -> dict[str, Any]:
        """The optimizer's state; it may hold the optimizer's live tensors (as ``torch.optim`` state dicts do), so
        a caller that keeps it copies it (the trainer does)."""

    @abstractmethod
    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
