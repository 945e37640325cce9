"""Figures of an activation sweep (``matplotlib.figure.Figure``, no pyplot).

- ``rel_l2_vs_depth.png``: median rel L2 error against depth per activation, interquartile band, log scale;
- ``loss_curves.png``: one panel per depth, the median over seeds of the total loss per activation against the
  cumulative step (Adam steps, then L-BFGS iterations continuing the same axis);
- ``fields_<label>.png``: prediction / exact / error of the best and of the worst finished run of an activation,
  rebuilt from the run folders with :meth:`PINNSolver.load` and drawn by :func:`pinn_mrepu.runs.plots.plot_fields`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from pinn_mrepu.runs.plots import plot_fields, save_figure
from pinn_mrepu.solver import PINNSolver
from pinn_mrepu.storage import atomic_write

from .stats import finished_errors

__all__ = ["plot_rel_l2_vs_depth", "read_history", "cumulative_loss", "median_curve", "plot_loss_curves",
           "write_fields_figure", "write_sweep_figures"]


def plot_rel_l2_vs_depth(records: Sequence[Mapping], *, title: str = "") -> Figure:
    """Median rel L2 (finished runs) against depth per activation label, with the 25-75 % band; log y."""
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    labels = list(dict.fromkeys(str(r["activation"]) for r in records))
    depths = sorted({int(r["depth"]) for r in records})
    for label in labels:
        xs, med, lo, hi = [], [], [], []
        for d in depths:
            errs = finished_errors(r for r in records if str(r["activation"]) == label and int(r["depth"]) == d)
            if len(errs):
                xs.append(d)
                q25, q50, q75 = np.percentile(errs, [25, 50, 75])
                med.append(q50), lo.append(q25), hi.append(q75)
        if not xs:
            continue
        (line,) = ax.plot(xs, med, "o-", label=label)
        ax.fill_between(xs, lo, hi, color=line.get_color(), alpha=0.2, lw=0)
    ax.set_yscale("log")
    top = 10.0  # rel L2 above 1 is no solution at all; keep the useful range readable
    if ax.get_ylim()[1] > top:
        ax.set_ylim(top=top)
        ax.axhline(1.0, color="grey", lw=0.8, ls=":")
        ax.text(depths[0], top, " off-scale points: rel L2 > 10 (diverged)", va="top", fontsize=7, color="grey")
    ax.set_xticks(depths)
    ax.set_xlabel("depth (hidden layers)")
    ax.set_ylabel("rel L2 error (median, IQR band)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return fig


def read_history(path: str | Path) -> list[dict]:
    """Rows of a run's ``history.csv`` (``step`` int, ``phase`` str, ``loss`` float)."""
    with open(path, newline="", encoding="utf-8") as fh:
        return [{"step": int(row["step"]), "phase": row["phase"], "loss": float(row["loss"])} for row in csv.DictReader(fh)]


def cumulative_loss(history: Sequence[Mapping]) -> tuple[np.ndarray, np.ndarray]:
    """``(x, loss)`` with x the step (iterations over all phases)."""
    x = np.array([int(r["step"]) for r in history], dtype=np.int64)
    return x, np.array([float(r["loss"]) for r in history], dtype=np.float64)


