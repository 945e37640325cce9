"""Figures of the criticality analysis (matplotlib, Agg canvas; no pyplot global state).

:func:`write_criticality_figures` writes three PNGs:

1. ``kernel_vs_layer.png`` -- K^(l) against l: infinite-width recursion (lines) and random-network ensembles
   (markers: mean over networks; band: 10-90 % quantiles of the per-network kernels), for RePU_p at several C_W
   and for the chosen activation at its critical init (and, when its first-layer recipe rescales, without it).
2. ``susceptibilities.png`` -- chi_par, chi_perp (C_W = 1) and chi_par / chi_perp against K for MRePU p = 2, 3,
   with RePU, tanh, GELU (and the chosen activation) for reference.
3. ``phase_diagram.png`` -- log10(K^(L) / K^(1)) over a (C_b, C_W) grid for RePU_p and the chosen activation.
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

from .ensembles import empirical_kernels
from .initialization import critical_init
from .report import resolve_activation
from .theory import kernel_recursion, susceptibilities

__all__ = ["write_criticality_figures"]

_M2 = 1.0 / 3.0  # mean x^2 of inputs uniform on [-1, 1]^d
_X = np.array([[math.sqrt(_M2), -math.sqrt(_M2)]])  # one input with mean x^2 = 1/3


def _label(act: Any) -> str:
    prm = ", ".join(f"{k}={v}" for k, v in act.params.items())
    return f"{act.name}({prm})" if prm else act.name


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=130)
    return path


def _shown(v: np.ndarray) -> np.ndarray:
    """Values outside [1e-30, 1e30] (collapsed or blown-up) are not drawn."""
    return np.where((v > 1e-30) & (v < 1e30), v, np.nan)


def _ensemble_panel(ax: Any, act: Any, configs: list[tuple[str, tuple[float, float], float, float, str]],
                    depth: int, width: int, n_networks: int, seed: int, method: str) -> None:
    layers = np.arange(1, depth + 1)
    finite = []
    for label, first, c_b, c_w, color in configs:
        r = empirical_kernels(act, width=width, depth=depth, n_networks=n_networks, inputs=_X, c_b=c_b, c_w=c_w,
                              first_layer=first, seed=seed, method=method)
        per = r.per_network[:, :, 0]
        lo, med, hi = (np.quantile(per, q, axis=1, method="nearest") for q in (0.1, 0.5, 0.9))
        ax.plot(layers, _shown(r.theory[:, 0]), color=color, lw=1.8, label=f"{label}: theory")
        ax.plot(layers, _shown(r.kernel[:, 0]), "o", color=color, ms=3.5, label="ensemble mean")
        ax.plot(layers, _shown(med), "x", color=color, ms=4, label="ensemble median")
        ax.fill_between(layers, np.clip(lo, 1e-30, 1e30), np.clip(hi, 1e-30, 1e30), color=color, alpha=0.18, lw=0)
        finite += [v for v in (*r.theory[:, 0], *med) if np.isfinite(v) and v > 0]
    lo_y, hi_y = max(min(finite) / 3, 1e-12), min(max(finite) * 3, 1e12)
    ax.set_ylim(lo_y, hi_y)
    ax.set_yscale("log")
    ax.set_ylim(lo_y, hi_y)
    ax.set_xlabel("layer l")
    ax.set_ylabel("kernel K^(l)")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=6.5, loc="best")


def _figure_kernels(act: Any, p: int, depth: int, out: Path, width: int, n_networks: int, seed: int,
                    method: str) -> Path:
    fig = Figure(figsize=(12, 9), layout="constrained")
    axes = fig.subplots(2, 2).ravel()
    repu = get_activation("repu", p=p)
    best = critical_init(repu).layer_variances(depth)[1][1]
    for ax, cw, color in zip(axes[:3], (0.9 * best, best, 1.1 * best), ("tab:blue", "tab:green", "tab:red")):
        _ensemble_panel(ax, repu, [(f"C_W={cw:.3g}", (0.0, 1.0), 0.0, cw, color)], depth, width, n_networks, seed,
                        method)
        ax.set_title(f"RePU p={p}, first layer (0, 1), C_b = 0, C_W = {cw:.3g}"
                     + (" (stationary, unstable)" if cw == best else ""), fontsize=9)
    ci = critical_init(act)
    lv = ci.layer_variances(depth)
    configs = [(f"critical init, K^(1)={lv[0][0] + lv[0][1] * _M2:.3g}", lv[0], lv[1][0], lv[1][1], "tab:purple")]
    if lv[0] != (ci.c_b, ci.c_w):
        k_mid = math.sqrt(lv[0][0] + lv[0][1] * _M2) * math.sqrt(ci.c_b + ci.c_w * _M2)
        configs += [(f"K^(1)={k_mid:.3g}", (ci.c_b, (k_mid - ci.c_b) / _M2), ci.c_b, ci.c_w, "tab:brown"),
                    (f"layer 1 also ({ci.c_b:.3g}, {ci.c_w:.3g})", (ci.c_b, ci.c_w), ci.c_b, ci.c_w, "tab:orange")]
    _ensemble_panel(axes[3], act, configs, depth, width, n_networks, seed, method)
    axes[3].set_title(f"{_label(act)} ({ci.universality}), hidden (C_b, C_W) = ({ci.c_b:.3g}, {ci.c_w:.3g})",
                      fontsize=9)
    fig.suptitle(f"Kernel vs layer, one input with mean x^2 = 1/3; ensembles: {n_networks} networks of width "
                 f"{width}, seed {seed}, method {method}; band = 10-90% of networks", fontsize=10)
    return _save(fig, out / "kernel_vs_layer.png")


def _figure_chis(act: Any, out: Path) -> Path:
    k = np.logspace(-6, 3, 181)
    fig = Figure(figsize=(12, 4.6), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for q, color in ((2, "tab:purple"), (3, "tab:red")):
        par, perp = susceptibilities(get_activation("mrepu", p=q), k, 1.0)
        ax1.plot(k, par, color=color, label=f"mrepu(p={q}) chi_par")
        ax1.plot(k, perp, "--", color=color, label=f"mrepu(p={q}) chi_perp")
        ax2.plot(k, par / perp, color=color, lw=2, label=f"mrepu(p={q})")
        ax2.plot(k[:90], 1 + (5 * q * q - 3 * q) * k[:90], ":", color=color, lw=1,
                 label=f"1 + {5 * q * q - 3 * q} K (small-K slope)")
    refs = [get_activation("repu", p=2), get_activation("repu", p=3), get_activation("tanh"), get_activation("gelu")]
    if act.name != "mrepu" and _label(act) not in {_label(a) for a in refs}:
        refs.append(act)
    for ref, color in zip(refs, ("tab:gray", "black", "tab:blue", "tab:green", "tab:orange")):
        par, perp = susceptibilities(ref, k, 1.0)
        ax2.plot(k, par / perp, color=color, lw=1, label=_label(ref))
    ax1.set(xscale="log", yscale="log", xlabel="K", ylabel="susceptibility at C_W = 1",
            title="MRePU: chi_par, chi_perp -> 1 as K -> 0 (C_W = 1)")
    ax2.set(xscale="log", xlabel="K", ylabel="chi_par / chi_perp (independent of C_W)", ylim=(0, 2.2),
            title="ratio: 1 at criticality; RePU_p constant (2p-1)/p")
    ax2.axhline(1.0, color="k", lw=0.6)
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    return _save(fig, out / "susceptibilities.png")


def _figure_phase(act: Any, p: int, depth: int, out: Path) -> Path:
    c_b, c_w = np.meshgrid(np.concatenate([[0.0], np.logspace(-6, 0, 49)]), np.linspace(0.02, 3.0, 61))
    ci = critical_init(act)
    k1_recipe = sum(ci.layer_variances(depth)[0] * np.array([1.0, _M2]))
    panels = [(get_activation("repu", p=p), _M2), (act, _M2)]
    if abs(k1_recipe - _M2) > 1e-12 and ci.universality == "k_star_zero":
        panels.append((act, k1_recipe))
    fig = Figure(figsize=(5.2 * len(panels), 4.6), layout="constrained")
    axes = np.atleast_1d(fig.subplots(1, len(panels)))
    norm = TwoSlopeNorm(vmin=-6.0, vcenter=0.0, vmax=6.0)
    for ax, (a, k1) in zip(axes, panels):
        ks = kernel_recursion(a, k1, depth, c_b, c_w, k_max=1e12)
        with np.errstate(divide="ignore"):
            ratio = np.clip(np.log10(ks[-1] / k1), -6.0, 6.0)
        mesh = ax.pcolormesh(c_w, c_b, ratio, cmap="RdBu_r", norm=norm, shading="nearest")
        ax.contour(c_w, c_b, ratio, levels=[-math.log10(2), math.log10(2)], colors="k", linewidths=0.8)
        aci = critical_init(a)
        ax.plot([aci.c_w], [aci.c_b], "*", color="gold", mec="k", ms=13, label=f"critical_init ({aci.universality})")
        ax.set_yscale("symlog", linthresh=1e-6)
        ax.set(xlabel="C_W", ylabel="C_b (symlog; bottom row C_b = 0)", title=f"{_label(a)}, K^(1) = {k1:.3g}, "
               f"L = {depth}")
        ax.legend(fontsize=7, loc="upper right")
    fig.colorbar(mesh, ax=axes, label="log10 K^(L) / K^(1), clipped to +-6")
    fig.suptitle("Kernel growth after L layers (infinite-width recursion); solid / dashed contour: K^(L) / K^(1) = 2 "
                 "/ 1/2", fontsize=10)
    return _save(fig, out / "phase_diagram.png")


def write_criticality_figures(activation_name: str = "mrepu", *, p: int | None = None, depth: int = 20,
                              out_dir: str | Path = ".", width: int = 512, n_networks: int = 100, seed: int = 0,
                              method: str = "gram") -> list[Path]:
    """Write kernel_vs_layer.png, susceptibilities.png and phase_diagram.png into ``out_dir``.

    Args:
        activation_name: the activation compared against RePU_p (default mrepu).
        p: power of RePU and (if it takes one) of the activation; default 2.
        depth: number of linear layers L.
        width, n_networks, seed, method: ensemble of :func:`~pinn_mrepu.criticality.ensembles.empirical_kernels`.

    Returns:
        the written paths.

    Raises:
        ConfigError: unknown activation or bad ``p``.
    """
    act = resolve_activation(activation_name, p)
    q = int(act.params.get("p", 2)) if p is None else int(p)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [_figure_kernels(act, q, depth, out, width, n_networks, seed, method), _figure_chis(act, out),
            _figure_phase(act, q, depth, out)]
