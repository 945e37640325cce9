"""Figures of a run: solution/exact/error fields, |PDE residual| maps and loss curves.

Grids of more than two coordinates are shown on one 2-D slice (:func:`grid_slice`), named in every title.

Uses ``matplotlib.figure.Figure`` directly (no pyplot, no global backend state), so it works headless.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from pinn_mrepu.activations import get_activation
from pinn_mrepu.storage import atomic_write

__all__ = ["activation_label", "grid_slice", "plot_fields", "plot_loss", "plot_residual", "save_figure"]


def activation_label(name: str, params: dict | None = None) -> str:
    """``mrepu p=3``: the activation with its effective parameters (defaults included), for titles."""
    try:
        prm = get_activation(name, **dict(params or {})).params
    except ValueError:
        prm = dict(params or {})
    return " ".join([name] + [f"{k}={v}" for k, v in prm.items()])


def grid_slice(axes: Sequence[np.ndarray], variables: Sequence[str]) -> tuple[np.ndarray, str]:
    """The points of a tensor grid that the figures show, and the slice in words.

    Grids of one or two coordinates are shown whole (``label`` is ""); larger ones at the middle node of every
    coordinate after the second, e.g. ``"t = 0.5"`` for (x, y, t).

    Returns:
        ``(index (M,) into the grid's points in C order, label)``.
    """
    shape = tuple(len(a) for a in axes)
    if len(shape) <= 2:
        return np.arange(math.prod(shape)), ""
    mid = tuple(n // 2 for n in shape[2:])
    index = np.ravel_multi_index(np.meshgrid(np.arange(shape[0]), np.arange(shape[1]), *[[m] for m in mid],
                                             indexing="ij"), shape).ravel()
    label = ", ".join(f"{v} = {float(a[m]):.4g}" for v, a, m in zip(variables[2:], axes[2:], mid))
    return index, label


def _titled(title: str, where: str) -> str:
    return f"{title}; slice {where}" if where else title


def _heat_map(fig: Figure, ax, axes, variables, val: np.ndarray, **style):
    """A 2-D field; time (or the second coordinate) on the horizontal axis for space-time problems."""
    a0, a1 = axes
    if variables[-1] == "t":
        im = ax.pcolormesh(a1, a0, val, shading="auto", **style)
        ax.set(xlabel=variables[1], ylabel=variables[0])
    else:
        im = ax.pcolormesh(a0, a1, val.T, shading="auto", **style)
        ax.set(xlabel=variables[0], ylabel=variables[1])
    fig.colorbar(im, ax=ax)


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

    1D problems give curves; 2D (space-time or plane) give heat maps; higher dimensions show the slice of
    :func:`grid_slice`, named in the titles (e.g. "slice t = 0.5").
    """
    index, where = grid_slice(axes, variables)
    axes, variables = list(axes[:2]), list(variables[:2])
    shape = tuple(len(a) for a in axes)
    pred = np.asarray(pred).ravel()[index].reshape(shape)
    exact = None if exact is None else np.asarray(exact).ravel()[index].reshape(shape)
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
        both = [v for n, v in panels if n != "|error|"]
        vmin, vmax = min(float(np.min(v)) for v in both), max(float(np.max(v)) for v in both)
        for k, (name, val) in enumerate(panels):
            ax = fig.add_subplot(1, len(panels), k + 1)
            style = {"cmap": "magma"} if name == "|error|" else {"cmap": "RdBu_r", "vmin": vmin, "vmax": vmax}
            _heat_map(fig, ax, axes, variables, val, **style)
            ax.set_title(_titled(name, where))
    if title or where:
        fig.suptitle(_titled(title, where))
    return fig


def plot_residual(axes: Sequence[np.ndarray], variables: Sequence[str], residuals: dict[str, np.ndarray], *,
                  title: str = "") -> Figure:
    """|PDE residual| of each equation over the grid shown by :func:`grid_slice`, log colour scale.

    Args:
        axes, variables: the evaluation grid, as for :func:`plot_fields`.
        residuals: ``{equation: values (M,)}`` at the points ``grid_slice(axes, variables)[0]`` selects (the whole
            grid for one or two coordinates).
    """
    _, where = grid_slice(axes, variables)
    axes, variables = list(axes[:2]), list(variables[:2])
    shape = tuple(len(a) for a in axes)
    fig = Figure(figsize=(4.6 * (1 if len(axes) == 1 else len(residuals)), 3.6), layout="constrained")
    if len(axes) == 1:
        ax = fig.add_subplot(1, 1, 1)
        for name, r in residuals.items():
            ax.semilogy(axes[0], np.abs(r) + 1e-300, label=name)
        ax.set(xlabel=variables[0], ylabel="|residual|")
        ax.legend(fontsize=8)
    else:
        for k, (name, r) in enumerate(residuals.items()):
            a = np.abs(np.asarray(r, dtype=float)).reshape(shape)
            top = float(np.nanmax(a)) if np.any(np.isfinite(a)) else 1.0
            top = top if top > 0 else 1.0
            ax = fig.add_subplot(1, len(residuals), k + 1)
            _heat_map(fig, ax, axes, variables, np.maximum(a, top * 1e-12), cmap="magma",
                      norm=LogNorm(vmin=max(float(np.nanmin(a[a > 0])) if np.any(a > 0) else top, top * 1e-12),
                                   vmax=top))
            ax.set_title(_titled("|residual|" if name == "residual" else f"|residual of {name}|", where))
    if title or where:
        fig.suptitle(_titled(title, where))
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
    first = int(history[0]["step"]) if history else 0
    for k, (step, name) in enumerate(phase_starts(history)):
        if k:
            ax.axvline(step, color="grey", ls=":", lw=1)
        ax.text(max(step, first), 1.0, f" {name}", va="top", fontsize=8, color="grey", transform=ax.get_xaxis_transform(),
                in_layout=False, clip_on=True)  # a label at the right edge must not squeeze the axes away


def plot_loss(history: Sequence[dict], *, title: str = "") -> Figure:
    """Total loss and each term against the step (all phases), log scale; rel L2 beside it when monitored.

    Terms that never reach the plotted range (zero, or at round-off below 1e-4 x the smallest total loss, as
    for conditions a hard constraint satisfies) are not drawn and not in the legend; a note names them.
    """
    monitored = [r for r in history if isinstance(r.get("rel_l2"), float) and math.isfinite(r["rel_l2"])]
    fig = Figure(figsize=(11 if monitored else 6.5, 4), layout="constrained")
    ax = fig.add_subplot(1, 2 if monitored else 1, 1)
    if history:
        x = np.array([r["step"] for r in history])
        skip = ("step", "phase", "elapsed_s", "lr", "rel_l2")
        terms = [k for k in history[0] if k not in skip]
        losses = np.array([r["loss"] for r in history], dtype=float)
        finite = losses[np.isfinite(losses) & (losses > 0)]
        floor = 1e-4 * float(finite.min()) if finite.size else 0.0  # terms at round-off would stretch the axis
        hidden = []
        for k in terms:
            y = np.array([r.get(k, np.nan) for r in history], dtype=float)
            top = float(np.nanmax(y)) if np.any(np.isfinite(y)) else math.nan
            if k != "loss" and not top > floor:  # zero / round-off / never logged: nothing to see
                hidden.append(f"{k} = 0" if top == 0 else f"{k} <= {top:.1e}")
                continue
            ax.semilogy(x, y, lw=2 if k == "loss" else 1, label=k)
        if finite.size:
            ax.set_ylim(bottom=max(ax.get_ylim()[0], floor))
        _mark_phases(ax, history)
        ax.legend(fontsize=8)
        if hidden:
            ax.text(0.01, 0.01, "not drawn (satisfied to round-off): " + ", ".join(hidden), fontsize=7,
                    color="grey", transform=ax.transAxes)
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
