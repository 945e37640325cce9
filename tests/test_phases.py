"""Optimizer phases: the YAML schema, the registry, the memory guard, and how phases run, stall and stop."""

from __future__ import annotations

import math

import pytest
import torch

from pinn_mrepu import PINNSolver
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.nn import MLP, parameter_count
from pinn_mrepu.training.phases import PHASES, AdamOptions, LBFGSOptions, build_phases
from pinn_mrepu.validation import load_config

BASE = ["network.width=8", "network.depth=2", "network.init=lecun_normal", "network.activation=tanh",
        "train.points.interior=64", "evaluate.grid=[101]", "evaluate.residual_points=64", "train.device=cpu"]


def tiny(*extra: str):
    return load_config("problems/poisson1d.yaml", [*BASE, *extra])


def test_registry_names_every_optimizer():
    assert list(PHASES) == ["adam", "lbfgs", "bfgs", "ssbfgs", "ssbroyden"]


@pytest.mark.parametrize("phases, field, fragment", [
    ("[{optimizer: adamw, steps: 3}]", "train.phases.0.optimizer", "adam, lbfgs, bfgs, ssbfgs, ssbroyden"),
    ("[{steps: 3}]", "train.phases.0.optimizer", "must be one of"),
    ("[{optimizer: ssbroyden, history_size: 5}]", "train.phases.0.history_size", "unknown key"),
    ("[{optimizer: lbfgs, check_every: 5}]", "train.phases.0.check_every", "unknown key"),
    ("[{optimizer: adam, steps: -1}]", "train.phases.0.steps", ">= 0"),
    ("[{optimizer: lbfgs, loss: cubic}]", "train.phases.0.loss", "mse, sqrt, log"),
    ("[]", "train.phases", "non-empty list"),
    ("{optimizer: adam}", "train.phases", "must be a list"),
    ("[adam]", "train.phases.0", "mapping"),
])
def test_bad_phases_are_one_line_errors_naming_the_field(phases, field, fragment):
    with pytest.raises(ConfigError) as err:
        tiny(f"train.phases={phases}")
    assert err.value.field == field and fragment in str(err.value) and "\n" not in str(err.value)


def test_phases_resolve_with_defaults_and_round_trip_through_the_config_dict():
    cfg = tiny("train.phases=[{optimizer: adam, steps: 4, lr: 0.01}, {optimizer: lbfgs, steps: 3}]")
    assert cfg.train.phases == [AdamOptions(steps=4, lr=0.01), LBFGSOptions(steps=3)]
    again = build_phases(cfg.to_dict()["train"]["phases"])
    assert again == cfg.train.phases


def test_overrides_address_phases_by_position_or_unique_optimizer_name():
    cfg = tiny("train.phases.ssbroyden.steps=7", "train.phases.0.lr=0.02")
    assert (cfg.train.phases[0].lr, cfg.train.phases[1].steps) == (0.02, 7)
    with pytest.raises(ConfigError, match=r"names 2 phases"):
        tiny("train.phases=[{optimizer: adam}, {optimizer: adam}]", "train.phases.adam.steps=3")
    with pytest.raises(ConfigError, match=r"out of range"):
        tiny("train.phases.5.steps=3")
    with pytest.raises(ConfigError, match=r"or an optimizer of the list \(adam, ssbroyden\)"):
        tiny("train.phases.lbfgs.steps=3")


def test_dense_phase_memory_guard_names_the_count_the_budget_and_the_alternative():
    n = parameter_count(1, 1, width=60, depth=2)
    assert n == sum(p.numel() for p in MLP(1, 1, width=60, depth=2).parameters())
    with pytest.raises(ConfigError) as err:
        tiny("network.width=60", "network.depth=2", "train.phases.1={optimizer: bfgs, max_memory_mb: 100}")
    text = str(err.value)
    assert err.value.field == "train.phases.1.optimizer" and f"{n} x {n}" in text and "max_memory_mb = 100" in text
    assert "use lbfgs" in text
    tiny("network.width=60", "network.depth=2", "train.phases.1={optimizer: bfgs, max_memory_mb: 200}")  # 113 MiB fits


