"""The sweep ledger: a sweep (tuned or not) whose run folders are gone, as on a fresh clone, is resumed from the
committed ledger.jsonl without rerunning finished runs, and only for the planned config."""

from __future__ import annotations

import json
import math
import shutil

import yaml

from pinn_mrepu.sweeps import CompareEvent, compare
from pinn_mrepu.sweeps.curves import read_history
from pinn_mrepu.sweeps.ledger import LEDGER, config_hash, curve_rows, read_ledger, thin_curve

from test_tune import TINY


def test_thin_curve_keeps_monitored_rows_phase_ends_and_few_others():
    hist = [{"step": i, "phase": "adam" if i < 300 else "lbfgs", "loss": 1.0 / (i + 1),
             "rel_l2": 0.5 / (i + 1) if i % 100 == 0 else math.nan, "elapsed_s": 0.01 * i} for i in range(1000)]
    curve = thin_curve(hist)
    steps = [c[0] for c in curve]
    assert steps == sorted(steps) and steps[0] == 0 and steps[-1] == 999
    assert {0, 100, 200, 299, 300, 900, 999} <= set(steps)  # monitored rows and the phases' first and last rows
    assert len(curve) <= 60 + 10 + 4
    rows = curve_rows({"curve": curve})
    assert rows[0]["loss"] == 1.0 and math.isnan(rows[1]["rel_l2"]) is (steps[1] % 100 != 0)
    assert all(abs(r["loss"] - 1.0 / (r["step"] + 1)) <= 5e-4 * r["loss"] for r in rows)  # 4 significant digits


def test_a_sweep_without_run_folders_resumes_from_the_ledger(problems_dir, tmp_path):
    problem = tmp_path / "poisson1d.yaml"
    shutil.copy(problems_dir / "poisson1d.yaml", problem)
    out = tmp_path / "sweep"
    kw = dict(activations="tanh", depths="1", seeds="0,1", out=out, tune=["train.phases.adam.lr=1e-4,3e-2"],
              tune_seeds="7", figures=False, overrides=TINY + ["evaluate.monitor_every=5"])
    first = compare(str(problem), **kw)
    assert [r["status"] for r in first] == ["done", "done"]
    ledger = read_ledger(out)
    assert len(ledger) == 4  # two tuning candidates and two study runs
    run0 = first[0]["run"]
    cfg = yaml.safe_load((out / run0 / "config.yaml").read_text())
    assert ledger[run0]["config"] == config_hash(cfg) and ledger[run0]["record"]["rel_l2"] == first[0]["rel_l2"]
    hist = read_history(out / run0 / "history.csv")
    assert [r["step"] for r in curve_rows(ledger[run0])] == [r["step"] for r in hist]  # 25 rows: all kept
    summary = (out / "summary.csv").read_text()
    assert "reused runs were trained where they first ran" not in (out / "summary.md").read_text()

    shutil.rmtree(out / "runs")
    shutil.rmtree(out / "tune")  # a fresh clone: only sweep.yaml, the summaries and the ledger are committed
    events: list[CompareEvent] = []
    again = compare(str(problem), progress=events.append, **kw)
    assert not (out / "runs").exists() and not (out / "tune").exists()  # nothing was trained again
    assert [(e.completed, e.total) for e in events] == [(2, 2), (2, 2)]  # tuning runs reused, then study runs
    assert json.dumps(again) == json.dumps(first) and (out / "summary.csv").read_text() == summary
    assert len((out / LEDGER).read_text().splitlines()) == 4  # reuse appends nothing
    machine = next(line for line in (out / "summary.md").read_text().splitlines() if "**machine**" in line)
    assert "the 4 reused runs were trained where they first ran" in machine  # 2 tuning + 2 study runs
    from pinn_mrepu.sweeps.plots import write_sweep_figures  # matplotlib

    paths, notes = write_sweep_figures(out, again)
    assert {p.name for p in paths} == {"rel_l2_vs_depth.png", "loss_curves.png", "error_vs_time.png"}
    assert notes == ["fields_tanh.png not written: no finished run with its model.pt here"]  # curves: the ledger's

    # the ledger only answers for the planned config: after an edit of the problem file everything reruns
    problem.write_text(problem.read_text().replace("boundary: 1.0}", "boundary: 2.0}"))
    rerun = compare(str(problem), **kw)
    assert (out / run0 / "metrics.json").is_file() and [r["status"] for r in rerun] == ["done", "done"]
    assert rerun[0]["rel_l2"] != first[0]["rel_l2"]
    assert len(read_ledger(out)) == 4 and len((out / LEDGER).read_text().splitlines()) == 8
    assert read_ledger(out)[run0]["config"] != ledger[run0]["config"]
