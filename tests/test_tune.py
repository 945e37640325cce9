"""Fair tuning in compare: candidates per activation and depth on separate seeds, chosen without the exact
solution, recorded in summary.md / tuning.csv / summary.csv, and the study's runs use the winner."""

from __future__ import annotations

import csv
import json
import math

import pytest
import yaml

from pinn_mrepu import ConfigError
from pinn_mrepu.cli.main import main
from pinn_mrepu.sweeps import compare
from pinn_mrepu.sweeps.tune import candidate_overrides, choose, parse_tune

TINY = ["network.width=8", "train.points.interior=64", "train.phases.adam.steps=20",
        "train.phases.1={optimizer: lbfgs, steps: 5}", "evaluate.grid=[101]", "evaluate.residual_points=64",
        "network.init=lecun_normal", "train.device=cpu", "evaluate.monitor_every=0"]


def test_parse_tune_and_candidates():
    tune = parse_tune(["train.phases.adam.lr=1e-3,1e-2", "network.width=4,8"])
    assert tune == {"train.phases.adam.lr": [1e-3, 1e-2], "network.width": [4, 8]}
    assert candidate_overrides(tune) == [["train.phases.adam.lr=0.001", "network.width=4"],
                                         ["train.phases.adam.lr=0.001", "network.width=8"],
                                         ["train.phases.adam.lr=0.01", "network.width=4"],
                                         ["train.phases.adam.lr=0.01", "network.width=8"]]
    assert candidate_overrides(parse_tune(["network.init={c_w: 1.0, c_b: 0.0},critical"])) == [
        ["network.init={c_b: 0.0, c_w: 1.0}"], ["network.init=critical"]]


@pytest.mark.parametrize("items, words", [
    (["lr"], "must be KEY=V1,V2"), (["train.phases.adam.lr=1e-3"], "at least two"),
    (["train.phases.adam.lr=1e-3,1e-3"], "distinct"), (["network.depth=2,3"], "sweep sets"),
    (["train.seed=1,2"], "sweep sets"), (["a=[1,"], "YAML"),
    (["a=1,2,3,4", "b=1,2,3,4", "c=1,2,3,4,5"], "at most 64"),
])
def test_bad_tune_items(items, words):
    with pytest.raises(ConfigError, match=words):
        parse_tune(items)


def test_choose_uses_the_median_score_and_counts_failures_as_infinite():
    recs = [{"activation": "tanh", "depth": 2, "candidate": k, "status": st, "final_loss": v, "mean_abs_residual": 0.0}
            for k, st, v in [(0, "done", 1.0), (0, "done", 3.0), (0, "done", 2.0),
                             (1, "done", 0.5), (1, "failed", None), (1, "failed", None)]]
    (best, scores), = choose(recs, 2, "loss").values()
    assert best == 0 and scores[0] == 2.0 and math.isinf(scores[1])
    # a candidate that has not run yet (stopped sweep) is not a failure: no choice is made
    recs[3:] = [{**recs[3], "status": "pending", "final_loss": None}]
    (best, scores), = choose(recs, 2, "loss").values()
    assert best == -1 and math.isnan(scores[1])