@pytest.mark.parametrize("optimizer", ["lbfgs", "bfgs", "ssbfgs", "ssbroyden"])
@pytest.mark.parametrize("form", ["mse", "log"])
def test_every_quasi_newton_phase_trains_and_the_history_records_the_mean_square_loss(optimizer, form):
    solver = PINNSolver(tiny("train.phases.adam.steps=20", f"train.phases.1={{optimizer: {optimizer}, steps: 40, "
                                                           f"loss: {form}}}"))
    result = solver.train()
    assert result.status == "done" and result.message == "finished", result.message
    adam_end = [r for r in result.history if r["phase"] == "adam"][-1]["loss"]
    last = result.history[-1]
    assert last["phase"] == optimizer and last["step"] == 60
    assert last["loss"] == pytest.approx(last["residual"] + last["boundary"], rel=1e-12)
    assert last["loss"] < 0.1 * adam_end  # 40 curvature steps beat 20 Adam steps by far on this smooth problem


def test_a_phase_whose_line_searches_keep_failing_ends_early_and_says_so(monkeypatch):
    """After Adam, every loss evaluation is NaN: the quasi-Newton phase cannot move, resets, and after
    max_failures consecutive failures ends with a message; the parameters stay at the last finite point."""
    solver = PINNSolver(tiny("train.phases.adam.steps=10", "train.phases.1={optimizer: ssbroyden, steps: 50, "
                                                           "max_failures: 3}"))
    tr = solver.trainer
    terms = tr._terms

    def poisoned(model, points):
        out = terms(model, points)
        return {k: v * math.nan for k, v in out.items()} if tr.phase_index == 1 else out

    tr._terms = poisoned
    result = solver.train()
    assert result.status == "done"
    assert "ssbroyden stopped after 3 of 50 iterations: 3 consecutive line-search failures" in result.message
    assert result.phases[1]["stopped"] == "stalled" and result.phases[1]["steps"] == 3
    assert all(torch.isfinite(p).all() for p in solver.model.parameters())


def test_time_limit_stops_training_checkpoints_and_says_so():
    states = []
    solver = PINNSolver(tiny("train.phases.adam.steps=100000", "train.time_limit_s=0.5"), checkpoint=states.append)
    result = solver.train()
    assert result.status == "done" and "time limit 0.5 s reached in adam" in result.message
    assert 0 < result.steps < 100000 and result.phases[0]["stopped"] == "time_limit"
    assert 0.5 <= result.wall_time_s < 5 and states and states[-1]["step"] == result.steps


def test_monitor_records_rel_l2_that_matches_the_evaluation():
    solver = PINNSolver(tiny("train.phases.adam.steps=30", "train.phases.1={optimizer: lbfgs, steps: 20}", "evaluate.monitor_every=10",
                             "evaluate.monitor_points=101"))
    result = solver.train()
    steps = [r["step"] for r in result.history if "rel_l2" in r]
    assert steps == [10, 20, 30, 40, 50]
    # 101 monitor points = the whole 101-point grid: the last recorded value is the evaluation's rel L2
    assert result.history[-1]["rel_l2"] == pytest.approx(solver.evaluate()["rel_l2"], rel=1e-12)


def test_a_phase_at_the_dtype_resolution_ends_as_flat_instead_of_burning_evaluations():
    """float32: once the loss stops changing at float32 resolution the phase ends, with few evaluations per
    iteration, as ``flat`` (not called converged: a plateau ends the same way); flat_steps: 0 turns the rule off
    and the phase runs its whole budget."""
    cfg = ["train.dtype=float32", "train.phases.adam.steps=200", "train.phases.1={optimizer: lbfgs, steps: 3000}"]
    result = PINNSolver(tiny(*cfg)).train()
    phase = result.phases[1]
    assert result.status == "done" and phase["stopped"] == "flat", result.message
    assert phase["steps"] < 3000 and "resolution of torch.float32" in phase["message"]
    assert phase["message"].startswith("lbfgs stopped after") and phase["message"] in result.message
    assert phase["evals"] < 3 * phase["steps"]
    off = PINNSolver(tiny(*cfg[:-1], "train.phases.1={optimizer: lbfgs, steps: 400, flat_steps: 0}")).train()
    assert off.phases[1]["steps"] == 400 and off.phases[1]["stopped"] == "completed"
