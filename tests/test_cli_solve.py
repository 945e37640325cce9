"""The ``solve`` command end to end: run folder contents, exit codes, SIGINT -> checkpoint -> --resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

TINY = ["--set", "network.width=8", "--set", "network.depth=2", "--set", "network.init=lecun_normal",
        "--set", "train.points.interior=64", "--set", "evaluate.grid=[101]", "--set", "evaluate.residual_points=64",
        "--set", "train.device=cpu", "--quiet"]


def _solve(*args, **kw):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "pinn_mrepu", "solve", *args], capture_output=True, text=True,
                          env=env, timeout=300, **kw)


def test_solve_writes_a_complete_run_folder(tmp_path):
    out = tmp_path / "run"
    proc = _solve("problems/poisson1d.yaml", *TINY, "--set", "train.phases.adam.steps=20", "--set", "train.phases.1={optimizer: lbfgs, steps: 10}",
                  "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    for name in ("config.yaml", "metrics.json", "history.csv", "model.pt", "solution.png", "loss.png"):
        assert (out / name).is_file(), name
    m = json.loads((out / "metrics.json").read_text())
    for key in ("rel_l2", "max_abs_error", "mean_abs_residual", "wall_time_s", "steps", "phases",
                "status", "device", "dtype", "seed", "torch_version"):
        assert key in m, key
    assert [(p["optimizer"], p["steps"], p["stopped"]) for p in m["phases"]] == [("adam", 20, "completed"),
                                                                                 ("lbfgs", 10, "completed")]
    assert (m["steps"], m["status"]) == (30, "done")
    assert "rel L2 error" in proc.stdout and str(out) in proc.stdout and "lbfgs 10 of 10" in proc.stdout
    header = (out / "history.csv").read_text().splitlines()[0].split(",")
    assert header == ["step", "phase", "loss", "residual", "boundary", "lr", "rel_l2", "elapsed_s"]


def test_sigint_checkpoints_exits_130_and_resume_matches_uninterrupted(tmp_path):
    steps = ["--set", "train.phases.adam.steps=600", "--set", "train.phases.1={optimizer: lbfgs, steps: 20}", "--set", "train.checkpoint_every=20"]
    full = _solve("problems/poisson1d.yaml", *TINY, *steps, "--out", str(tmp_path / "full"))
    assert full.returncode == 0, full.stderr
    out = tmp_path / "cut"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "pinn_mrepu", "solve", "problems/poisson1d.yaml", *TINY, *steps,
                             "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while not (out / "history.csv").exists() and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal arrived")
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "--resume" in stdout
    m = json.loads((out / "metrics.json").read_text())
    assert m["status"] == "interrupted" and m["steps"] < 620
    resumed = _solve("--resume", str(out), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    a = json.loads((tmp_path / "full" / "metrics.json").read_text())
    b = json.loads((out / "metrics.json").read_text())
    for key in ("rel_l2", "max_abs_error", "final_loss", "steps"):
        assert a[key] == b[key], key
    drop = lambda phases: [{k: v for k, v in p.items() if k != "wall_time_s"} for p in phases]  # noqa: E731
    assert drop(a["phases"]) == drop(b["phases"])