def median_curve(curves: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Median over curves at every step that any of them logged (over the curves that reached it)."""
    xs = np.unique(np.concatenate([c[0] for c in curves])) if curves else np.array([], dtype=np.int64)
    med = np.empty(len(xs))
    for i, x in enumerate(xs):
        vals = [y[k] for xc, y in curves for k in np.flatnonzero(xc == x)[-1:] if np.isfinite(y[k])]
        med[i] = np.median(vals) if vals else np.nan
    return xs, med


def plot_loss_curves(curves: Mapping[str, Mapping[int, Sequence[tuple[np.ndarray, np.ndarray]]]], *,
                     title: str = "") -> Figure:
    """One panel per depth; in each, the median loss curve of every activation label.

    Args:
        curves: ``label -> depth -> [(x, loss), ...]`` (one curve per seed, from :func:`cumulative_loss`).
    """
    depths = sorted({d for per in curves.values() for d in per})
    ncol = min(4, max(1, len(depths)))
    nrow = max(1, -(-len(depths) // ncol))
    fig = Figure(figsize=(3.6 * ncol + 0.6, 3.0 * nrow + 0.5))
    first = None
    for k, depth in enumerate(depths):
        ax = fig.add_subplot(nrow, ncol, k + 1, sharey=first)
        first = first or ax
        for label, per in curves.items():
            runs = [c for c in per.get(depth, []) if len(c[0])]
            if runs:
                x, med = median_curve(runs)
                ax.semilogy(x, med, lw=1.2, label=f"{label} ({len(runs)})")
        ax.set_title(f"depth {depth}", fontsize=9)
        ax.set_xlabel("step (Adam, then L-BFGS)", fontsize=8)
        if k % ncol == 0:
            ax.set_ylabel("loss (median over seeds)", fontsize=8)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _render(fig: Figure, dpi: int) -> np.ndarray:
    from matplotlib.image import imread

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    buf.seek(0)
    return imread(buf, format="png")  # (H, W, 4) floats in [0, 1]


def write_fields_figure(panels: Sequence[tuple[str | Path, str]], path: str | Path, *, dpi: int = 100) -> Path:
    """Stack the solution/error figures of run folders vertically into one PNG.

    Args:
        panels: ``(run_dir, caption)`` pairs, drawn top to bottom.
        path: the PNG to write.
    """
    from matplotlib.image import imsave

    images = []
    for run_dir, caption in panels:
        solver = PINNSolver.load(run_dir, device="cpu")
        points, axes = solver.evaluation_grid()
        pred = np.asarray(solver.predict(points))
        exact = solver.problem.exact_values(points) if solver.problem.exact is not None else None
        outputs = solver.problem.outputs
        for i, name in enumerate(outputs):  # systems: one row per output
            label = caption if len(outputs) == 1 else f"{caption}; output {name}"
            images.append(_render(plot_fields(axes, solver.problem.variables, pred[:, i],
                                              None if exact is None else exact[:, i], title=label), dpi))
    width = max(im.shape[1] for im in images)
    padded = [np.pad(im, ((0, 0), (0, width - im.shape[1]), (0, 0)), constant_values=1.0) for im in images]
    buf = io.BytesIO()
    imsave(buf, np.concatenate(padded, axis=0), format="png")
    atomic_write(path, buf.getvalue())
    return Path(path)


def write_sweep_figures(out: str | Path, records: Sequence[Mapping], *, title: str = "") -> tuple[list[Path], list[str]]:
    """Write the three kinds of sweep figures into ``out`` from ``records`` and their run folders.

    ``records[i]["run"]`` is the run folder relative to ``out``.  A figure that cannot be made (e.g. run folders
    on another machine) is skipped and explained in the returned notes.

    Returns:
        ``(paths written, notes)``.
    """
    out = Path(out)
    written: list[Path] = []
    notes: list[str] = []
    save = lambda fig, name: written.append(save_figure(fig, out / name))  # noqa: E731
    try:
        save(plot_rel_l2_vs_depth(records, title=title), "rel_l2_vs_depth.png")
    except Exception as exc:  # a figure must never lose the sweep's results
        notes.append(f"rel_l2_vs_depth.png not written: {type(exc).__name__}: {exc}")
    curves: dict[str, dict[int, list]] = {}
    missing = 0
    for r in records:
        per = curves.setdefault(str(r["activation"]), {}).setdefault(int(r["depth"]), [])
        hist = out / str(r.get("run", "")) / "history.csv"
        if r.get("status") in ("done", "failed") and hist.is_file():
            try:
                per.append(cumulative_loss(read_history(hist)))
            except (OSError, ValueError, KeyError):
                missing += 1
        elif r.get("status") in ("done", "failed"):
            missing += 1
    if missing:
        notes.append(f"loss_curves.png: {missing} run(s) without a readable history.csv left out")
    try:
        save(plot_loss_curves(curves, title=title), "loss_curves.png")
    except Exception as exc:
        notes.append(f"loss_curves.png not written: {type(exc).__name__}: {exc}")
    for label in dict.fromkeys(str(r["activation"]) for r in records):
        done = [r for r in records if str(r["activation"]) == label and len(finished_errors([r]))]
        if not done:
            notes.append(f"fields_{label}.png not written: no finished run")
            continue
        done.sort(key=lambda r: float(r["rel_l2"]))
        chosen = [("best", done[0])] + ([("worst", done[-1])] if len(done) > 1 else [])
        panels = [(out / str(r["run"]), f"{label} {which}: depth {r['depth']}, seed {r['seed']}, "
                   f"rel L2 {float(r['rel_l2']):.2e}") for which, r in chosen]
        try:
            written.append(write_fields_figure(panels, out / f"fields_{label}.png"))
        except Exception as exc:
            notes.append(f"fields_{label}.png not written: {type(exc).__name__}: {exc}")
    return written, notes
