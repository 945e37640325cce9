"""Ensembles of random MLPs: the empirical per-layer kernels that test the criticality theory.

The theory is :mod:`pinn_mrepu.criticality.theory`; this module samples finite-width networks and compares.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from pinn_mrepu.errors import ConfigError

from .theory import _as_activation, kernel_recursion

__all__ = ["EmpiricalKernels", "empirical_kernels"]

@dataclass(frozen=True)
class EmpiricalKernels:
    """Pre-activation second moments of an ensemble of random MLPs, K_net^(l)(x) = mean_i z_i^(l)(x)^2.

    Attributes:
        kernel: (depth, n) mean of K_net over the networks.
        spread: (depth, n) standard deviation of K_net over the networks.
        per_network: (depth, n_networks, n) K_net itself.
        theory: (depth, n) :func:`kernel_recursion` from K^(1)(x) = c_b1 + c_w1 mean_j x_j^2.
    """

    kernel: np.ndarray
    spread: np.ndarray
    per_network: np.ndarray
    theory: np.ndarray


def empirical_kernels(activation: Any, *, width: int, depth: int, n_networks: int, inputs: Any, c_b: float,
                      c_w: float, first_layer: tuple[float, float] | None = None, seed: int = 0,
                      dtype: torch.dtype = torch.float64, method: str = "gram") -> EmpiricalKernels:
    """Sample ``n_networks`` random MLPs (``depth`` linear layers, ``width`` neurons) and record their kernels.

    Layer 1 has W ~ N(0, c_w1 / d), b ~ N(0, c_b1) with (c_b1, c_w1) = ``first_layer`` (default (c_b, c_w));
    layers 2..depth have W ~ N(0, c_w / width), b ~ N(0, c_b).  ``method="weights"`` draws the weight matrices
    (torch.bmm over the ensemble, 25 networks at a time; ~20 s for 100 networks of width 512 and depth 20 on one
    core).  ``method="gram"`` (default, ~0.3 s) draws each layer's pre-activations at the n inputs from their
    exact conditional law given the previous layer's outputs H (n, width): the rows of W are independent, so the
    neurons' vectors (z_i(x_1..x_n)) are i.i.d. N(0, c_b + c_w/fan_in H H^T).  Sampling layer by layer this way
    gives exactly the random network's joint law at the inputs, with O(n) instead of O(fan_in) normals per
    neuron.  Randomness comes only from a
    torch.Generator seeded with ``seed``.

    Args:
        inputs: (n, d) array of inputs.
    """
    act = _as_activation(activation)
    x = torch.as_tensor(np.asarray(inputs, dtype=np.float64), dtype=dtype)
    for fld, val in (("width", width), ("depth", depth), ("n_networks", n_networks)):
        if isinstance(val, bool) or not isinstance(val, int) or val < 1:
            raise ConfigError(fld, val, "must be an integer >= 1")
    if x.ndim != 2:
        raise ConfigError("inputs", tuple(x.shape), "must be an (n, d) array")
    if method not in ("weights", "gram"):
        raise ConfigError("method", method, "must be one of weights, gram")
    n, d = x.shape
    cb1, cw1 = first_layer if first_layer is not None else (c_b, c_w)
    gen = torch.Generator().manual_seed(seed)
    per = torch.empty(depth, n_networks, n, dtype=torch.float64)
    for start in range(0, n_networks, 25):
        e = min(25, n_networks - start)
        h, fan, cb, cw = x.expand(e, n, d), d, cb1, cw1
        for layer in range(depth):
            if method == "weights":
                w = torch.randn(e, width, fan, generator=gen, dtype=dtype) * math.sqrt(cw / fan)
                b = torch.randn(e, 1, width, generator=gen, dtype=dtype) * math.sqrt(cb)
                z = torch.bmm(h, w.transpose(1, 2)) + b
            else:
                gram = cb + (cw / fan) * torch.bmm(h, h.transpose(1, 2))
                bad = ~torch.isfinite(gram).all(dim=2).all(dim=1)  # blown-up networks stay blown up
                evals, evecs = torch.linalg.eigh(torch.where(bad[:, None, None], 0.0, gram))
                root = evecs * evals.clamp_min(0.0).sqrt().unsqueeze(1)
                z = torch.bmm(root, torch.randn(e, n, width, generator=gen, dtype=dtype))
                z[bad] = math.inf
            k_net = z.pow(2).mean(-1).to(torch.float64)
            per[layer, start:start + e] = torch.where(torch.isnan(k_net), math.inf, k_net)
            with torch.no_grad():
                h = act.derivatives(z, 0)[0]
            fan, cb, cw = width, c_b, c_w
    per_np = per.numpy()
    k1 = cb1 + cw1 * np.mean(np.asarray(inputs, dtype=np.float64) ** 2, axis=1)
    with np.errstate(over="ignore", invalid="ignore"):
        return EmpiricalKernels(kernel=per_np.mean(axis=1), spread=per_np.std(axis=1), per_network=per_np,
                                theory=kernel_recursion(act, k1, depth, c_b, c_w))
