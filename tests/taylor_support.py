"""Shared pieces of the Taylor-engine tests (tests/test_taylor*.py): float64 MLPs, sample points, parameter grads."""

from __future__ import annotations

import torch

from pinn_mrepu.nn import MLP


def taylor_mlp(activation, params, variables, bounds, *, first_layer, out_dim=1, depth=3, width=6, seed=0):
    """A float64 MLP.  MRePU gets the critical scheme's shape (the first layer scaled by ``first_layer[p]``, then
    c_w = 1, c_b = 0), written out so that a test does not pay for the critical-variance quadrature; the other
    activations c_w = 1, c_b = 0.1."""
    init = {"c_w": 1.0, "c_b": 0.0} if activation == "mrepu" else {"c_w": 1.0, "c_b": 0.1}
    model = MLP(len(variables), out_dim, width=width, depth=depth, activation=activation, activation_params=params,
                init=init, input_bounds=bounds, generator=seed, dtype=torch.float64)
    if activation == "mrepu":
        with torch.no_grad():
            model.linears[0].weight.mul_(first_layer[params["p"]])
    return model


def box_points(bounds, n, seed=1):
    """``n`` uniform float64 points in the box ``bounds = (lower corner, upper corner)``."""
    gen = torch.Generator().manual_seed(seed)
    lo, hi = torch.tensor(bounds[0], dtype=torch.float64), torch.tensor(bounds[1], dtype=torch.float64)
    return lo + (hi - lo) * torch.rand(n, len(bounds[0]), generator=gen, dtype=torch.float64)


def param_grads(model, loss):
    """The gradient of ``loss`` with respect to every parameter of ``model``, flattened into one vector."""
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(model.parameters()))])
