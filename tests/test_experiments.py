"""The paper's non-PDE experiments: regression and digits runs, the resumable study, the report and the CLI."""

from __future__ import annotations

import csv
import math

import pytest
import torch

from pinn_mrepu.errors import ConfigError
from pinn_mrepu.experiments import (
    ResidualMLP,
    make_target,
    parse_variants,
    read_rows,
    regression_cells,
    run_regression,
    run_study,
    summarise,
    write_report,
)
from pinn_mrepu.experiments.report import SUMMARY_COLUMNS
from pinn_mrepu.experiments.study import choose_lr, planned_runs

TINY = dict(width=8, steps=5, n_train=16, n_test=16)


def _same(a: dict, b: dict) -> bool:
    return {k: v for k, v in a.items() if k != "seconds"} == {k: v for k, v in b.items() if k != "seconds"}


def test_targets_infer_the_dimension_and_evaluate():
    assert make_target("xyz").dim == 3 and make_target("sincos").dim == 2 and make_target("x**2").dim == 1
    assert make_target("x*z").dim == 3
    pts = torch.tensor([[0.5, -2.0, 3.0]], dtype=torch.float64)
    assert float(make_target("poly3")(pts)) == pytest.approx(0.5 ** 3 - 2 * 0.5 * -2.0 + 4.0 * 3.0)
    with pytest.raises(ConfigError):
        make_target("x*w")


def test_tanh_fits_xy_well_below_the_target_variance():
    r = run_regression("xy", "tanh", None, 2, 16, 0, 300, 1e-2, n_train=200, n_test=200)
    assert r["status"] == "ok" and r["steps_done"] == 300
    assert r["target_var"] == pytest.approx(1 / 9, rel=0.25)  # var(xy) on [-1, 1]^2
    assert r["rel_test_mse"] < 0.05 and r["test_mse"] < 0.05 * r["target_var"]
    assert 0 < r["h1_rel"] < 0.5 and math.isfinite(r["h1_mse"])


def test_a_regression_run_is_deterministic_per_seed():
    a = run_regression("xyz", "mrepu", {"p": 2}, 2, 8, 3, 20, 1e-2, n_train=32, n_test=32)
    b = run_regression("xyz", "mrepu", {"p": 2}, 2, 8, 3, 20, 1e-2, n_train=32, n_test=32)
    c = run_regression("xyz", "mrepu", {"p": 2}, 2, 8, 4, 20, 1e-2, n_train=32, n_test=32)
    assert _same(a, b) and a["test_mse"] != c["test_mse"] and a["params"] == "p=2"


def test_h1_error_is_the_gradient_error():
    """A network that is exactly zero has H1 error mean |grad f|^2, i.e. h1_rel = 1 (and test_mse = mean f^2)."""
    r = run_regression("xy", "relu", None, 1, 4, 0, 0, 1e-3, init={"c_w": 1e-300, "c_b": 0.0}, n_train=8,
                       n_test=4000)
    assert r["h1_rel"] == pytest.approx(1.0, abs=1e-12) and r["h1_mse"] == pytest.approx(2 / 3, rel=0.05)


def test_divergence_and_failure_are_results_not_crashes():
    huge = run_regression("xy", "tanh", None, 2, 8, 0, 30, 1e3, n_train=32, n_test=32)
    assert huge["status"] in ("failed", "diverged")
    boom = run_regression("xyz", "repu", {"p": 3}, 10, 32, 0, 5, 1e-3, n_train=32, n_test=32)
    assert boom["status"] == "diverged" and boom["steps_done"] == 0 and math.isnan(boom["test_mse"])
    s = summarise("regression", [huge, boom])
    assert s[0]["diverged"] + s[0]["failed"] == 1 and s[1]["diverged"] == 1


def test_choose_lr_uses_the_median_training_loss_with_inf_for_non_finite():
    chosen, med = choose_lr({1e-3: [0.5, 0.2, 0.3], 3e-3: [math.nan, 0.1, 0.1], 1e-2: [math.inf] * 3})
    assert chosen == 3e-3 and med[1e-3] == 0.3 and med[1e-2] == math.inf
    assert choose_lr({1e-3: [math.nan], 1e-2: [math.nan]})[0] == 1e-3  # all diverged: the smaller lr
    assert choose_lr({1e-2: [0.1], 1e-3: [0.1]})[0] == 1e-3  # ties: the smaller lr


