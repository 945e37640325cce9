"""Text report of an activation's criticality (printed by ``pinn-mrepu criticality``)."""

from __future__ import annotations

import math

import numpy as np

from pinn_mrepu.activations import ACTIVATIONS, Activation, activation_names, get_activation
from pinn_mrepu.errors import ConfigError

from .initialization import critical_init
from .theory import kernel_recursion, susceptibilities

__all__ = ["criticality_report", "resolve_activation", "shown_layers"]

_M2 = 1.0 / 3.0  # mean x^2 of inputs uniform on [-1, 1]^d


def resolve_activation(name: str, p: int | None = None) -> Activation:
    """The registered activation ``name`` (with power ``p`` if given).

    Raises:
        ConfigError: unknown name (lists the valid ones), or a bad / unexpected ``p``.
    """
    if name not in ACTIVATIONS:
        raise ConfigError("activation", name, f"must be one of {', '.join(activation_names())}")
    try:
        return get_activation(name, **({} if p is None else {"p": p}))
    except ValueError as exc:
        raise ConfigError("p", p, str(exc).split(", ", 1)[-1]) from None


def shown_layers(depth: int) -> list[int]:
    """The layers l = 1, 2, 5, 10, 20, ... up to and including ``depth``."""
    ls = [l for l in (1, 2, 5, 10, 20, 50, 100) if l < depth]
    return ls + [depth]


def _fmt(x: float) -> str:
    return "inf" if math.isinf(x) else ("nan" if math.isnan(x) else f"{x:.6g}")


def criticality_report(activation_name: str, *, p: int | None = None, depth: int = 20, width: int = 20) -> str:
    """The CLI's text report: universality class, susceptibilities, recommended (C_b, C_W), predicted K^(l).

    Args:
        activation_name: a registered activation name.
        p: its power (mrepu, repu only).
        depth: number of hidden layers L of the network the prediction is for, as ``network.depth`` (the
            network has L + 1 linear layers, the last one the output layer; inputs with mean x^2 = 1/3).
        width: its hidden width, as ``network.width`` (the MRePU first layer keeps a finite-width margin).

    Raises:
        ConfigError: unknown activation, bad ``p``, or depth or width not an integer >= 1.
    """
    for name, value in (("depth", depth), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(name, value, "must be an integer >= 1")
    act = resolve_activation(activation_name, p)
    ci = critical_init(act)
    prm = ", ".join(f"{k}={v}" for k, v in ci.params.items())
    n = depth + 1  # linear layers: L hidden + the output layer (what init: critical uses for network.depth = L)
    lv = ci.layer_variances(n, input_second_moment=_M2, width=width)
    (cb1, cw1), (cb, cw) = lv[0], lv[-1]
    lines = [
        f"Criticality of {ci.activation}{f' ({prm})' if prm else ''} -- infinite-width kernel recursion",
        "  K^(l+1) = C_b + C_W <sigma(z)^2>_{K^(l)};  chi_par = C_W <sigma'^2 + sigma sigma''>, "
        "chi_perp = C_W <sigma'^2>",
        "",
        f"universality class     : {ci.universality}",
        f"critical (C_b, C_W)    : ({_fmt(ci.c_b)}, {_fmt(ci.c_w)})",
        f"fixed point K*         : {_fmt(ci.k_star)}",
        f"chi_par, chi_perp      : {_fmt(ci.chi_par)}, {_fmt(ci.chi_perp)}"
        + {"k_star_zero": "  (limit K -> 0)", "scale_invariant": "  (every K)",
           "none": f"  (at K = {_fmt(ci.anchor_k)})"}.get(ci.universality, "  (at K*)"),
    ]
    if ci.a1 is not None:
        lines.append(f"a1 (K -> K + a1 K^2)   : {_fmt(ci.a1)}")
    ks = np.array([1e-4, 1e-2, _M2, 1.0, 10.0])
    par, perp = susceptibilities(act, ks, ci.c_w)
    lines += ["chi_par / chi_perp     : " + ", ".join(f"{_fmt(r)} (K={_fmt(k)})" for k, r in zip(ks, par / perp)),
              "", ci.message, "",
              f"first layer            : {ci.first_layer}",
              (f"layer variances for L = {depth} hidden layers of width {width} (network.depth = {depth}; {n} "
               "linear layers with the output layer), inputs in [-1, 1]^d with mean x^2 = 1/3 (W ~ N(0, "
               "c_w/fan_in), b ~ N(0, c_b)):"),
              f"  {'layer 1':<21}: (c_b, c_w) = ({_fmt(cb1)}, {_fmt(cw1)})  -> K^(1) = {_fmt(cb1 + cw1 * _M2)}",
              f"  {f'layers 2..{n} (output)':<21}: (c_b, c_w) = ({_fmt(cb)}, {_fmt(cw)})"]
    shown = shown_layers(n)
    kern = kernel_recursion(act, cb1 + cw1 * _M2, n, cb, cw)
    finite = np.isfinite(kern)
    cpar, cperp = np.full(n, np.nan), np.full(n, np.nan)
    cpar[finite], cperp[finite] = susceptibilities(act, kern[finite], cw)
    lines += ["", f"predicted kernel (theory, infinite width; l = {n} is the output layer):",
              f"  {'l':>4}  {'K^(l)':>13}  {'chi_par':>11}  {'chi_perp':>11}"]
    lines += [f"  {l:>4}  {_fmt(kern[l - 1]):>13}  {_fmt(cpar[l - 1]):>11}  {_fmt(cperp[l - 1]):>11}" for l in shown]
    if (cb1, cw1) != (cb, cw):
        naive = kernel_recursion(act, cb + cw * _M2, n, cb, cw)
        lines += ["", f"for comparison, layer 1 also ({_fmt(cb)}, {_fmt(cw)}) (K^(1) = {_fmt(cb + cw * _M2)}):",
                  "  " + ", ".join(f"K^({l}) = {_fmt(naive[l - 1])}" for l in shown)]
    return "\n".join(lines)
