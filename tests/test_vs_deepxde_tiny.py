"""A tiny run of benchmarks/vs_deepxde.py, so that the DeepXDE comparison cannot rot (no speed assertion)."""

from __future__ import annotations

import importlib.util
import math
import random
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from deepxde_support import load_deepxde  # noqa: E402

dde = load_deepxde()

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "vs_deepxde.py"


@pytest.fixture(scope="module")
def bench():
    """benchmarks/vs_deepxde.py as a module (registered while in use: its dataclasses need sys.modules)."""
    name = "_bench_vs_deepxde"
    spec = importlib.util.spec_from_file_location(name, SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def test_tiny_benchmark_runs_both_peers(bench, tmp_path, capsys):
    out = tmp_path / "vs_deepxde.md"
    argv = ["--repeats", "1", "--adam-steps", "20", "--lbfgs-steps", "5", "--domain", "60", "--boundary", "8",
            "--initial", "16", "--tune-malloc", "--markdown", str(out)]
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        with torch.random.fork_rng(devices=[]):  # deepxde's set_random_seed reseeds the global RNGs
            res = bench.main(argv)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    assert [r["peer"] for r in res["runs"]] == ["deepxde", "pinn_mrepu"]
    for run in res["runs"]:
        assert run["adam_steps"] == 20
        for key in ("adam_ms_median", "adam_ms_mean", "adam_wall_s", "lbfgs_wall_s", "final_loss", "rel_l2"):
            assert math.isfinite(run[key]) and run[key] > 0, (run["peer"], key, run[key])
        assert 1 <= run["lbfgs_iters"] <= 2 * 5 and run["lbfgs_evals"] >= run["lbfgs_iters"]
        assert run["rel_l2"] < 2.0
        assert math.isfinite(run["adam_faults"]) and run["adam_faults"] >= 0
    assert res["settings"]["ours_interior"] == 60 + 8 + 16 and res["settings"]["tune_malloc"] is True
    assert math.isfinite(res["ratio_adam_ms"]) and res["ratio_adam_ms"] > 0
    assert math.isfinite(res["ratio_lbfgs_s"]) and res["ratio_lbfgs_s"] > 0
    text = out.read_text(encoding="utf-8")
    assert "ratio ours/dde" in text and "| deepxde | 0 |" in text and "| pinn_mrepu | 0 |" in text
    assert "torch" in text and "logical cores" in text
    assert "ratio ours/dde" in capsys.readouterr().out


def test_overrides_reproduce_the_deepxde_example(bench):
    from pinn_mrepu.validation import load_config

    overrides = bench.ours_overrides(seed=3, adam_steps=7, lbfgs_steps=9, interior=2780, boundary=80, initial=160)
    cfg = load_config(SCRIPT.parents[1] / "problems" / "burgers.yaml", overrides)
    assert (cfg.network.activation, cfg.network.width, cfg.network.depth) == ("tanh", 20, 3)
    assert cfg.network.init == "glorot_normal" and cfg.network.normalize_inputs is False
    assert cfg.network.output_transform is None and cfg.network.activation_params == {}
    assert cfg.train.resample.every == 0 and cfg.train.refine.every == 0
    assert cfg.train.weights == {"residual": 1.0, "initial": 1.0, "boundary": 1.0}
    assert cfg.problem.time == [0, 0.99] and cfg.train.dtype == "float32"
    assert (cfg.train.points.interior, cfg.train.points.boundary, cfg.train.points.initial) == (2780, 80, 160)
    assert (cfg.train.phases[0].steps, cfg.train.phases[0].lr, cfg.train.phases[0].decay_rate) == (7, 1e-3, 1.0)
    assert (cfg.train.phases[1].steps, cfg.train.phases[1].history_size, cfg.train.phases[1].tolerance_grad) == (9, 100, 1e-8)