def test_parse_variants():
    assert parse_variants("mrepu:2, tanh,repu:3") == [("mrepu", {"p": 2}), ("tanh", {}), ("repu", {"p": 3})]
    for bad in ("mrepu:x", "mrepu:0", " , "):
        with pytest.raises(ConfigError):
            parse_variants(bad)


def test_the_study_tunes_on_training_loss_and_resumes(tmp_path):
    cells = regression_cells(["xy"], [("tanh", {}), ("relu", {})], [1], **TINY)
    kw = dict(seeds=[0, 1], lrs=[1e-3, 1e-1], tune_seeds=[0])
    assert planned_runs(len(cells), **kw) == 2 * (2 + 1)
    first = run_study("regression", cells, tmp_path, **kw)
    assert first.status == "complete" and first.ran == first.done == first.planned == 6
    assert len(read_rows(tmp_path / "regression.csv")) == 6
    with open(tmp_path / "regression_tuning.csv", newline="") as fh:
        tuning = list(csv.DictReader(fh))
    assert len(tuning) == 4 and sum(t["chosen"] == "True" for t in tuning) == 2
    for cell in ("tanh", "relu"):  # the chosen lr is the one with the smaller training loss on seed 0
        rows = {r["lr"]: r for r in first.rows if r["activation"] == cell and r["seed"] == 0}
        best = min(rows, key=lambda lr: rows[lr]["train_loss"])
        assert {r["lr"] for r in first.main_rows if r["activation"] == cell} == {best}
    assert len(first.main_rows) == 4
    again = run_study("regression", cells, tmp_path, **kw)
    assert again.ran == 0 and again.status == "complete" and again.choices == first.choices
    # drop the last row: exactly that run is redone, with the same result
    text = (tmp_path / "regression.csv").read_text().splitlines(keepends=True)
    (tmp_path / "regression.csv").write_text("".join(text[:-1]))
    third = run_study("regression", cells, tmp_path, **kw)
    assert third.ran == 1 and _same(third.rows[-1], first.rows[-1])


def test_the_study_stops_early_as_partial(tmp_path):
    cells = regression_cells(["xy"], [("tanh", {})], [1, 2], **TINY)
    res = run_study("regression", cells, tmp_path, seeds=[0, 1], lrs=[1e-2], time_limit_s=0.0)
    assert res.status == "partial" and res.ran == 0 and "0 of 4" in res.message
    calls = []
    res = run_study("regression", cells, tmp_path, seeds=[0, 1], lrs=[1e-2], should_stop=lambda: len(calls) >= 1,
                    on_run=calls.append)
    assert res.status == "partial" and res.ran == 1 and res.done == 1
    with pytest.raises(ConfigError):
        run_study("vision", cells, tmp_path, seeds=[0], lrs=[1e-3])


