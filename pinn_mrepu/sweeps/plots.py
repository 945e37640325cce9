"""Figures of an activation sweep (``matplotlib.figure.Figure``, no pyplot).

- ``rel_l2_vs_depth.png``: median rel L2 error against depth per activation, interquartile band, log scale;
- ``error_vs_time.png``: one panel per depth, the median over seeds of the monitored rel L2 error (history.csv,
  every ``train.monitor_every`` steps; the ledger's thinned curve for a run whose folder is gone) per activation
  against training wall time: equal-time comparisons;
- ``loss_curves.png``: one panel per depth, the median over seeds of the total loss per activation against the
  cumulative step (the phases' iterations continuing one axis; dotted lines where the budget's phases change).
  A run that ended early (stalled, flat, converged, diverged) keeps its last loss from then on, so the median does not
  jump when the set of runs still going changes; where a run ended is marked.

Legends read ``mrepu p=2 (n=5 runs)``; every figure states the budget (the configured phases).
- ``fields_<label>.png``: prediction / exact / error of the best and of the worst finished run of an activation
  among those whose folder holds its ``model.pt``, rebuilt from the run folders with :meth:`PINNSolver.load` and
  drawn by :func:`pinn_mrepu.runs.plots.plot_fields`.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import yaml
from matplotlib.figure import Figure

from pinn_mrepu.runs.plots import plot_fields, save_figure
from pinn_mrepu.solver import PINNSolver
from pinn_mrepu.storage import atomic_write

from .curves import cumulative_loss, error_vs_time, median_curve, read_history
from .ledger import curve_rows, read_ledger
from .stats import finished_errors

__all__ = ["budget_text", "cumulative_loss", "display_label", "median_curve", "plot_loss_curves",
           "plot_error_vs_time", "plot_rel_l2_vs_depth", "read_history", "write_fields_figure", "write_sweep_figures"]

Budget = Sequence[tuple[str, int]]  # the configured phases: (optimizer, steps)


NO_CURVES = ("no stored curves at this depth\n(no history.csv here and no ledger curve:\n"
             "runs from before the ledger kept curves);\nfinal errors: rel_l2_vs_depth.png, summary.csv")
NOT_RUN = "no finished run at this depth yet"


def display_label(record: Mapping) -> str:
    """``mrepu p=2`` for a record with activation_name ``mrepu`` and activation_params ``p=2`` (else its label)."""
    name = record.get("activation_name") or record.get("activation")
    params = str(record.get("activation_params") or "").replace(",", " ")
    return f"{name} {params}".strip()


def budget_text(budget: Budget) -> str:
    """``budget: adam 300 + lbfgs 200 steps``."""
    return "budget: " + " + ".join(f"{opt} {steps}" for opt, steps in budget) + " steps" if budget else ""


def _with_budget(title: str, budget: Budget) -> str:
    return "; ".join(t for t in (title, budget_text(budget)) if t)


def plot_rel_l2_vs_depth(records: Sequence[Mapping], *, title: str = "", budget: Budget = ()) -> Figure:
    """Median rel L2 (finished runs) against depth per activation label, with the 25-75 % band; log y.

    The legend gives each activation with its parameters and the number of finished runs behind its points.
    """
    fig = Figure(figsize=(6.5, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    labels = list(dict.fromkeys(str(r["activation"]) for r in records))
    shown = {str(r["activation"]): display_label(r) for r in records}
    depths = sorted({int(r["depth"]) for r in records})
    for label in labels:
        xs, med, lo, hi, n = [], [], [], [], 0
        for d in depths:
            errs = finished_errors(r for r in records if str(r["activation"]) == label and int(r["depth"]) == d)
            if len(errs):
                n += len(errs)
                xs.append(d)
                q25, q50, q75 = np.percentile(errs, [25, 50, 75])
                med.append(q50), lo.append(q25), hi.append(q75)
        if not xs:
            continue
        (line,) = ax.plot(xs, med, "o-", label=f"{shown[label]} (n={n} runs)")
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
    if title or budget:
        ax.set_title(_with_budget(title, budget), fontsize=9)
    return fig


Curves = Mapping[str, Mapping[int, Sequence[tuple[np.ndarray, np.ndarray]]]]


def plot_loss_curves(curves: Curves, *, title: str = "", budget: Budget = (), unrun: Sequence[int] = ()) -> Figure:
    """One panel per depth; in each, the median loss curve of every activation label (see :func:`median_curve`).

    Args:
        curves: ``label -> depth -> [(x, loss), ...]`` (one curve per seed, from :func:`cumulative_loss`); the
            label is shown as given (e.g. from :func:`display_label`), with the number of runs.
        budget: the configured phases, marked where they change and stated in the title.
        unrun: depths without any finished run (their empty panels say so, not that curves were lost).
    """
    return _median_panels(curves, title=title, budget=budget, unrun=unrun, by_step=True,
                          ylabel="loss (median over seeds)",
                          xlabel="step (iterations of all phases; |: a run ended early)")


def plot_error_vs_time(curves: Curves, *, title: str = "", budget: Budget = (), unrun: Sequence[int] = ()) -> Figure:
    """One panel per depth; in each, the median monitored rel L2 of every activation label against training wall
    time (``curves``: ``label -> depth -> [(elapsed_s, rel_l2), ...]`` from :func:`error_vs_time`; ``unrun`` as
    in :func:`plot_loss_curves`)."""
    return _median_panels(curves, title=title, budget=budget, unrun=unrun, by_step=False,
                          ylabel="rel L2 on the monitor points (median over seeds)",
                          xlabel="training wall time (s; the machine's, see summary.md)")


def _median_panels(curves: Curves, *, title: str, budget: Budget, unrun: Sequence[int], ylabel: str, xlabel: str,
                   by_step: bool) -> Figure:
    ends = [int(v) for v in np.cumsum([steps for _, steps in budget])] if by_step else []
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
                (line,) = ax.semilogy(x, med, lw=1.2, label=f"{label} (n={len(runs)} runs)")
                early = sorted({int(c[0][-1]) for c in runs if ends and c[0][-1] < ends[-1]})
                if early:  # where runs ended before the budget: the median holds their last loss from there
                    ax.plot(early, np.interp(early, x, med), "|", ms=9, mew=1.5, color=line.get_color())
        first_x = min((int(c[0][0]) for per in curves.values() for c in per.get(depth, []) if len(c[0])), default=0)
        if not ax.get_lines():  # e.g. runs that finished before the ledger kept curves, their folders gone
            ax.text(0.5, 0.5, NOT_RUN if depth in unrun else NO_CURVES, ha="center", va="center", fontsize=7,
                    color="grey", transform=ax.transAxes)
        for k_phase, (opt, _) in enumerate(budget if by_step else ()):
            start = ends[k_phase - 1] if k_phase else 0
            if k_phase:
                ax.axvline(start, color="grey", ls=":", lw=1)
            ax.text(max(start, first_x), 1.0, f" {opt}", va="top", fontsize=7, color="grey",
                    transform=ax.get_xaxis_transform(), clip_on=True)
        ax.set_title(f"depth {depth}", fontsize=9)
        ax.set_xlabel(xlabel, fontsize=8)
        if k % ncol == 0:
            ax.set_ylabel(ylabel, fontsize=8)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    if title or budget:
        fig.suptitle(_with_budget(title, budget), fontsize=10)
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


def _budget(out: Path, records: Sequence[Mapping]) -> tuple[list[tuple[str, int]], str]:
    """The configured phases ``[(optimizer, steps), ...]`` of the sweep's runs (from their config.yaml), and a note
    if the runs disagree (then the most common budget is stated)."""
    seen: dict[tuple, int] = {}
    for r in records:
        try:
            cfg = yaml.safe_load((out / str(r.get("run", "")) / "config.yaml").read_text(encoding="utf-8"))
            key = tuple((str(ph["optimizer"]), int(ph["steps"])) for ph in cfg["train"]["phases"])
        except (OSError, ValueError, TypeError, KeyError, yaml.YAMLError):
            continue
        seen[key] = seen.get(key, 0) + 1
    if not seen:
        return [], ""
    best = max(seen, key=seen.get)
    note = "" if len(seen) == 1 else f"figures state the budget of {seen[best]} of {sum(seen.values())} runs"
    return list(best), note


def write_sweep_figures(out: str | Path, records: Sequence[Mapping], *, title: str = "") -> tuple[list[Path], list[str]]:
    """Write the sweep figures into ``out`` from ``records`` and their run folders.

    ``records[i]["run"]`` is the run folder relative to ``out``.  A figure that cannot be made (e.g. run folders
    on another machine) is skipped and explained in the returned notes.

    Returns:
        ``(paths written, notes)``.
    """
    out = Path(out)
    written: list[Path] = []
    notes: list[str] = []
    save = lambda fig, name: written.append(save_figure(fig, out / name))  # noqa: E731
    budget, budget_note = _budget(out, records)
    if budget_note:
        notes.append(budget_note)
    try:
        save(plot_rel_l2_vs_depth(records, title=title, budget=budget), "rel_l2_vs_depth.png")
    except Exception as exc:  # a figure must never lose the sweep's results
        notes.append(f"rel_l2_vs_depth.png not written: {type(exc).__name__}: {exc}")
    curves: dict[str, dict[int, list]] = {}
    timed: dict[str, dict[int, list]] = {}
    missing = 0
    ledger = read_ledger(out)
    ended: set[int] = set()  # depths with a finished run (the others have not run yet)
    for r in records:
        label, depth = display_label(r), int(r["depth"])
        per = curves.setdefault(label, {}).setdefault(depth, [])
        per_t = timed.setdefault(label, {}).setdefault(depth, [])
        if r.get("status") not in ("done", "failed"):
            continue
        ended.add(depth)
        try:
            rows = read_history(out / str(r.get("run", "")) / "history.csv")
        except (OSError, ValueError, KeyError):  # no run folder: the ledger's thinned curve, if it has one
            rows = curve_rows(ledger.get(str(r.get("run")), {}))
        if not rows:
            missing += 1
            continue
        per.append(cumulative_loss(rows))
        per_t.append(error_vs_time(rows))
    if missing:
        notes.append(f"loss_curves.png, error_vs_time.png: {missing} run(s) without a readable history.csv or "
                     "ledger curve left out")
    unrun = sorted({int(r["depth"]) for r in records} - ended)
    for plot, name, data in ((plot_loss_curves, "loss_curves.png", curves),
                             (plot_error_vs_time, "error_vs_time.png", timed)):
        try:
            save(plot(data, title=title, budget=budget, unrun=unrun), name)
        except Exception as exc:
            notes.append(f"{name} not written: {type(exc).__name__}: {exc}")
    for label in dict.fromkeys(str(r["activation"]) for r in records):
        done = [r for r in records if str(r["activation"]) == label and len(finished_errors([r]))
                and (out / str(r["run"]) / "model.pt").is_file()]
        if not done:
            notes.append(f"fields_{label}.png not written: no finished run with its model.pt here")
            continue
        done.sort(key=lambda r: float(r["rel_l2"]))
        chosen = [("best", done[0])] + ([("worst", done[-1])] if len(done) > 1 else [])
        panels = [(out / str(r["run"]), (f"{display_label(r)} {which}: depth {r['depth']}, seed {r['seed']}, "
                                          f"rel L2 {float(r['rel_l2']):.2e}; {budget_text(budget)}"))
                  for which, r in chosen]
        try:
            written.append(write_fields_figure(panels, out / f"fields_{label}.png"))
        except Exception as exc:
            notes.append(f"fields_{label}.png not written: {type(exc).__name__}: {exc}")
    return written, notes
