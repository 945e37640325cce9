"""Training: a list of optimizer phases, point resampling, checkpoints, NaN guard, time limit, history.

Training runs the phases of ``train.phases`` in order (e.g. Adam, then SSBroyden); a "step" is one iteration of
the current phase (Adam: one update; quasi-Newton: one line search, which may evaluate the loss several times).
``step`` in the history counts iterations over all phases; ``train.resample.every`` and ``train.refine.every``
count the same steps, in any phase.  A phase ends when its ``steps`` are done, when it converges (its
tolerances) or when it cannot continue (e.g. repeated line-search failures); the result's message and
``phases`` say how many iterations each phase ran and why it stopped.  ``train.time_limit_s`` ends training
(status ``done``, the message says so) once that much training wall time has passed.

The trainer never prints and never touches process-wide state.  It reports through ``callback(event)`` (for
progress bars), asks ``should_stop()`` between steps (the CLI sets that from SIGINT/SIGTERM), and hands a
complete, resumable state to ``checkpoint(state)`` every ``checkpoint_every`` steps and when it stops for any
reason.  A non-finite loss stops training, restores the last good parameters and names the step and term.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from pinn_mrepu.config import TrainConfig

from .loss import PINNLoss, PointSet
from .phases import PHASES, NonFiniteLoss, Phase, build_phases
from .sampling import draw_points, refine, resample
from .snapshot import copy_state

__all__ = ["Trainer", "TrainResult", "TrainEvent"]


@dataclass
class TrainEvent:
    """Progress report: ``phase`` (optimizer name), ``step`` within it, ``total`` steps of it, current ``loss``;
    ``index``/``phases``: which phase of how many; ``elapsed_s``: training time so far; ``rel_l2`` when monitored."""

    phase: str
    step: int
    total: int
    loss: float
    index: int = 0
    phases: int = 1
    elapsed_s: float = 0.0
    rel_l2: float | None = None


@dataclass
class TrainResult:
    """Outcome of :meth:`Trainer.run`: ``status`` is ``done``, ``failed`` or ``interrupted``.

    ``phases`` has one summary per phase started: ``optimizer``, ``steps`` run of ``planned``, ``stopped``
    (``completed``, ``converged``: a tolerance met, ``flat``: the loss stopped changing at the dtype's resolution,
    ``stalled``: repeated line-search failures, ``time_limit``, ``failed``, ``interrupted``), ``message``,
    ``evals`` (loss + gradient evaluations) and ``wall_time_s``.
    """

    status: str
    message: str
    history: list[dict] = field(default_factory=list)
    wall_time_s: float = 0.0
    steps: int = 0
    phases: list[dict] = field(default_factory=list)
    final_loss: float = math.nan

    @property
    def success(self) -> bool:
        return self.status == "done"

    def steps_of(self, optimizer: str) -> int:
        """Iterations run by the phases of ``optimizer``."""
        return sum(p["steps"] for p in self.phases if p["optimizer"] == optimizer)


class Trainer:
    """Runs the optimisation of ``model`` on ``loss`` with the settings ``cfg`` (the ``train`` config section).

    Args:
        model: the network (already on ``device`` with ``dtype``).
        loss: the :class:`PINNLoss`.
        cfg: training settings; ``cfg.phases`` as option objects or plain mappings.
        device, dtype: where points live.
        callback: called with a :class:`TrainEvent` every ``log_every`` steps.
        should_stop: polled between steps; ``True`` ends training with status ``interrupted``.
        checkpoint: receives :meth:`state_dict` periodically and on stop.
        monitor: optional ``model -> {"rel_l2": ...}`` recorded in the history every ``monitor_every`` steps.
        log_every: history/progress granularity in steps.
    """

    def __init__(self, model: torch.nn.Module, loss: PINNLoss, cfg: TrainConfig, *, device, dtype,
                 callback: Callable[[TrainEvent], None] | None = None,
                 should_stop: Callable[[], bool] | None = None,
                 checkpoint: Callable[[dict], None] | None = None,
                 monitor: Callable[[torch.nn.Module], dict[str, float]] | None = None, monitor_every: int = 0,
                 log_every: int = 10):
        self.model, self.loss, self.cfg = model, loss, cfg
        self.phases = build_phases(cfg.phases)
        self.device, self.dtype = device, dtype
        self.callback = callback or (lambda event: None)
        self.should_stop = should_stop or (lambda: False)
        self.checkpoint = checkpoint or (lambda state: None)
        self.monitor, self.monitor_every = monitor, int(monitor_every)
        self.log_every = max(1, int(log_every))
        self.params = list(model.parameters())
        self.phase_index, self.phase_step, self.step, self.round = 0, 0, 0, 0
        self.phase_evals, self.phase_start = 0, 0.0
        self.summaries: list[dict] = []
        self.history: list[dict] = []
        self.elapsed = 0.0
        self.points = draw_points(loss, cfg, 0, device=device, dtype=dtype)
        self._terms = loss.terms
        if cfg.compile:  # first-order backward through the Taylor forward compiles; nested autograd does not
            mode = "reduce-overhead" if device.type == "cuda" else None
            self._terms = torch.compile(loss.terms, mode=mode)
        self.runner = self._make_phase(0)
        self._good: dict | None = None
        self._good = self._snapshot()

    # ------------------------------------------------------------------ state
    def _make_phase(self, index: int) -> Phase | None:
        if index >= len(self.phases):
            return None
        opts = self.phases[index]
        return PHASES[opts.optimizer](opts, self.params)

    @property
    def phase(self) -> str:
        """The current phase's optimizer name (``done`` after the last phase)."""
        return self.phases[self.phase_index].optimizer if self.phase_index < len(self.phases) else "done"

    def state_dict(self) -> dict:
        """Everything needed to resume bit-for-bit: model, phase and optimizer state, counters, points, history."""
        return self._state(copy.deepcopy(self.runner.state_dict()) if self.runner is not None else None)

    def _state(self, optimizer: dict | None) -> dict:
        return {"model": copy.deepcopy(self.model.state_dict()), "optimizer": optimizer,
                "phase_index": self.phase_index, "phase_step": self.phase_step, "step": self.step,
                "phase_evals": self.phase_evals, "phase_start": self.phase_start, "round": self.round,
                "summaries": copy.deepcopy(self.summaries), "points": self.points.state_dict(),
                "history": list(self.history), "elapsed": self.elapsed}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.phase_index, self.phase_step, self.step = state["phase_index"], state["phase_step"], state["step"]
        self.phase_evals, self.phase_start = state["phase_evals"], state["phase_start"]
        self.round, self.summaries = state["round"], copy.deepcopy(state["summaries"])
        self.history, self.elapsed = list(state["history"]), state["elapsed"]
        self.points = PointSet.from_state_dict(state["points"], self.device, self.dtype)
        self.runner = self._make_phase(self.phase_index)
        if self.runner is not None and state["optimizer"] is not None:
            self.runner.load_state_dict(copy.deepcopy(state["optimizer"]))
        self._good = self._snapshot()

    def _snapshot(self) -> dict:
        """The state to roll back to: :meth:`state_dict`, with the optimizer's tensors copied into the previous
        snapshot's buffers (:func:`.snapshot.copy_state`: no new n x n inverse Hessian every ``log_every`` steps)."""
        into = self._good["optimizer"] if self._good is not None else None
        return self._state(copy_state(self.runner.state_dict(), into) if self.runner is not None else None)

    # ------------------------------------------------------------------ loss
    def _objective(self) -> tuple[torch.Tensor, dict[str, float]]:
        """Loss and its gradient (into ``.grad``) at the current parameters; may be non-finite."""
        for p in self.params:
            p.grad = None
        terms = self._terms(self.model, self.points)
        total = self.loss.total(terms)
        total.backward()
        return total, {k: float(v.detach()) for k, v in terms.items()}

    def _now(self, t0: float) -> float:
        return self.elapsed + time.perf_counter() - t0

    def _log(self, loss: float, terms: dict[str, float], t0: float, *, last: bool = False) -> None:
        opts = self.phases[self.phase_index]
        row = {"step": self.step, "phase": opts.optimizer, "loss": loss, **terms}
        lr = self.runner.lr(self.phase_step - 1)
        if lr is not None:
            row["lr"] = lr
        if self.monitor is not None and self.monitor_every and (last or self.step % self.monitor_every == 0):
            row.update(self.monitor(self.model))
        row["elapsed_s"] = self._now(t0)
        self.history.append(row)
        self.callback(TrainEvent(opts.optimizer, self.phase_step, opts.steps, loss, self.phase_index,
                                 len(self.phases), row["elapsed_s"], row.get("rel_l2")))

    # ------------------------------------------------------------------ loop
    def _between_steps(self) -> None:
        c = self.cfg
        if c.resample.every and self.step and self.step % c.resample.every == 0:
            self.round += 1
            self.points = resample(self.loss, self.model, c, self.round, self.points, device=self.device,
                                   dtype=self.dtype)
            self.runner.points_changed()
        if c.refine.every and self.step and self.step % c.refine.every == 0:
            refine(self.loss, self.model, c, self.step, self.points, device=self.device, dtype=self.dtype)
            self.runner.points_changed()

    def _summary(self, stopped: str, message: str, now: float) -> dict:
        """The current phase's summary (see :class:`TrainResult`), with training time ``now``."""
        opts = self.phases[self.phase_index]
        return {"optimizer": opts.optimizer, "steps": self.phase_step, "planned": opts.steps, "stopped": stopped,
                "message": message, "evals": self.phase_evals, "wall_time_s": now - self.phase_start}

    def _end_phase(self, stopped: str, message: str, t0: float) -> None:
        self.summaries.append(self._summary(stopped, message, self._now(t0)))
        self.phase_index += 1
        self.phase_step, self.phase_evals, self.phase_start = 0, 0, self._now(t0)
        self.runner = self._make_phase(self.phase_index)
        self._good = self._snapshot()

    def _run_phase(self, t0: float) -> str:
        """Iterate the current phase to its end; returns ``time_limit`` when the limit stopped training."""
        opts = self.phases[self.phase_index]
        limit = self.cfg.time_limit_s
        while self.phase_step < opts.steps:
            if self.should_stop():
                raise KeyboardInterrupt
            if limit and self._now(t0) >= limit:
                return "time_limit"
            self._between_steps()
            out = self.runner.step(self._objective, self.phase_step)
            self.phase_step += 1
            self.step += 1
            self.phase_evals += out.evals
            ends = bool(out.stop or out.ended)
            last = self.phase_step == opts.steps or ends
            if self.phase_step % self.log_every == 0 or last:
                self._log(out.loss, out.terms, t0, last=last)
                self._good = self._snapshot()
            if self.step % self.cfg.checkpoint_every == 0:
                self.checkpoint(self._with_elapsed(t0))
            if ends:
                kind = out.ended or "stalled"
                self._end_phase(kind, f"{opts.optimizer} {'converged' if kind == 'converged' else 'stopped'} after "
                                      f"{self.phase_step} of {opts.steps} iterations: {out.stop or out.note}", t0)
                return ""
        self._end_phase("completed", "", t0)
        return ""

    def _with_elapsed(self, t0: float) -> dict:
        state = self.state_dict()
        state["elapsed"] = self._now(t0)
        return state

    def _current_summary(self, stopped: str, message: str) -> list[dict]:
        """The finished phases plus the one training stopped in (call after ``self.elapsed`` is final)."""
        if self.phase_index >= len(self.phases):
            return list(self.summaries)
        return self.summaries + [self._summary(stopped, message, self.elapsed)]

    # ------------------------------------------------------------------ run
    def run(self) -> TrainResult:
        """Train from the current state through the remaining phases (resumes where a loaded state stopped)."""
        t0 = time.perf_counter()
        status, message, current = "done", "", "completed"
        try:
            while self.phase_index < len(self.phases):
                if self._run_phase(t0) == "time_limit":
                    message = (f"time limit {self.cfg.time_limit_s:g} s reached in {self.phase} at iteration "
                               f"{self.phase_step} of {self.phases[self.phase_index].steps}")
                    current = "time_limit"
                    self._good = self._snapshot()
                    break
        except NonFiniteLoss as exc:
            status, current = "failed", "failed"
            message = (f"non-finite loss (term {exc.term!r}) in {self.phase} step {self.phase_step + 1}; "
                       f"parameters restored to the last finite state (step {self._good['phase_step']})")
            self.load_state_dict(self._good)
        except KeyboardInterrupt:
            status, current = "interrupted", "interrupted"
            where = f"{self.phase} step {self.phase_step}"
            self.load_state_dict(self._good)
            message = (f"interrupted in {where}; saved the last consistent state ({self.phase} step "
                       f"{self.phase_step}, overall step {self.step}), which --resume continues from")
        self.elapsed = self._now(t0) if status == "done" else self._good_elapsed()
        self.checkpoint(self.state_dict())
        phases = self._current_summary(current, message) if current != "completed" else list(self.summaries)
        notes = [p["message"] for p in self.summaries if p["stopped"] in ("stalled", "converged", "flat")]
        text = "; ".join([*notes, message] if message else notes) or "finished"
        final = self.history[-1]["loss"] if self.history else math.nan
        return TrainResult(status, text, list(self.history), self.elapsed, self.step, phases, final)

    def _good_elapsed(self) -> float:
        return self.history[-1]["elapsed_s"] if self.history else self.elapsed
