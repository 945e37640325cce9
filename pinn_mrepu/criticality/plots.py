"""Figures of the criticality analysis (matplotlib, Agg canvas; no pyplot global state).

:func:`criticality_figures` builds, and :func:`write_criticality_figures` writes, three figures, all of the chosen
activation (references drawn thinner and labelled as such).  ``depth`` is the number of hidden layers L, as in
``network.depth``: the network has L + 1 linear layers, the last one the output layer.

1. ``kernel_vs_layer.png`` -- K^(l) against l = 1..L+1: infinite-width recursion (lines) and random-network
   ensembles (o: mean over networks; x: median; band: 10-90 % of the per-network kernels), at 0.9, 1 and 1.1
   times the activation's critical C_W (first layer from its recipe), and with different first layers.
2. ``susceptibilities.png`` -- chi_par, chi_perp at the critical C_W against K, and chi_par / chi_perp with
   MRePU, RePU, tanh and GELU for reference.
3. ``phase_diagram.png`` -- log10(K^(L+1) / K^(1)) over a (C_b, C_W) grid, with RePU_p for reference.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from pinn_mrepu.activations import get_activation
from pinn_mrepu.errors import ConfigError

from .ensembles import empirical_kernels
from .initialization import CriticalInit, critical_init
from .report import resolve_activation
from .theory import kernel_recursion, susceptibilities

__all__ = ["criticality_figures", "describe_init", "write_criticality_figures"]

_M2 = 1.0 / 3.0  # mean x^2 of inputs uniform on [-1, 1]^d
_X = np.array([[math.sqrt(_M2), -math.sqrt(_M2)]])  # one input with mean x^2 = 1/3
_OUTSIDE = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0}  # legend right of the axes


def _label(act: Any) -> str:
    prm = " ".join(f"{k}={v}" for k, v in act.params.items())
    return f"{act.name} {prm}" if prm else act.name


def describe_init(ci: CriticalInit) -> str:
    """What the recommended (C_b, C_W) of ``ci`` is, in words (for legends and titles)."""
    if ci.universality == "k_star_zero":
        return "critical init: kernel neither grows nor shrinks to first order near K = 0"
    if ci.universality == "scale_invariant":
        return "critical init: kernel kept at every K"
    if ci.universality == "nonzero_fixed_point":
        return f"critical init: stable fixed point K* = {ci.k_star:.3g}"
    return "no critical point; C_W keeps K^(1) fixed, unstably"


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=130)
    return path


def _shown(v: np.ndarray) -> np.ndarray:
    """Values outside [1e-30, 1e30] (collapsed or blown-up) are not drawn."""
    return np.where((v > 1e-30) & (v < 1e30), v, np.nan)


def _ensemble_panel(ax: Any, act: Any, configs: list[tuple[str, tuple[float, float], float, float, str]],
                    n_linear: int, width: int, n_networks: int, seed: int, method: str) -> None:
    layers = np.arange(1, n_linear + 1)
    finite = []
    for label, first, c_b, c_w, color in configs:
        r = empirical_kernels(act, width=width, depth=n_linear, n_networks=n_networks, inputs=_X, c_b=c_b,
                              c_w=c_w, first_layer=first, seed=seed, method=method)
        per = r.per_network[:, :, 0]
        lo, med, hi = (np.quantile(per, q, axis=1, method="nearest") for q in (0.1, 0.5, 0.9))
        ax.plot(layers, _shown(r.theory[:, 0]), color=color, lw=1.8, label=label)
        ax.plot(layers, _shown(r.kernel[:, 0]), "o", color=color, ms=3.5)
        ax.plot(layers, _shown(med), "x", color=color, ms=4)
        ax.fill_between(layers, np.clip(lo, 1e-30, 1e30), np.clip(hi, 1e-30, 1e30), color=color, alpha=0.18, lw=0)
        finite += [v for v in (*r.theory[:, 0], *med) if np.isfinite(v) and 0 < v < 1e30]
    lo_y, hi_y = max(min(finite) / 3, 1e-12), min(max(finite) * 3, 1e12)
    ax.set_yscale("log")
    ax.set_ylim(lo_y, hi_y)
    ax.set_xlabel(f"layer l (l = {n_linear}: output layer)")
    ax.set_ylabel("kernel K^(l)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, **_OUTSIDE)


def _figure_kernels(act: Any, depth: int, width: int, n_networks: int, seed: int, method: str) -> Figure:
    n = depth + 1
    ci = critical_init(act)
    lv = ci.layer_variances(n, width=width)
    first, (cb, cw) = lv[0], lv[1]
    fig = Figure(figsize=(15, 9), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    for ax, f, color in zip(axes[:3], (0.9, 1.0, 1.1), ("tab:blue", "tab:green", "tab:red")):
        _ensemble_panel(ax, act, [(f"C_W = {f * cw:.3g}", first, cb, f * cw, color)], n, width, n_networks, seed,
                        method)
        what = describe_init(ci) if f == 1.0 else f"{f:g} x the recommended C_W = {cw:.3g}"
        ax.set_title(f"{_label(act)}: layers 2..{n} (C_b, C_W) = ({cb:.3g}, {f * cw:.3g}), first layer "
                     f"({first[0]:.3g}, {first[1]:.3g})\n{what}", fontsize=9)
    k1 = first[0] + first[1] * _M2
    if first != (cb, cw):  # a first-layer recipe: compare with weaker rescaling and with none
        k_mid = math.sqrt(k1) * math.sqrt(cb + cw * _M2)
        configs = [(f"recipe, K^(1) = {k1:.3g}", first, "tab:purple"),
                   (f"K^(1) = {k_mid:.3g}", (cb, (k_mid - cb) / _M2), "tab:brown"),
                   (f"first layer also ({cb:.3g}, {cw:.3g})", (cb, cw), "tab:orange")]
        title = "first layer: the recipe, a weaker rescaling, none"
    else:  # no recipe: how the kernel forgets (or keeps) the first layer's scale
        scaled = [((first[0], max(0.0, f * first[1] + (f - 1) * first[0] / _M2)), c)
                  for f, c in ((0.1, "tab:brown"), (1.0, "tab:purple"), (10.0, "tab:orange"))]
        configs = [(f"K^(1) = {fl[0] + fl[1] * _M2:.3g}", fl, c) for fl, c in scaled]
        title = "first layer kernel K^(1) x 0.1, 1, 10"
    _ensemble_panel(axes[3], act, [(lab, fl, cb, cw, c) for lab, fl, c in configs], n, width, n_networks, seed,
                    method)
    axes[3].set_title(f"{_label(act)}: layers 2..{n} (C_b, C_W) = ({cb:.3g}, {cw:.3g}); {title}", fontsize=9)
    fig.suptitle(f"Kernel vs layer, L = {depth} hidden layers + output layer, one input with mean x^2 = 1/3. "
                 f"Lines: infinite-width theory; o: ensemble mean, x: median, band: 10-90% of {n_networks} networks "
                 f"of width {width} (seed {seed}, method {method})", fontsize=10)
    return fig


def _figure_chis(act: Any) -> Figure:
    k = np.logspace(-6, 3, 181)
    ci = critical_init(act)
    fig = Figure(figsize=(14, 4.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    par, perp = susceptibilities(act, k, ci.c_w)
    ax1.plot(k, par, color="tab:purple", label="chi_par")
    ax1.plot(k, perp, "--", color="tab:purple", label="chi_perp")
    ax1.axhline(1.0, color="k", lw=0.6)
    ax2.plot(k, par / perp, color="tab:purple", lw=2.5, label=_label(act))
    if act.name == "mrepu":
        q = int(act.params["p"])
        ax2.plot(k[:90], 1 + (5 * q * q - 3 * q) * k[:90], ":", color="tab:purple", lw=1,
                 label=f"1 + {5 * q * q - 3 * q} K (small-K slope)")
    refs = [get_activation("mrepu", p=2), get_activation("mrepu", p=3), get_activation("repu", p=2),
            get_activation("repu", p=3), get_activation("tanh"), get_activation("gelu")]
    colors = ("tab:pink", "tab:red", "tab:gray", "black", "tab:blue", "tab:green")
    for ref, color in zip(refs, colors):
        if _label(ref) != _label(act):
            rpar, rperp = susceptibilities(ref, k, 1.0)
            ax2.plot(k, rpar / rperp, color=color, lw=0.9, label=f"reference: {_label(ref)}")
    ax1.set(xscale="log", yscale="log", xlabel="K", ylabel="susceptibility",
            title=f"{_label(act)} at its recommended C_W = {ci.c_w:.3g}\n{describe_init(ci)}")
    ax2.set(xscale="log", xlabel="K", ylabel="chi_par / chi_perp (independent of C_W)", ylim=(0, 2.2),
            title=f"{_label(act)}: ratio 1 where critical; RePU_p constant (2p-1)/p")
    ax2.axhline(1.0, color="k", lw=0.6)
    for ax in (ax1, ax2):
        ax.title.set_fontsize(9)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, **_OUTSIDE)
    return fig


def _figure_phase(act: Any, p: int, depth: int, grid: tuple[int, int]) -> Figure:
    n = depth + 1
    c_b, c_w = np.meshgrid(np.concatenate([[0.0], np.logspace(-6, 0, grid[1] - 1)]), np.linspace(0.02, 3.0, grid[0]))
    ci = critical_init(act)
    k1_recipe = sum(ci.layer_variances(n)[0] * np.array([1.0, _M2]))
    panels = [(act, _M2, "")]
    if abs(k1_recipe - _M2) > 1e-12 and ci.universality == "k_star_zero":
        panels.append((act, k1_recipe, " (its first-layer recipe)"))
    repu = get_activation("repu", p=p)
    if _label(repu) != _label(act):
        panels.append((repu, _M2, "reference: "))
    fig = Figure(figsize=(5.2 * len(panels), 5.4), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    norm = TwoSlopeNorm(vmin=-6.0, vcenter=0.0, vmax=6.0)
    for ax, (a, k1, note) in zip(axes, panels):
        ks = kernel_recursion(a, k1, n, c_b, c_w, k_max=1e12)
        with np.errstate(divide="ignore"):
            ratio = np.clip(np.log10(ks[-1] / k1), -6.0, 6.0)
        mesh = ax.pcolormesh(c_w, c_b, ratio, cmap="RdBu_r", norm=norm, shading="nearest")
        ax.contour(c_w, c_b, ratio, levels=[-math.log10(2), math.log10(2)], colors="k", linewidths=0.8)
        aci = critical_init(a)
        ax.plot([aci.c_w], [aci.c_b], "*", color="gold", mec="k", ms=13, label=describe_init(aci))
        ax.set_yscale("symlog", linthresh=1e-6)
        prefix, suffix = (note, "") if note.startswith("reference") else ("", note)
        ax.set(xlabel="C_W", ylabel="C_b (symlog; bottom row C_b = 0)",
               title=f"{prefix}{_label(a)}, K^(1) = {k1:.3g}{suffix}")
        ax.title.set_fontsize(9)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.14), borderaxespad=0.0)
    fig.colorbar(mesh, ax=axes, label="log10 K^(L+1) / K^(1), clipped to +-6")
    fig.suptitle(f"Kernel growth through L = {depth} hidden layers and the output layer (infinite-width "
                 "recursion); contours: K^(L+1) / K^(1) = 2 and 1/2", fontsize=10)
    return fig


def criticality_figures(activation_name: str = "mrepu", *, p: int | None = None, depth: int = 20,
                        width: int = 512, n_networks: int = 100, seed: int = 0, method: str = "gram",
                        phase_grid: tuple[int, int] = (61, 50)) -> dict[str, Figure]:
    """``{"kernel_vs_layer": Figure, "susceptibilities": Figure, "phase_diagram": Figure}`` of one activation.

    Args:
        activation_name: a registered activation (default mrepu).
        p: its power if it takes one (mrepu, repu); also the power of the RePU reference; default 2.
        depth: number of hidden layers L (the network has L + 1 linear layers), as ``network.depth``.
        width, n_networks, seed, method: ensembles of :func:`~pinn_mrepu.criticality.ensembles.empirical_kernels`.
        phase_grid: (C_W values, C_b values) of the phase diagram (C_W in [0.02, 3], C_b = 0 and [1e-6, 1]);
            the default takes ~5 s per panel.

    Raises:
        ConfigError: unknown activation, bad ``p`` or ``depth``.
    """
    act = resolve_activation(activation_name, p)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
        raise ConfigError("depth", depth, "must be an integer >= 1")
    q = int(act.params.get("p", 2)) if p is None else int(p)
    return {"kernel_vs_layer": _figure_kernels(act, depth, width, n_networks, seed, method),
            "susceptibilities": _figure_chis(act), "phase_diagram": _figure_phase(act, q, depth, phase_grid)}


def write_criticality_figures(activation_name: str = "mrepu", *, p: int | None = None, depth: int = 20,
                              out_dir: str | Path = ".", width: int = 512, n_networks: int = 100, seed: int = 0,
                              method: str = "gram", phase_grid: tuple[int, int] = (61, 50)) -> list[Path]:
    """Write the figures of :func:`criticality_figures` (same arguments) as ``<name>.png`` into ``out_dir``.

    Returns:
        the written paths (kernel_vs_layer.png, susceptibilities.png, phase_diagram.png).
    """
    figs = criticality_figures(activation_name, p=p, depth=depth, width=width, n_networks=n_networks, seed=seed,
                               method=method, phase_grid=phase_grid)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [_save(fig, out / f"{name}.png") for name, fig in figs.items()]
