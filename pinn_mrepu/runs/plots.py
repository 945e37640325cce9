"""Figures of a run: solution/exact/error fields and loss curves.

Uses ``matplotlib.figure.Figure`` directly (no pyplot, no global backend state), so it works headless.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from pinn_mrepu.storage import atomic_write

__all__ = ["plot_fields", "plot_loss", "save_figure"]


def save_figure(fig: Figure, path: str | Path, dpi: int = 120) -> Path:
    """Save ``fig`` as PNG atomically."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write(path, buf.getvalue())
    return Path(path)


def plot_fields(axes: Sequence[np.ndarray], variables: Sequence[str], pred: np.ndarray,
                exact: np.ndarray | None, *, title: str = "") -> Figure:
    """Prediction, exact solution and |error| on a tensor grid.

    Args:
        axes: 1D node arrays of the grid (one per coordinate, first coordinate slowest in ``pred``'s C order).
        variables: coordinate names.
        pred, exact: values on the grid, shape ``(prod(len(a) for a in axes),)``.

    1D problems give curves; 2D (space-time or plane) give heat maps; higher dimensions show the middle slice.
    """
    shape = tuple(len(a) for a in axes)
    pred = pred.reshape(shape)
    exact = None if exact is None else exact.reshape(shape)
    if len(shape) > 2:
        mid = tuple(s // 2 for s in shape[2:])
        pred, exact = pred[(..., *mid)], None if exact is None else exact[(..., *mid)]
        axes, variables = axes[:2], variables[:2]
    panels = [("prediction", pred)] + ([] if exact is None else [("exact", exact), ("|error|", np.abs(pred - exact))])
    fig = Figure(figsize=(4.4 * len(panels), 3.6), layout="constrained")
    if len(axes) == 1:
        ax = fig.add_subplot(1, 2 if exact is not None else 1, 1)
        ax.plot(axes[0], pred, label="prediction")
        if exact is not None:
            ax.plot(axes[0], exact, "--", label="exact")
            ax.legend()
            ax2 = fig.add_subplot(1, 2, 2)
            ax2.semilogy(axes[0], np.abs(pred - exact) + 1e-300)
            ax2.set_title("|error|")
            ax2.set_xlabel(variables[0])
        ax.set_xlabel(variables[0])
        ax.set_title("u")
    else:
        a0, a1 = axes
        both = [v for n, v in panels if n != "|error|"]
        vmin, vmax = min(float(np.min(v)) for v in both), max(float(np.max(v)) for v in both)
        for k, (name, val) in enumerate(panels):
            ax = fig.add_subplot(1, len(panels), k + 1)
            style = {"cmap": "magma"} if name == "|error|" else {"cmap": "RdBu_r", "vmin": vmin, "vmax": vmax}
            # Put time (or the second coordinate) on the horizontal axis for space-time problems.
            if variables[-1] == "t":
                im = ax.pcolormesh(a1, a0, val, shading="auto", **style)
                ax.set_xlabel(variables[1])
                ax.set_ylabel(variables[0])
            else:
                im = ax.pcolormesh(a0, a1, val.T, shading="auto", **style)
                ax.set_xlabel(variables[0])
                ax.set_ylabel(variables[1])
            ax.set_title(name)
            fig.colorbar(im, ax=ax)
    if title:
        fig.suptitle(title)
    return fig


def phase_starts(history: Sequence[dict]) -> list[tuple[int, str]]:
    """``(step before the first row of a phase, optimizer)`` for every phase change in the history."""
    out, prev = [], None
    for i, r in enumerate(history):
        if r["phase"] != prev:
            out.append((int(history[i - 1]["step"]) if i else 0, str(r["phase"])))
            prev = r["phase"]
    return out


def _mark_phases(ax, history: Sequence[dict]) -> None:
    for k, (step, name) in enumerate(phase_starts(history)):
        if k:
            ax.axvline(step, color="grey", ls=":", lw=1)
        ax.text(step, 1.0, f" {name}", va="top", fontsize=8, color="grey", transform=ax.get_xaxis_transform(),
                in_layout=False, clip_on=True)  # a label at the right edge must not squeeze the axes away


def plot_loss(history: Sequence[dict], *, title: str = "") -> Figure:
    """Total loss and each term against the step (all phases), log scale; rel L2 beside it when monitored."""
    monitored = [r for r in history if isinstance(r.get("rel_l2"), float) and math.isfinite(r["rel_l2"])]
    fig = Figure(figsize=(11 if monitored else 6.5, 4), layout="constrained")
    ax = fig.add_subplot(1, 2 if monitored else 1, 1)
    if history:
        x = np.array([r["step"] for r in history])
        skip = ("step", "phase", "elapsed_s", "lr", "rel_l2")
        terms = [k for k in history[0] if k not in skip]
        for k in terms:
            y = np.array([r.get(k, np.nan) for r in history], dtype=float)
            if k != "loss" and not np.any(y != 0):  # exactly satisfied (hard constraint): nothing to show
                continue
            ax.semilogy(x, y, lw=2 if k == "loss" else 1, label=k)
        losses = np.array([r["loss"] for r in history], dtype=float)
        finite = losses[np.isfinite(losses) & (losses > 0)]
        if finite.size:  # terms satisfied to round-off would otherwise stretch the axis to 1e-32
            ax.set_ylim(bottom=max(ax.get_ylim()[0], 1e-4 * float(finite.min())))
        _mark_phases(ax, history)
        ax.legend(fontsize=8)
    ax.set_xlabel("step (iterations of all phases)")
    ax.set_ylabel("loss")
    if monitored:
        ax2 = fig.add_subplot(1, 2, 2)
        ax2.semilogy([r["step"] for r in monitored], [r["rel_l2"] for r in monitored], color="C3")
        _mark_phases(ax2, history)
        ax2.set_xlabel("step (iterations of all phases)")
        ax2.set_ylabel("rel L2 error (evaluation subset)")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig
