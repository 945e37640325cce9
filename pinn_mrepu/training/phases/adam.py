"""Adam with exponential learning-rate decay: ``lr = lr0 * decay_rate ** (step / decay_steps)``."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from .base import NonFiniteLoss, Objective, Phase, PhaseOptions, PhaseStep, _rule

__all__ = ["Adam", "AdamOptions"]


@dataclass
class AdamOptions(PhaseOptions):
    optimizer: str = "adam"
    lr: float = field(default=1e-3, metadata=_rule(gt=0))
    decay_rate: float = field(default=1.0, metadata=_rule(gt=0, max=1))
    decay_steps: int = field(default=1000, metadata=_rule(min=1))
    beta1: float = field(default=0.9, metadata=_rule(min=0, max=0.999999))
    beta2: float = field(default=0.999, metadata=_rule(min=0, max=0.999999))


class Adam(Phase):
    """``torch.optim.Adam`` (fused: one kernel over all tensors, CPU too: 0.1 ms vs 0.36 ms a step for 8 tensors)."""

    name = "adam"
    Options = AdamOptions

    def __init__(self, options: AdamOptions, params: list[torch.nn.Parameter]):
        super().__init__(options, params)
        self.optimizer = torch.optim.Adam(params, lr=options.lr, betas=(options.beta1, options.beta2), fused=True)

    def lr(self, step: int) -> float:
        o = self.options
        return o.lr * o.decay_rate ** (step / o.decay_steps)

    def step(self, objective: Objective, step: int) -> PhaseStep:
        for group in self.optimizer.param_groups:
            group["lr"] = self.lr(step)
        total, terms = objective()
        if not torch.isfinite(total):
            bad = [k for k, v in terms.items() if not math.isfinite(v)]
            raise NonFiniteLoss(bad[0] if bad else "total")
        self.optimizer.step()
        return PhaseStep(float(total.detach()), terms)

    def state_dict(self) -> dict[str, Any]:
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state)