def test_compare_tunes_per_activation_and_uses_the_winner(problems_dir, tmp_path):
    out = tmp_path / "sweep"
    records = compare(str(problems_dir / "poisson1d.yaml"), activations="tanh,mrepu:3", depths="2", seeds="0",
                      overrides=TINY, out=out, tune=["train.phases.adam.lr=1e-4,3e-2"], tune_seeds="7,8",
                      figures=False)
    with open(out / "tuning.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 4 and {r["activation"] for r in rows} == {"tanh", "mrepu-p3"}
    for act in ("tanh", "mrepu-p3"):
        mine = [r for r in rows if r["activation"] == act]
        chosen = [r for r in mine if r["chosen"] == "True"]
        assert len(chosen) == 1 and float(chosen[0]["score"]) == min(float(r["score"]) for r in mine)
        rec = next(r for r in records if r["activation"] == act)
        assert rec["tuned"] == chosen[0]["candidate"]
        saved = yaml.safe_load((out / rec["run"] / "config.yaml").read_text())
        assert saved["train"]["phases"][0]["lr"] == float(chosen[0]["candidate"].partition("=")[2])
    for k in (0, 1):
        assert (out / "tune" / f"c{k}" / "tanh-d2-s7" / "metrics.json").is_file()
    md = (out / "summary.md").read_text()
    assert "## Tuning" in md and "--tune train.phases.adam.lr=1e-4,3e-2" in md and "never used" in md
    # resume: nothing is rerun
    again = compare(str(problems_dir / "poisson1d.yaml"), activations="tanh,mrepu:3", depths="2", seeds="0",
                    overrides=TINY, out=out, tune=["train.phases.adam.lr=1e-4,3e-2"], tune_seeds="7,8",
                    figures=False)
    assert [r["final_loss"] for r in again] == [r["final_loss"] for r in records]


def test_cli_tune_seeds_must_be_disjoint(problems_dir, tmp_path, capsys):
    rc = main(["compare", str(problems_dir / "poisson1d.yaml"), "--activations", "tanh", "--depths", "2",
               "--seeds", "0-1", "--tune", "train.phases.adam.lr=1e-3,1e-2", "--tune-seeds", "1,2",
               "--out", str(tmp_path / "s"), "--quiet"])
    assert rc == 2 and "--tune-seeds" in capsys.readouterr().err and not (tmp_path / "s").exists()


def test_tuned_sweep_writes_the_summaries_of_finished_depths_before_the_next(problems_dir, tmp_path):
    """A long study is readable while it runs: when depth 2's tuning starts, summary.csv and tuning.csv already
    hold depth 1 (done) and depth 2 (pending)."""
    out = tmp_path / "sweep"
    seen = []

    def progress(event):
        rec = event.record
        if rec is not None and rec.get("depth") == 2 and not seen:
            with open(out / "summary.csv", newline="") as fh:
                seen.append({(int(r["depth"]), r["status"]) for r in csv.DictReader(fh)})
            with open(out / "tuning.csv", newline="") as fh:
                seen.append({int(r["depth"]) for r in csv.DictReader(fh)})

    compare(str(problems_dir / "poisson1d.yaml"), activations="tanh", depths="1,2", seeds="0", overrides=TINY,
            out=out, tune=["train.phases.adam.lr=1e-4,3e-2"], tune_seeds="7", figures=False, progress=progress)
    assert seen == [{(1, "done"), (2, "pending")}, {1}]
    with open(out / "summary.csv", newline="") as fh:
        assert {(int(r["depth"]), r["status"]) for r in csv.DictReader(fh)} == {(1, "done"), (2, "done")}


def test_report_runs_nothing_and_summarises_every_depth(problems_dir, tmp_path, capsys):
    """--report after a study run depth by depth: summaries over all depths, unfinished ones pending, no new runs."""
    out = tmp_path / "sweep"
    args = ["compare", str(problems_dir / "poisson1d.yaml"), "--activations", "tanh", "--seeds", "0",
            "--tune", "train.phases.adam.lr=1e-4,3e-2", "--tune-seeds", "7", "--no-figures", "--quiet",
            "--out", str(out), *(a for item in TINY for a in ("--set", item))]
    assert main([*args, "--depths", "1"]) == 0
    before = sorted(p.relative_to(out) for p in out.rglob("metrics.json"))
    assert len(before) == 3  # two tuning candidates and the study run
    capsys.readouterr()
    assert main([*args, "--depths", "1,2", "--report"]) == 0
    assert "report only; continue the sweep with" in capsys.readouterr().out
    assert sorted(p.relative_to(out) for p in out.rglob("metrics.json")) == before
    assert not any(p.name.endswith("-d2-s0") or p.name.endswith("-d2-s7") for p in out.rglob("*"))
    with open(out / "summary.csv", newline="") as fh:
        assert {(int(r["depth"]), r["status"]) for r in csv.DictReader(fh)} == {(1, "done"), (2, "pending")}
    with open(out / "tuning.csv", newline="") as fh:
        assert {int(r["depth"]) for r in csv.DictReader(fh) if r["chosen"] == "True"} == {1}
    assert "1 done, 1 pending" in (out / "summary.md").read_text()
    # a run that raised shows as error with its message (a resume would redo it), not as pending
    study_run = next(p.parent for p in out.rglob("metrics.json") if p.parent.name.endswith("-d1-s0"))
    (study_run / "metrics.json").write_text(json.dumps({"status": "error", "message": "RuntimeError: boom"}))
    assert main([*args, "--depths", "1,2", "--report"]) == 0
    with open(out / "summary.csv", newline="") as fh:
        rows = {(int(r["depth"]), r["status"], r["message"]) for r in csv.DictReader(fh)}
    assert rows == {(1, "error", "RuntimeError: boom"), (2, "pending", "not run (the sweep stopped)")}
    capsys.readouterr()
    assert main([*args, "--depths", "1", "--report"]) == 0  # only the errored run left: a resume redoes it
    assert "report only; continue the sweep with" in capsys.readouterr().out
