"""Checks of a loaded trainer state (``model.pt``) against the trainer it is loaded into, before it is used."""

from __future__ import annotations

import torch

from pinn_mrepu.storage import check_layout

from .trainer import Trainer

__all__ = ["state_problem"]


def state_problem(state: dict, trainer: Trainer) -> str | None:
    """Why a loaded trainer state is malformed for ``trainer`` (keys, counters, phases, history, points, weights)."""
    fresh = trainer.state_dict()
    if set(state) != set(fresh):
        return f"keys {sorted(map(str, state))}, expected {sorted(fresh)}"
    phases = trainer.phases
    for key in ("phase_index", "phase_step", "step", "phase_evals", "round"):
        if type(state[key]) is not int or state[key] < 0:
            return f"{key} must be an integer >= 0"
    i = state["phase_index"]
    if i > len(phases) or (i < len(phases) and state["phase_step"] > phases[i].steps):
        return f"phase {i} step {state['phase_step']} is beyond the configured phases"
    for key in ("phase_start", "elapsed"):
        if check_layout(state[key], 0.0, key) or state[key] < 0:
            return f"{key} must be a finite number >= 0"
    names = [p.optimizer for p in phases]
    summaries = state["summaries"]
    if not (isinstance(summaries, list) and len(summaries) == min(i, len(phases))
            and all(isinstance(s, dict) and s.get("optimizer") == names[k] for k, s in enumerate(summaries))):
        return "summaries must list the finished phases"
    history = state["history"]
    if not isinstance(history, list):
        return "history must be a list"
    for row in history:
        if not (isinstance(row, dict) and row.get("phase") in names and type(row.get("step")) is int
                and all(isinstance(k, str) and isinstance(v, (int, float, str)) for k, v in row.items())):
            return f"history row {str(row)[:60]} is malformed (phase must be one of {', '.join(dict.fromkeys(names))})"
    model = state["model"]
    if not isinstance(model, dict) or set(model) != set(fresh["model"]) or any(
            not isinstance(model[k], torch.Tensor) or model[k].shape != v.shape for k, v in fresh["model"].items()):
        return "the weights do not match the network in config.yaml (another architecture)"
    if any(t.is_floating_point() and not bool(torch.isfinite(t).all()) for t in model.values()):
        return "the weights are not finite"
    return check_layout(state["points"], fresh["points"], "points")