def test_the_report_writes_tables_with_the_expected_columns(tmp_path):
    cells = regression_cells(["xy", "x**2"], [("tanh", {}), ("mrepu", {"p": 2})], [1, 2], **TINY)
    res = run_study("regression", cells, tmp_path, seeds=[0, 1], lrs=[1e-2])
    paths = write_report("regression", res.main_rows, tmp_path, header=["Status: test."], budget="tiny")
    assert {p.name for p in paths} == {"regression_summary.csv", "regression_report.md",
                                       "regression_mse_vs_depth.png", "regression_h1_vs_depth.png"}
    with open(tmp_path / "regression_summary.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        summary = list(reader)
    assert tuple(reader.fieldnames) == SUMMARY_COLUMNS["regression"] and len(summary) == 8
    assert all(s["n"] == "2" for s in summary)
    md = (tmp_path / "regression_report.md").read_text()
    assert "Status: test." in md and "## xy" in md and "## x**2" in md
    assert "| activation | depth 1 | depth 2 |" in md and "| mrepu p=2 |" in md and "| tanh |" in md


def test_the_digits_report_has_accuracy_columns(tmp_path):
    rows = [dict(arch=a, activation="relu", params="", init="critical", depth=d, width=4, seed=s, epochs=1,
                 lr=1e-3, batch_size=64, status="chance" if s == 2 else "ok", steps_done=1, train_loss=0.1,
                 train_acc=0.9, test_acc=0.1 if s == 2 else 0.8 + 0.01 * s, seconds=0.0)
            for a, d in (("mlp", 5), ("mlp", 10), ("residual", 3)) for s in range(3)]
    write_report("digits", rows, tmp_path)
    with open(tmp_path / "digits_summary.csv", newline="") as fh:
        reader = csv.DictReader(fh)
        summary = list(reader)
    assert tuple(reader.fieldnames) == SUMMARY_COLUMNS["digits"] and summary[0]["chance"] == "1"
    md = (tmp_path / "digits_report.md").read_text()
    assert "| activation | MLP depth 5 | MLP depth 10 | residual 3 blocks |" in md and "(1/3 fail)" in md
    assert (tmp_path / "digits_accuracy_vs_depth.png").stat().st_size > 0


def test_digits_split_is_stratified_deterministic_and_in_the_unit_box():
    pytest.importorskip("sklearn")
    from pinn_mrepu.experiments import load_digits_split

    x_tr, y_tr, x_te, y_te = load_digits_split(0)
    assert x_tr.shape == (1257, 64) and x_te.shape == (540, 64) and x_tr.dtype == torch.float64
    counts_tr, counts_te = torch.bincount(y_tr, minlength=10), torch.bincount(y_te, minlength=10)
    total = counts_tr + counts_te
    assert torch.all((counts_te - 0.3 * total).abs() <= 1)  # every class split 70/30
    assert torch.allclose(x_tr.mean(0), torch.zeros(64, dtype=torch.float64), atol=1e-12)
    for x in (x_tr, x_te):  # every image inside [-1, 1]^64, the box the critical first layer is sized for
        assert float(x.abs().max()) <= 1.0 and float(x.pow(2).mean(1).max()) <= 1.0
    assert 0.02 < float((x_tr ** 2).mean()) < 0.2
    again = load_digits_split(0)
    assert torch.equal(again[0], x_tr) and torch.equal(again[3], y_te)
    other = load_digits_split(1)
    assert not torch.equal(other[1], y_tr)


def test_digits_run_and_residual_net():
    pytest.importorskip("sklearn")
    from pinn_mrepu.experiments import run_digits

    net = ResidualMLP(64, 10, width=8, blocks=2, activation="mrepu", activation_params={"p": 2}, generator=1)
    same = ResidualMLP(64, 10, width=8, blocks=2, activation="mrepu", activation_params={"p": 2}, generator=1)
    x = torch.randn(5, 64, dtype=torch.float64)
    assert net(x).shape == (5, 10) and torch.equal(net(x), same(x))
    a = run_digits("residual", "tanh", None, 1, 16, 0, 2, 1e-2)
    b = run_digits("residual", "tanh", None, 1, 16, 0, 2, 1e-2)
    assert _same(a, b) and a["status"] == "ok" and a["test_acc"] > 0.5 and a["steps_done"] == 2 * 20
    # deep RePU p=3: at its best-effort init the small digit inputs vanish (chance); with C_W = 2 it explodes
    faint = run_digits("mlp", "repu", {"p": 3}, 12, 16, 0, 1, 1e-3)
    assert faint["status"] == "chance" and faint["test_acc"] < 0.2
    boom = run_digits("mlp", "repu", {"p": 3}, 12, 16, 0, 1, 1e-3, init={"c_w": 2.0})
    assert boom["status"] == "diverged" and math.isnan(boom["test_acc"])
    with pytest.raises(ConfigError):
        run_digits("cnn", "tanh")


def test_the_cli_runs_a_tiny_study_and_rejects_bad_input(tmp_path, capsys, restore_signals):
    from pinn_mrepu.cli import main

    out = tmp_path / "reg"
    argv = ["experiment", "regression", "--targets", "xy", "--activations", "tanh,mrepu:2", "--depths", "1",
            "--seeds", "0-1", "--lrs", "1e-2", "--steps", "3", "--width", "4", "--n-train", "8", "--n-test", "8",
            "--out", str(out), "--quiet"]
    assert main(argv) == 0
    assert (out / "regression_report.md").exists() and len(read_rows(out / "regression.csv")) == 4
    assert "complete: 4 of 4 runs" in capsys.readouterr().err
    assert main(argv) == 0 and "(0 run now, 4 found)" in capsys.readouterr().err
    for bad in (["--activations", "swish"], ["--depths", "x"], ["--lrs", "-1"], ["--targets", "q"]):
        assert main(argv[:2] + bad + ["--out", str(tmp_path / "bad")]) == 2
        assert capsys.readouterr().err.startswith("error:")
    assert not (tmp_path / "bad").exists()
