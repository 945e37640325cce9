"""Quasi-Newton phases over the flat parameter vector: ``lbfgs`` and the dense ``bfgs``, ``ssbfgs``, ``ssbroyden``.

The optimizers are :mod:`pinn_mrepu.optim` (float64 state whatever the network's dtype).  Each iteration is one
strong-Wolfe line search along ``-H g``; a non-finite trial point shrinks the step, a failed search resets H and
the phase continues; only ``max_failures`` consecutive failures end it (with a message that says so).  A phase
also ends when the loss has changed by less than 8 machine epsilons of the network's dtype (relative) for
``flat_steps`` consecutive iterations (0: never): at that resolution the line searches can only burn evaluations
(float32 reaches it long before float64).  Such a stop is reported as ``flat``, not ``converged``: a network stuck
on a plateau (a dead or kinked network at rel L2 0.5) ends the same way as one at a minimum.

The optimizer may see a transformed loss (``loss: sqrt`` or ``log`` of the weighted mean-square loss L, with
gradients ∇√L = ∇L / (2√L) and ∇log L = ∇L / L); the history always records L itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch.nn.utils import parameters_to_vector, vector_to_parameters

from pinn_mrepu.optim import LBFGS, RESET, DenseQuasiNewton, dense_memory_bytes

from .base import Objective, Phase, PhaseOptions, PhaseStep, _rule

__all__ = ["QuasiNewtonOptions", "LBFGSOptions", "DenseOptions", "LBFGSPhase", "BFGSPhase", "SSBFGSPhase",
           "SSBroydenPhase", "dense_bytes"]

LOSS_FORMS = ("mse", "sqrt", "log")


@dataclass
class QuasiNewtonOptions(PhaseOptions):
    loss: str = field(default="mse", metadata=_rule(choices=LOSS_FORMS))
    c1: float = field(default=1e-4, metadata=_rule(gt=0, max=0.5))
    c2: float = field(default=0.9, metadata=_rule(gt=0, max=0.999999))
    max_evals: int = field(default=25, metadata=_rule(min=1))
    max_failures: int = field(default=5, metadata=_rule(min=1))
    tolerance_grad: float = field(default=0.0, metadata=_rule(min=0))
    tolerance_change: float = field(default=0.0, metadata=_rule(min=0))
    flat_steps: int = field(default=20, metadata=_rule(min=0))


@dataclass
class LBFGSOptions(QuasiNewtonOptions):
    optimizer: str = "lbfgs"
    history_size: int = field(default=50, metadata=_rule(min=1))


@dataclass
class DenseOptions(QuasiNewtonOptions):
    optimizer: str = "ssbroyden"
    check_every: int = field(default=500, metadata=_rule(min=1))
    max_memory_mb: float = field(default=2048.0, metadata=_rule(gt=0))


def dense_bytes(n: int) -> int:
    """Bytes of the float64 n x n inverse-Hessian approximation of a dense phase."""
    return dense_memory_bytes(n, torch.float64)


class _QuasiNewtonPhase(Phase):
    """Shared driver: the closure over the model, the loss form, the cached point and the stop rule."""

    def __init__(self, options: QuasiNewtonOptions, params: list[torch.nn.Parameter]):
        super().__init__(options, params)
        self.n = sum(p.numel() for p in params)
        self.device = params[0].device
        self.optimizer = self._make(options)
        self._at: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None  # x, f (loss form), g at the params
        self._flat = 0  # consecutive iterations whose loss change was below the network dtype's resolution
        self._prev: float | None = None  # the mean-square loss after the previous iteration
        self._resolution = 8.0 * torch.finfo(params[0].dtype).eps

    def _make(self, options):  # pragma: no cover - abstract
        raise NotImplementedError

    def _closure(self, objective: Objective, seen: list):
        form = self.options.loss

        def closure(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            vector_to_parameters(x.to(self.params[0].dtype), self.params)
            total, terms = objective()
            g = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in self.params])
            f, g = total.detach().to(torch.float64), g.to(torch.float64)
            seen.append((x, float(f), terms))
            if form == "sqrt":
                root = torch.sqrt(f)
                f, g = root, g / (2.0 * root)
            elif form == "log":
                f, g = torch.log(f), g / f
            return f, g

        return closure

    def step(self, objective: Objective, step: int) -> PhaseStep:
        seen: list = []
        closure = self._closure(objective, seen)
        evals = 0
        if self._at is None:
            x0 = parameters_to_vector(self.params).detach().to(torch.float64)
            f0, g0 = closure(x0)
            self._at, evals = (x0, f0, g0), 1
        x, f, g = self._at
        res = self.optimizer.step(x, f, g, closure)
        vector_to_parameters(res.x.to(self.params[0].dtype), self.params)
        self._at = (res.x, res.f, res.g)
        match = next((s for s in reversed(seen) if s[0] is res.x or torch.equal(s[0], res.x)), None)
        if match is None:  # the step went nowhere new: re-evaluate at the point it returned
            seen.clear()
            closure(res.x)
            match = seen[-1]
            evals += 1
        _, loss, terms = match
        before, self._prev = self._prev, loss
        stop, ended = "", "converged" if res.status == "converged" else ""
        if self.options.flat_steps and before is not None and res.status != RESET:
            self._flat = self._flat + 1 if abs(loss - before) <= self._resolution * abs(before) else 0
            if self._flat >= self.options.flat_steps:
                ended = ended or "flat"  # a met tolerance keeps its name
                res.message = (f"the loss changed by less than {self._resolution:.1e} (relative, the resolution of "
                               f"{self.params[0].dtype}) for {self._flat} iterations")
        if res.status == RESET and self.optimizer.consecutive_failures >= self.optimizer.max_failures:
            stop = (f"{self.optimizer.consecutive_failures} consecutive line-search failures "
                    f"(last: {res.message or res.status})")
        note = res.message if res.status != "ok" or ended else ""
        return PhaseStep(loss, terms, evals + res.evals, stop=stop, ended=ended, note=note)

    def points_changed(self) -> None:
        self._at = None  # the loss changed: re-evaluate at the current parameters; H (or the pairs) is kept
        self._prev, self._flat = None, 0
        self.optimizer.points_changed()

    def state_dict(self) -> dict[str, Any]:
        at = None if self._at is None else {"x": self._at[0], "f": self._at[1], "g": self._at[2]}
        return {"optimizer": self.optimizer.state_dict(copy=False), "at": at, "flat": self._flat, "prev": self._prev}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.optimizer.load_state_dict(state["optimizer"])
        self._flat, self._prev = int(state["flat"]), state["prev"]
        at = state["at"]
        self._at = None if at is None else tuple(at[k].to(self.device, torch.float64) for k in ("x", "f", "g"))

    def _common(self, o: QuasiNewtonOptions) -> dict[str, Any]:
        return {"dtype": torch.float64, "device": self.device, "c1": o.c1, "c2": o.c2, "max_evals": o.max_evals,
                "max_failures": o.max_failures, "tolerance_grad": o.tolerance_grad,
                "tolerance_change": o.tolerance_change}


class LBFGSPhase(_QuasiNewtonPhase):
    """Limited-memory BFGS (two-loop recursion, ``history_size`` pairs)."""

    name = "lbfgs"
    Options = LBFGSOptions

    def _make(self, o: LBFGSOptions):
        return LBFGS(self.n, history_size=o.history_size, **self._common(o))


class _DensePhase(_QuasiNewtonPhase):
    Options = DenseOptions
    method = ""

    def _make(self, o: DenseOptions):
        return DenseQuasiNewton(self.n, self.method, check_every=o.check_every,
                                max_memory_bytes=int(o.max_memory_mb * 2**20), **self._common(o))


class BFGSPhase(_DensePhase):
    """Dense BFGS on the inverse Hessian."""

    name = method = "bfgs"


class SSBFGSPhase(_DensePhase):
    """Self-scaled BFGS (Al-Baali): H is scaled by 1/tau, tau = min(1, 1/b), before each BFGS update."""

    name = method = "ssbfgs"


class SSBroydenPhase(_DensePhase):
    """Self-scaled Broyden (Al-Baali & Khalfan, the SSBroyden2 variant of Kiyani et al.)."""

    name = method = "ssbroyden"
