"""The activation-comparison sweep (``pinn-mrepu compare``): parsing and planning, statistics with known answers,
bookkeeping (failures, errors, resume), the local process pool through the CLI, bad input, and the Ray executor."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
import yaml
from scipy.stats import mannwhitneyu

from pinn_mrepu.runs import folders as runs_module
from pinn_mrepu.sweeps import plan as cmp
from pinn_mrepu.cli import main
from pinn_mrepu.sweeps import compare, parse_activations, parse_int_list, plan_sweep
from pinn_mrepu.sweeps.stats import CSV_COLUMNS, format_markdown, group_summary, mann_whitney_tests
from pinn_mrepu.errors import ConfigError

TINY = ["network.width=8", "train.points.interior=64", "train.phases.adam.steps=20", "train.phases.1={optimizer: lbfgs, steps: 5}",
        "evaluate.grid=[101]", "evaluate.residual_points=64", "network.init=lecun_normal", "train.device=cpu"]


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny networks train far faster on one thread (and a loaded machine makes more threads much slower)."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(saved)


@pytest.fixture
def poisson(problems_dir):
    return str(problems_dir / "poisson1d.yaml")


def _csv(path):
    with open(path, newline="") as fh:
        reader = csv.DictReader(fh)
        return reader.fieldnames, list(reader)


def _spy(monkeypatch, name, fail=None):
    """Count calls of ``pinn_mrepu.runs.<name>`` (as the sweep sees it); ``fail(directory)`` True -> raise."""
    calls = []
    real = getattr(runs_module, name)

    def wrapper(*args, **kwargs):
        directory = args[1] if name == "run_to_folder" else args[0]
        calls.append(str(directory))
        if fail and fail(str(directory)):
            raise RuntimeError("boom in the run")
        return real(*args, **kwargs)

    monkeypatch.setattr(runs_module, name, wrapper)
    return calls


# ------------------------------------------------------------------------------------------ parsing, planning

def test_seed_and_depth_specs():
    assert parse_int_list("0-4", "--seeds") == [0, 1, 2, 3, 4]
    assert parse_int_list("0,1,5", "--seeds") == [0, 1, 5]
    assert parse_int_list("0-2,7", "--seeds") == [0, 1, 2, 7]
    assert parse_int_list([3, 5], "--depths", minimum=1) == [3, 5]
    for bad in ("a-b", "4-0", "1,1", "", "1,,2", "-1", "2.5"):
        with pytest.raises(ConfigError, match="--seeds"):
            parse_int_list(bad, "--seeds")
    with pytest.raises(ConfigError, match="--depths: got '0,3'"):
        parse_int_list("0,3", "--depths", minimum=1)


def test_activation_variants_and_labels():
    labels = [v.label for v in parse_activations("mrepu,tanh,repu", "2,3")]
    assert labels == ["mrepu-p2", "mrepu-p3", "tanh", "repu-p2", "repu-p3"]
    variants = parse_activations("mrepu:2,mrepu:3,tanh,repu:2,gelu")
    assert [v.label for v in variants] == ["mrepu-p2", "mrepu-p3", "tanh", "repu-p2", "gelu"]
    assert [v.params_text for v in variants] == ["p=2", "p=3", "", "p=2", ""]
    bare = parse_activations("mrepu")[0]
    assert (bare.label, bare.params, bare.params_text) == ("mrepu", {}, "p=2")  # the activation's default p
    for spec, p, match in [("foo", None, "unknown activation"), ("tanh:2", None, "takes no parameter p"),
                           ("mrepu,mrepu:2", "2", "twice"), ("tanh", "2", "--p"), ("mrepu:0", None, "--activations")]:
        with pytest.raises(ConfigError, match=match):
            parse_activations(spec, p)


def test_plan_builds_and_validates_every_run(poisson, tmp_path):
    plan = plan_sweep(poisson, activations="mrepu:3,tanh", depths="2,4", seeds="0-1", overrides=TINY, out=tmp_path)
    assert [s.run for s in plan.runs][:3] == ["runs/mrepu-p3-d2-s0", "runs/mrepu-p3-d2-s1", "runs/mrepu-p3-d4-s0"]
    assert len(plan.runs) == 8
    tanh = plan.runs[-1].config
    assert (tanh["network"]["activation"], tanh["network"]["activation_params"]) == ("tanh", {})
    assert (tanh["network"]["depth"], tanh["train"]["seed"], tanh["network"]["width"]) == (4, 1, 8)
    assert plan.runs[0].config["network"]["activation_params"] == {"p": 3}
    with pytest.raises(ConfigError, match="network.widht"):
        plan_sweep(poisson, activations="tanh", depths="2", seeds="0", overrides=["network.widht=3"])
    with pytest.raises(ConfigError, match="is set by the sweep"):
        plan_sweep(poisson, activations="tanh", depths="2", seeds="0", overrides=["network.depth=3"])


# ------------------------------------------------------------------------------------------ statistics

def _rec(act, depth, seed, rel, status="done", wall=1.0):
    return {"activation": act, "activation_name": act.split("-")[0], "depth": depth, "seed": seed, "rel_l2": rel,
            "status": status, "wall_time_s": wall}


def test_group_statistics_known_answers():
    records = [_rec("mrepu-p2", 3, s, v, wall=w) for s, (v, w) in enumerate([(1e-3, 2.0), (2e-3, 4.0), (4e-3, 6.0)])]
    records += [_rec("mrepu-p2", 3, 3, None, status="failed", wall=3.0), _rec("mrepu-p2", 3, 4, None, status="error", wall=None)]
    records += [_rec("tanh", 3, 0, 0.5), _rec("tanh", 3, 1, None, status="pending", wall=None)]
    g = {(x["activation"], x["depth"]): x for x in group_summary(records)}
    m = g["mrepu-p2", 3]
    assert (m["runs"], m["failures"], m["unfinished"], m["n"]) == (5, 2, 0, 3)
    assert m["median"] == pytest.approx(2e-3) and m["best"] == pytest.approx(1e-3)
    assert m["mean"] == pytest.approx(7e-3 / 3)
    assert m["std"] == pytest.approx(np.std([1e-3, 2e-3, 4e-3], ddof=1))
    assert m["mean_wall_time_s"] == pytest.approx((2 + 4 + 6 + 3) / 4)  # failed runs trained too; errors did not
    t = g["tanh", 3]
    assert (t["runs"], t["failures"], t["unfinished"], t["n"], t["median"]) == (1, 0, 1, 1, 0.5)
    assert math.isnan(t["std"])
    md = format_markdown(records, {"command": "pinn-mrepu compare x", "seeds": "0-4", "notes": ["a note"]})
    assert "| mrepu-p2 | 3 | 3 | 2.000e-03 | 2.333e-03 ± 1.528e-03 | 1.000e-03 | 2/5 |" in md
    assert "excluded from the error statistics" in md and "- a note" in md and "`pinn-mrepu compare x`" in md


def test_mann_whitney_matches_scipy_and_reports_na():
    rng = np.random.default_rng(0)
    a, b, c = rng.lognormal(-6, 1, 5), rng.lognormal(-2, 1, 5), rng.lognormal(-6, 1, 4)
    records = ([_rec("mrepu-p2", 5, i, float(v)) for i, v in enumerate(a)]
               + [_rec("tanh", 5, i, float(v)) for i, v in enumerate(b)]
               + [_rec("gelu", 5, i, float(v)) for i, v in enumerate(c)]
               + [_rec("mrepu-p2", 7, 0, 1e-3), _rec("mrepu-p2", 7, 1, None, status="failed"), _rec("tanh", 7, 0, 0.1),
                  _rec("tanh", 7, 1, 0.2)])
    tests = {(t["depth"], t["baseline"]): t for t in mann_whitney_tests(records)}
    assert set(tests) == {(5, "tanh"), (5, "gelu"), (7, "tanh"), (7, "gelu")}
    for base, y in (("tanh", b), ("gelu", c)):
        ref = mannwhitneyu(a, y, alternative="two-sided")
        assert tests[5, base]["p"] == pytest.approx(ref.pvalue, rel=1e-12)
        assert tests[5, base]["U"] == ref.statistic
    sep = tests[5, "tanh"]
    assert sep["U"] == 0 and sep["p"] < 0.01 and (sep["n_activation"], sep["n_baseline"]) == (5, 5)
    na = tests[7, "tanh"]
    assert na["p"] is None and (na["n_activation"], na["n_baseline"]) == (1, 2)
    assert "| 7 | mrepu-p2 | tanh | 1 | 2 | 1.000e-03 | 1.500e-01 | n/a | n/a |" in format_markdown(records, {})


# ------------------------------------------------------------------------------------------ bookkeeping

def test_nan_run_is_a_failure_and_is_not_rerun(poisson, tmp_path, monkeypatch):
    kw = dict(activations="tanh", depths=[2], seeds=[0], overrides=TINY + ["train.phases.0.lr=1e200"],  # overflows at step 2
              out=tmp_path / "sweep", figures=False)
    (rec,) = compare(poisson, **kw)
    assert rec["status"] == "failed" and "non-finite loss" in rec["message"] and rec["rel_l2"] is None
    metrics = json.loads((tmp_path / "sweep" / rec["run"] / "metrics.json").read_text())
    assert (metrics["status"], metrics["message"]) == (rec["status"], rec["message"])
    assert "| tanh | 2 | 0 | n/a | n/a | n/a | 1/1 |" in (tmp_path / "sweep" / "summary.md").read_text()
    calls = _spy(monkeypatch, "run_to_folder")
    assert compare(poisson, **kw)[0]["status"] == "failed" and calls == []


def test_errors_are_recorded_and_resume_skips_finished_runs(poisson, tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    kw = dict(activations="tanh,sin", depths=[2], seeds=[0, 1], overrides=TINY, out=out, figures=False)
    calls = _spy(monkeypatch, "run_to_folder", fail=lambda d: d.endswith("sin-d2-s1"))
    events = []
    records = compare(poisson, progress=events.append, **kw)
    assert [r["status"] for r in records] == ["done", "done", "done", "error"]
    assert records[3]["message"] == "RuntimeError: boom in the run"
    assert "boom in the run" in (out / "runs/sin-d2-s1/error.txt").read_text()
    assert len(calls) == 4 and [e.completed for e in events] == [0, 1, 2, 3, 4] and events[-1].total == 4
    header, rows = _csv(out / "summary.csv")
    assert header == list(CSV_COLUMNS) and len(rows) == 4
    assert rows[0]["activation"] == "tanh" and rows[0]["steps"] == "25" and rows[0]["phase_steps"] == "adam 20, lbfgs 5"
    assert rows[3]["status"] == "error" and rows[3]["rel_l2"] == ""
    assert float(rows[0]["rel_l2"]) == records[0]["rel_l2"] and rows[0]["width"] == "8"
    mtimes = {r["run"]: (out / r["run"] / "metrics.json").stat().st_mtime_ns for r in records[:3]}

    monkeypatch.undo()
    calls = _spy(monkeypatch, "run_to_folder")
    again = compare(poisson, **kw)
    assert calls == [str(out / "runs/sin-d2-s1")]  # only the run that raised is redone
    assert [r["status"] for r in again] == ["done"] * 4
    assert again[:3] == records[:3]
    assert mtimes == {r["run"]: (out / r["run"] / "metrics.json").stat().st_mtime_ns for r in again[:3]}
    definition = yaml.safe_load((out / "sweep.yaml").read_text())
    assert definition["depths"] == [2] and definition["seeds"] == [0, 1] and definition["overrides"] == TINY
    assert [a["label"] for a in definition["activations"]] == ["tanh", "sin"]
    with pytest.raises(ConfigError, match="another problem or other --set"):
        compare(poisson, **{**kw, "overrides": TINY[:-1]})


def test_a_stopped_sweep_resumes_the_interrupted_run_from_its_checkpoint(poisson, tmp_path, monkeypatch):
    out = tmp_path / "sweep"
    kw = dict(activations="tanh", depths=[2], seeds=[0, 1], overrides=TINY + ["train.checkpoint_every=5"], out=out,
              figures=False)
    polls = []
    records = compare(poisson, should_stop=lambda: polls.append(1) or len(polls) > 12, **kw)
    assert [r["status"] for r in records] == ["interrupted", "pending"]
    assert 0 < json.loads((out / records[0]["run"] / "metrics.json").read_text())["steps"] < 20
    resumed = _spy(monkeypatch, "resume_folder")
    fresh = _spy(monkeypatch, "run_to_folder")
    final = compare(poisson, **kw)
    assert resumed == [str(out / records[0]["run"])] and fresh == [str(out / records[1]["run"])]
    assert [(r["status"], r["steps"], r["phase_steps"]) for r in final] == [("done", 25, "adam 20, lbfgs 5")] * 2


# ------------------------------------------------------------------------------------------ CLI, local pool

def test_cli_local_pool_two_jobs(poisson, tmp_path, capsys):
    out = tmp_path / "sweep"
    sets = [arg for item in TINY for arg in ("--set", item)]
    rc = main(["compare", poisson, "--activations", "mrepu,tanh", "--depths", "2", "--seeds", "0-1", *sets,
               "--jobs", "2", "--out", str(out), "--quiet"])
    stdout = capsys.readouterr().out
    assert rc == 0, stdout
    header, rows = _csv(out / "summary.csv")
    assert header == list(CSV_COLUMNS) and len(rows) == 4
    assert {(r["activation"], r["activation_params"], r["seed"], r["status"]) for r in rows} == {
        ("mrepu", "p=2", "0", "done"), ("mrepu", "p=2", "1", "done"), ("tanh", "", "0", "done"), ("tanh", "", "1", "done")}
    assert {int(r["threads"]) for r in rows} == {max(1, cmp.cpus() // 2)}
    for name in ("rel_l2_vs_depth.png", "loss_curves.png", "fields_mrepu.png", "fields_tanh.png", "sweep.yaml"):
        assert (out / name).is_file(), name
    for r in rows:
        assert (out / r["run"] / "history.csv").is_file() and (out / r["run"] / "model.pt").is_file()
    md = (out / "summary.md").read_text()
    for text in ("pinn-mrepu compare", "**seeds**: 0,1", "**machine**", "torch", "**wall time**", "| tanh | 2 | 2 |",
                 "| 2 | mrepu | tanh | 2 | 2 |"):
        assert text in md, text
    assert "median rel L2" in stdout and "tanh" in stdout and str(out) in stdout and "4 done" in stdout


@pytest.mark.parametrize("args, match", [
    (["--activations", "mrepu,swish"], "--activations: got 'swish', unknown activation"),
    (["--seeds", "a-b"], "--seeds: got 'a-b'"),
    (["--depths", "0,3"], "--depths: got '0,3'"),
    (["--set", "network.width"], "--set: got 'network.width'"),
    (["--set", "train.phases.adam.lr=-1"], "train.phases.0.lr"),
    (["--executor", "dask"], "--executor: got 'dask'"),
    (["--address", "auto"], "--address"),
    (["--jobs", "0"], "--jobs"),
    ("missing", "problem file"),
])
def test_cli_bad_input_exits_2_before_running(poisson, tmp_path, capsys, args, match):
    out = tmp_path / "sweep"
    problem = str(tmp_path / "nope.yaml") if args == "missing" else poisson
    rc = main(["compare", problem, "--depths", "2", "--seeds", "0", "--out", str(out), "--quiet",
               *([] if args == "missing" else args)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ") and match in err and err.count("\n") == 1
    assert not out.exists()


# ------------------------------------------------------------------------------------------ Ray

@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")  # raised by some Ray versions
def test_ray_executor_on_a_local_instance(poisson, tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        records = compare(poisson, activations="tanh,mrepu", depths=[2], seeds=[0], overrides=TINY, executor="ray",
                          jobs=2, out=tmp_path / "sweep", figures=False)
    finally:
        ray.shutdown()
    assert [(r["activation"], r["status"], r["threads"]) for r in records] == [("tanh", "done", 1), ("mrepu", "done", 1)]
    header, rows = _csv(tmp_path / "sweep" / "summary.csv")
    assert header == list(CSV_COLUMNS) and [r["status"] for r in rows] == ["done", "done"]
    assert all(math.isfinite(float(r["rel_l2"])) for r in rows)


def test_ray_executor_without_ray_names_the_extra(poisson, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "ray", None)  # import ray -> ImportError
    rc = main(["compare", poisson, "--activations", "tanh", "--depths", "2", "--seeds", "0", "--executor", "ray",
               "--out", str(tmp_path / "sweep"), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and "pip install pinn_mrepu[ray]" in err and err.count("\n") == 1
    assert not (tmp_path / "sweep").exists()
