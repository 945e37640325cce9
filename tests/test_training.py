"""Trainer and solver behaviour: step counts, NaN guard, interrupt/resume, determinism, save/load, refinement."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from pinn_mrepu import PINNSolver
from pinn_mrepu.nn import kink_crossings
from pinn_mrepu.validation import load_config
from pinn_mrepu.runs import resume_folder, run_to_folder
from pinn_mrepu.training.sampling import refine, resample


def tiny(path="problems/poisson1d.yaml", *extra):
    """A tiny, fast configuration of a shipped problem."""
    overrides = ["network.width=8", "network.depth=2", "network.init=lecun_normal", "train.points.interior=64",
                 "train.phases.adam.steps=30", "train.phases.1={optimizer: lbfgs, steps: 25}", "train.checkpoint_every=10", "evaluate.grid=[101]",
                 "evaluate.residual_points=64", "train.device=cpu", *extra]
    return load_config(path, overrides)


def tiny_heat(*extra):
    return tiny("problems/heat.yaml", "evaluate.grid=[11, 11]", "train.points.boundary=16", "train.points.initial=16",
                *extra)


def test_lbfgs_runs_exactly_the_requested_iterations():
    solver = PINNSolver(tiny("problems/poisson1d.yaml", "train.phases.adam.steps=3", "train.phases.1={optimizer: lbfgs, steps: 37}"))
    result = solver.train()
    assert result.status == "done" and result.message == "finished", result.message
    assert result.steps_of("lbfgs") == 37 and result.steps == 40
    assert [(p["optimizer"], p["steps"], p["planned"], p["stopped"]) for p in result.phases] == [
        ("adam", 3, 3, "completed"), ("lbfgs", 37, 37, "completed")]
    assert result.phases[1]["evals"] >= 37
    # the history's step counts iterations over all phases, ending at 3 + 37
    assert [r["step"] for r in result.history if r["phase"] == "lbfgs"][-1] == 40


def test_adam_step_count_and_history_columns():
    result = PINNSolver(tiny_heat("train.phases.1={optimizer: lbfgs, steps: 0}")).train()
    assert result.steps_of("adam") == 30 and result.steps_of("lbfgs") == 0
    row = result.history[-1]
    assert set(row) == {"step", "phase", "loss", "residual", "initial", "boundary", "lr", "rel_l2", "elapsed_s"}
    assert row["lr"] == 1e-3
    assert row["loss"] == pytest.approx(row["residual"] + row["initial"] + row["boundary"], rel=1e-12)


def test_training_reduces_the_loss():
    result = PINNSolver(tiny()).train()
    assert result.history[-1]["loss"] < 0.05 * result.history[0]["loss"]


def test_same_seed_same_metrics_different_seed_differs():
    a = PINNSolver(tiny())
    a.train()
    b = PINNSolver(tiny())
    b.train()
    c = PINNSolver(tiny("problems/poisson1d.yaml", "train.seed=1"))
    c.train()
    assert a.evaluate() == b.evaluate()
    assert a.evaluate()["rel_l2"] != c.evaluate()["rel_l2"]


def test_nan_guard_stops_restores_and_names_step_and_term(monkeypatch):
    solver = PINNSolver(tiny())
    pde = solver.problem.pde
    calls = {"n": 0}
    original = pde.residual

    def poisoned(f, points):
        calls["n"] += 1
        r = original(f, points)
        return r * math.nan if calls["n"] > 15 else r

    monkeypatch.setattr(pde, "residual", poisoned)
    result = solver.train()
    assert result.status == "failed"
    assert "residual" in result.message and "adam step 16" in result.message
    assert result.steps_of("adam") == 10  # restored to the last logged finite state
    assert all(torch.isfinite(p).all() for p in solver.model.parameters())
    assert len(result.history) == 1 and math.isfinite(result.history[0]["loss"])


def _stop_after(n):
    count = {"k": 0}

    def should_stop():
        count["k"] += 1
        return count["k"] > n

    return should_stop


@pytest.mark.parametrize("optimizer", ["lbfgs", "ssbroyden"])
@pytest.mark.parametrize("stop_at", [17, 43])  # polled once per step: in Adam, and in the quasi-Newton phase
def test_interrupt_then_resume_reaches_the_uninterrupted_result(tmp_path, stop_at, optimizer):
    cfg = lambda: tiny("problems/poisson1d.yaml", f"train.phases.1={{optimizer: {optimizer}, steps: 25}}",  # noqa: E731
                       "train.resample.every=20", "train.resample.method=rad", "train.resample.candidates=500")
    full = run_to_folder(cfg(), tmp_path / "full", figures=False)
    cut = run_to_folder(cfg(), tmp_path / "cut", should_stop=_stop_after(stop_at), figures=False)
    assert cut.result.status == "interrupted"
    assert (tmp_path / "cut" / "model.pt").is_file() and (tmp_path / "cut" / "history.csv").is_file()
    resumed = resume_folder(tmp_path / "cut", figures=False)
    assert resumed.result.status == "done"
    assert (resumed.result.steps_of("adam"), resumed.result.steps_of(optimizer)) == (30, 25)
    for key in ("rel_l2", "max_abs_error", "mean_abs_residual", "final_loss"):
        assert resumed.metrics[key] == full.metrics[key], key
    saved = json.loads((tmp_path / "cut" / "metrics.json").read_text())
    assert saved["status"] == "done" and saved["rel_l2"] == full.metrics["rel_l2"]


def test_existing_run_folder_is_not_overwritten(tmp_path):
    from pinn_mrepu.errors import ConfigError

    run_to_folder(tiny("problems/poisson1d.yaml", "train.phases.adam.steps=2", "train.phases.1={optimizer: lbfgs, steps: 0}"), tmp_path / "r",
                  figures=False)
    before = (tmp_path / "r" / "metrics.json").read_bytes()
    with pytest.raises(ConfigError, match="--overwrite"):
        run_to_folder(tiny(), tmp_path / "r")
    assert (tmp_path / "r" / "metrics.json").read_bytes() == before


def test_save_load_round_trip_gives_identical_predictions(tmp_path):
    solver = PINNSolver(tiny_heat("train.phases.1={optimizer: lbfgs, steps: 5}"))
    solver.train()
    solver.save(tmp_path / "s")
    same = PINNSolver.load(tmp_path / "s")
    pts = np.random.default_rng(0).random((50, 2))
    assert np.array_equal(solver.predict(pts), same.predict(pts))
    assert same.evaluate() == solver.evaluate()


def test_resampling_and_refinement_change_the_points():
    solver = PINNSolver(tiny_heat("train.resample.every=10", "train.refine.every=10", "train.refine.add=7",
                                  "train.refine.candidates=200", "train.phases.1={optimizer: lbfgs, steps: 0}"))
    first = solver.trainer.points.interior.clone()
    solver.train()
    pts = solver.trainer.points
    assert solver.trainer.round == 2
    assert not torch.equal(first, pts.interior) and pts.interior.shape == first.shape
    assert pts.added.shape == (14, 2)  # refinement at steps 10 and 20
    lo, hi = solver.problem.domain.lower, solver.problem.domain.upper
    assert np.all(pts.added.numpy() >= lo) and np.all(pts.added.numpy() <= hi)


def test_refinement_picks_the_largest_residuals():
    solver = PINNSolver(tiny_heat("train.refine.add=5", "train.refine.candidates=300"))
    tr = solver.trainer
    refine(solver.loss, solver.model, tr.cfg, 0, tr.points, device=tr.device, dtype=tr.dtype)
    added = solver.trainer.points.added
    cand = solver.problem.domain.sample_interior(300, sampler="uniform", seed=0, tag=(10_000,))
    res = solver.loss.residual(solver.model, torch.as_tensor(cand), create_graph=False).abs().squeeze(1)
    top = np.sort(res.numpy())[-5:]
    got = np.sort(solver.loss.residual(solver.model, added, create_graph=False).abs().squeeze(1).numpy())
    np.testing.assert_allclose(got, top, rtol=1e-12)


def test_rad_resampling_draws_where_the_residual_is_large_and_is_reproducible():
    """RAD density |r|^k / mean|r|^k + c: the drawn points have a larger mean |r| than the candidate pool, all lie
    in the domain, are distinct, and the same (seed, round) draws the same points."""
    solver = PINNSolver(tiny_heat("train.resample.method=rad", "train.resample.candidates=4000",
                                  "train.resample.offset=0.0", "train.resample.exponent=2", "train.points.interior=300"))
    tr = solver.trainer
    solver.train()  # a trained net: its residual is far from uniform
    a = resample(solver.loss, solver.model, tr.cfg, 3, tr.points, device=tr.device, dtype=tr.dtype)
    b = resample(solver.loss, solver.model, tr.cfg, 3, tr.points, device=tr.device, dtype=tr.dtype)
    assert torch.equal(a.interior, b.interior) and a.interior.shape == (300, 2)
    assert len(torch.unique(a.interior, dim=0)) == 300
    lo, hi = solver.problem.domain.lower, solver.problem.domain.upper
    assert np.all(a.interior.numpy() >= lo) and np.all(a.interior.numpy() <= hi)
    pool = torch.as_tensor(solver.problem.domain.sample_interior(4000, sampler="uniform", seed=0, tag=(20_003,)))
    r = lambda x: solver.loss.residual(solver.model, x, create_graph=False).abs().mean()  # noqa: E731
    assert float(r(a.interior)) > 1.5 * float(r(pool))
    c = resample(solver.loss, solver.model, tr.cfg, 4, tr.points, device=tr.device, dtype=tr.dtype)
    assert not torch.equal(a.interior, c.interior)


def test_predict_shapes_and_numpy_in_numpy_out():
    solver = PINNSolver(tiny_heat())
    out = solver.predict(np.zeros((7, 2)))
    assert isinstance(out, np.ndarray) and out.shape == (7, 1)
    t = solver.predict(torch.zeros(3, 2, dtype=torch.float64))
    assert isinstance(t, torch.Tensor) and t.shape == (3, 1)


def test_float32_runs():
    solver = PINNSolver(tiny("problems/poisson1d.yaml", "train.dtype=float32"))
    result = solver.train()
    assert result.status == "done"
    assert next(solver.model.parameters()).dtype == torch.float32
    assert math.isfinite(solver.evaluate()["rel_l2"])


def test_quasi_newton_evaluations_are_counted_and_none_is_wasted():
    """Each iteration's evaluations are its line search's; the next iteration reuses the last one (no extra)."""
    solver = PINNSolver(tiny("problems/poisson1d.yaml", "train.phases.adam.steps=5",
                             "train.phases.1={optimizer: bfgs, steps: 40}"))
    tr = solver.trainer
    calls = {"n": 0}
    terms = tr._terms

    def counting(model, points):
        calls["n"] += 1
        return terms(model, points)

    tr._terms = counting
    result = tr.run()
    assert result.status == "done", result.message
    assert sum(p["evals"] for p in result.phases) == calls["n"]
    assert result.phases[1]["evals"] <= 40 * 3  # ~1-2 evaluations per iteration once H has curvature


@pytest.mark.parametrize("activation", ["mrepu", "relu", "tanh"])
def test_evaluate_reports_kink_crossings_for_kinked_activations(activation):
    solver = PINNSolver(tiny("problems/poisson1d.yaml", f"network.activation={activation}", "network.init=critical",
                             "train.phases.adam.steps=2", "train.phases.1={optimizer: lbfgs, steps: 0}"))
    solver.train()
    m = solver.evaluate()
    if activation == "tanh":
        assert "kink_crossings" not in m
        return
    k = m["kink_crossings"]
    net = solver.model
    expect = kink_crossings(net, torch.as_tensor(solver.evaluation_grid()[0], dtype=torch.float64))
    assert (k["crossing"], k["neurons"], k["closest"]) == (expect.total, 16, expect.closest)
    if activation == "relu":  # critical ReLU (c_b = 0): a neuron w x is zero at x = 0 inside [-1, 1]: it crosses
        assert k["crossing"] >= 1
