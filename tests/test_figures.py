"""Figures a user meets (issue 15 items 6-7): run folder figures and compare (sweep) figures.

Figures are inspected as matplotlib objects: ``save_figure`` is intercepted where the run / sweep code calls it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinn_mrepu.runs import plots as run_plots
from pinn_mrepu.runs import run_to_folder
from pinn_mrepu.runs.plots import activation_label, grid_slice, plot_fields, plot_loss
from pinn_mrepu.solver import PINNSolver
from pinn_mrepu.sweeps import compare
from pinn_mrepu.sweeps import plots as sweep_plots
from pinn_mrepu.sweeps.plots import (
    NO_CURVES,
    NOT_RUN,
    display_label,
    error_vs_time,
    median_curve,
    plot_error_vs_time,
    plot_loss_curves,
    plot_rel_l2_vs_depth,
    read_history,
)
from pinn_mrepu.validation import load_config

TINY = ["network.width=8", "network.depth=2", "network.init=lecun_normal", "train.points.interior=64",
        "train.phases.adam.steps=20", "train.phases.1={optimizer: lbfgs, steps: 5}", "evaluate.residual_points=64",
        "train.device=cpu"]


def _capture(monkeypatch, module):
    """Collect ``{file name: Figure}`` instead of writing PNGs through ``module.save_figure``."""
    figs = {}

    def fake(fig, path, dpi=120):
        figs[path.name] = fig
        return path

    monkeypatch.setattr(module, "save_figure", fake)
    return figs


def _legend(ax):
    leg = ax.get_legend()
    return [] if leg is None else [t.get_text() for t in leg.get_texts()]


def test_activation_label_shows_effective_parameters():
    assert activation_label("mrepu", {}) == "mrepu p=2"
    assert activation_label("mrepu", {"p": 3}) == "mrepu p=3"
    assert activation_label("tanh", {}) == "tanh"


# --------------------------------------------------------------------------------------------------------------------
# Run folder figures
# --------------------------------------------------------------------------------------------------------------------

def test_run_folder_figures_residual_map_titles_and_loss_legend(tmp_path, monkeypatch, problems_dir):
    figs = _capture(monkeypatch, run_plots)
    cfg = load_config(problems_dir / "burgers.yaml", [*TINY, "network.activation=mrepu",
                                                      "network.activation_params={p: 3}", "evaluate.grid=[21, 11]"])
    run_to_folder(cfg, tmp_path / "run")
    assert set(figs) == {"solution.png", "residual.png", "loss.png"}
    for name in figs:
        assert "mrepu p=3" in figs[name].get_suptitle(), name
    # the residual map is |PDE residual| of the trained network on the evaluation grid
    solver = PINNSolver.load(tmp_path / "run", device="cpu")
    points, axes = solver.evaluation_grid()
    x = torch.as_tensor(points, dtype=solver.dtype)
    expected = solver.loss.residual(solver.model, x, create_graph=False).detach().numpy()[:, 0]
    (mesh,) = figs["residual.png"].axes[0].collections
    shown = np.asarray(mesh.get_array()).reshape(len(axes[0]), len(axes[1]))  # (x, t): t horizontal
    top = np.abs(expected).max()
    np.testing.assert_allclose(shown, np.maximum(np.abs(expected), 1e-12 * top).reshape(shown.shape), rtol=1e-12)
    # hard constraints satisfy initial (exactly 0) and boundary (round-off) conditions: not in the legend
    labels = _legend(figs["loss.png"].axes[0])
    assert labels == ["loss", "residual"], labels
    note = " ".join(t.get_text() for t in figs["loss.png"].axes[0].texts)
    assert "initial = 0" in note and "boundary <=" in note


def test_loss_legend_drops_terms_that_are_exactly_zero():
    history = [{"step": s, "phase": "adam", "loss": 1.0 / s, "residual": 1.0 / s, "initial": 0.0, "lr": 1e-3}
               for s in (10, 20, 30)]
    fig = plot_loss(history, title="t")
    assert _legend(fig.axes[0]) == ["loss", "residual"]


def test_space_time_slice_is_labelled():
    """(x, y, t) grids show the middle time; every title names it, and the data are that slice."""
    axes = [np.linspace(0, 1, 5), np.linspace(0, 2, 4), np.linspace(0, 1, 3)]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, 3)
    pred = mesh[:, 0] + 10 * mesh[:, 1] + 100 * mesh[:, 2]
    index, label = grid_slice(axes, ["x", "y", "t"])
    assert label == "t = 0.5" and np.all(mesh[index, 2] == 0.5) and len(index) == 20
    fig = plot_fields(axes, ["x", "y", "t"], pred, pred + 1e-3, title="heat2d, tanh")
    assert "slice t = 0.5" in fig.get_suptitle()
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert titles and all("t = 0.5" in t for t in titles)
    shown = np.asarray(fig.axes[0].collections[0].get_array()).reshape(4, 5)  # (y, x): x horizontal
    np.testing.assert_allclose(shown.T, pred[index].reshape(5, 4))
    assert grid_slice(axes[:2], ["x", "y"]) == (pytest.approx(np.arange(20)), "")


# --------------------------------------------------------------------------------------------------------------------
# Compare figures
# --------------------------------------------------------------------------------------------------------------------

def test_median_curve_does_not_jump_when_a_run_ends_early():
    a = (np.array([10, 20, 30, 40]), np.array([4.0, 3.0, 2.0, 1.0]))
    b = (np.array([10, 20]), np.array([8.0, 6.0]))  # stopped early (e.g. L-BFGS stalled): stays at 6
    c = (np.array([10, 20, 30, 40]), np.array([1.0, 1.0, 1.0, 1.0]))
    x, med = median_curve([a, b, c])
    np.testing.assert_array_equal(x, [10, 20, 30, 40])
    np.testing.assert_array_equal(med, [4.0, 3.0, 2.0, 1.0])  # over all three runs at every step (not 1.5 at 30)


def test_loss_curves_legend_budget_and_phase_marks():
    runs = [(np.array([10, 20, 30, 40]), np.array([4.0, 3.0, 2.0, 1.0])), (np.array([10, 20, 25]), np.ones(3))]
    fig = plot_loss_curves({"mrepu p=2": {3: runs}}, title="poisson1d", budget=[("adam", 20), ("lbfgs", 20)])
    ax = fig.axes[0]
    assert _legend(ax) == ["mrepu p=2 (n=2 runs)"]
    assert "budget: adam 20 + lbfgs 20 steps" in fig.get_suptitle()
    assert any(np.array_equal(line.get_xdata(), [20, 20]) for line in ax.get_lines())  # phase change at step 20
    assert {t.get_text().strip() for t in ax.texts} == {"adam", "lbfgs"}
    ended = [line for line in ax.get_lines() if line.get_marker() == "|"]
    assert len(ended) == 1 and list(ended[0].get_xdata()) == [25]


def test_depth_without_stored_curves_says_so():
    runs = [(np.array([10, 20]), np.array([2.0, 1.0]))]
    fig = plot_loss_curves({"tanh": {3: runs, 10: []}}, budget=[("adam", 20)])
    with_curves, without = fig.axes
    assert not any("no stored curves" in t.get_text() for t in with_curves.texts)
    assert [t.get_text() for t in without.texts if "no stored curves" in t.get_text()] == [NO_CURVES]
    assert "summary.csv" in NO_CURVES
    # a depth of a partial sweep that has not run yet says that, not that its curves were lost
    fig = plot_error_vs_time({"tanh": {3: runs, 5: [], 10: []}}, unrun=[5])
    texts = [[t.get_text() for t in ax.texts] for ax in fig.axes]
    assert texts == [[], [NOT_RUN], [NO_CURVES]]


def test_error_vs_time_reads_monitored_rows_and_plots_medians(tmp_path):
    hist = tmp_path / "history.csv"
    hist.write_text("step,phase,loss,lr,rel_l2,elapsed_s\n10,adam,1.0,0.001,,0.5\n20,adam,0.5,0.001,0.2,1.0\n"
                    "30,lbfgs,0.1,,,1.5\n40,lbfgs,0.05,,0.01,2.5\n", encoding="utf-8")
    rows = read_history(hist)
    assert math.isnan(rows[0]["rel_l2"]) and rows[1]["rel_l2"] == 0.2 and rows[3]["elapsed_s"] == 2.5
    t, err = error_vs_time(rows)
    np.testing.assert_array_equal(t, [1.0, 2.5])
    np.testing.assert_array_equal(err, [0.2, 0.01])
    other = (np.array([2.0]), np.array([0.4]))
    fig = plot_error_vs_time({"tanh": {3: [(t, err), other]}}, title="heat", budget=[("adam", 20)])
    ax = fig.axes[0]
    assert _legend(ax) == ["tanh (n=2 runs)"] and "wall time" in ax.get_xlabel()
    (line,) = [ln for ln in ax.get_lines() if ln.get_marker() != "|"]
    np.testing.assert_array_equal(line.get_xdata(), [1.0, 2.0, 2.5])
    np.testing.assert_allclose(line.get_ydata(), [0.2, 0.3, 0.205])  # medians of the runs logged so far
    assert not ax.texts  # no phase marks on a time axis


def test_rel_l2_legend_reads_parameters_and_run_count():
    records = [{"activation": "mrepu", "activation_name": "mrepu", "activation_params": "p=2", "depth": d,
                "seed": s, "status": "done", "rel_l2": 0.1 * (s + 1)} for d in (2, 3) for s in range(2)]
    assert display_label(records[0]) == "mrepu p=2"
    fig = plot_rel_l2_vs_depth(records, title="x", budget=[("adam", 5)])
    assert _legend(fig.axes[0]) == ["mrepu p=2 (n=4 runs)"]
    assert "budget: adam 5 steps" in fig.axes[0].get_title()


def test_sweep_figures_state_budget_and_parameters(tmp_path, monkeypatch, problems_dir):
    figs = _capture(monkeypatch, sweep_plots)
    compare(str(problems_dir / "poisson1d.yaml"), activations="mrepu", depths=[2], seeds=[0, 1],
            overrides=[t for t in TINY if "depth" not in t] + ["evaluate.grid=[51]"], out=tmp_path / "sweep")
    assert {"rel_l2_vs_depth.png", "loss_curves.png", "error_vs_time.png"} <= set(figs)
    assert _legend(figs["error_vs_time.png"].axes[0]) == ["mrepu p=2 (n=2 runs)"]
    assert _legend(figs["rel_l2_vs_depth.png"].axes[0]) == ["mrepu p=2 (n=2 runs)"]
    assert _legend(figs["loss_curves.png"].axes[0]) == ["mrepu p=2 (n=2 runs)"]
    assert "budget: adam 20 + lbfgs 5 steps" in figs["loss_curves.png"].get_suptitle()
    assert "budget: adam 20 + lbfgs 5 steps" in figs["rel_l2_vs_depth.png"].axes[0].get_title()
    assert (tmp_path / "sweep" / "fields_mrepu.png").is_file()
