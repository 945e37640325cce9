"""Fully connected networks (MLPs); their initialisation schemes are in :mod:`pinn_mrepu.nn.init`.

``MLP(in_dim, out_dim, *, width, depth, activation, init)`` has ``depth`` hidden layers of ``width`` neurons::

    h0 = (x - shift) * scale                     # optional affine map of the input box onto [-1, 1]^d
    z_l = W_l h_{l-1} + b_l,  h_l = sigma(z_l)   # l = 1..depth
    u = W_out h_depth + b_out

Initialisation: :func:`pinn_mrepu.nn.init.layer_variances` gives each layer's ``(c_b, c_w)``.
All random draws use an explicit ``torch.Generator`` (or a seed), never the global RNG.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import nn

from pinn_mrepu.activations import Activation, get_activation

from .init import layer_variances

__all__ = ["MLP", "parameter_count"]


def parameter_count(in_dim: int, out_dim: int = 1, *, width: int, depth: int) -> int:
    """Weights and biases of an :class:`MLP` with ``depth`` hidden layers of ``width`` neurons."""
    return (in_dim + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * out_dim

class MLP(nn.Module):
    """Multilayer perceptron u: R^in_dim -> R^out_dim.

    Args:
        in_dim: number of input coordinates d.
        out_dim: number of outputs.
        width: neurons per hidden layer (>= 1).
        depth: number of hidden layers (>= 1).
        activation: registry name or :class:`Activation` instance.
        activation_params: parameters for a named activation, e.g. ``{"p": 3}``.
        init: initialisation scheme (see module docstring).
        input_bounds: optional ``(lower, upper)`` sequences of length d; inputs are mapped affinely from that
            box onto [-1, 1]^d before the first layer.
        generator: ``torch.Generator`` for the initial weights, or an int seed.
        dtype: parameter dtype.

    Shapes: ``forward`` maps ``(N, in_dim)`` to ``(N, out_dim)``.
    """

    def __init__(
        self,
        in_dim: int,
        out_dim: int = 1,
        *,
        width: int = 20,
        depth: int = 3,
        activation: str | Activation = "tanh",
        activation_params: Mapping[str, object] | None = None,
        init: str | Mapping[str, float] = "critical",
        input_bounds: tuple[Sequence[float], Sequence[float]] | None = None,
        generator: torch.Generator | int | None = None,
        dtype: torch.dtype = torch.float32,
    ):
        super().__init__()
        for name, value in (("in_dim", in_dim), ("out_dim", out_dim), ("width", width), ("depth", depth)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name}: got {value!r}, must be an integer >= 1")
        self.in_dim, self.out_dim, self.width, self.depth = in_dim, out_dim, width, depth
        self.activation = get_activation(activation, **dict(activation_params or {}))
        self.init_scheme = init
        sizes = [in_dim] + [width] * depth + [out_dim]
        # skip_init: no default (global-RNG) draw; reset_parameters fills them from the explicit generator
        self.linears = nn.ModuleList(
            nn.utils.skip_init(nn.Linear, a, b, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:])
        )
        if input_bounds is None:
            shift, scale = torch.zeros(in_dim, dtype=dtype), torch.ones(in_dim, dtype=dtype)
        else:
            lo = torch.as_tensor(input_bounds[0], dtype=dtype)
            hi = torch.as_tensor(input_bounds[1], dtype=dtype)
            if (lo.shape != (in_dim,) or hi.shape != (in_dim,) or not bool(torch.all(hi > lo))
                    or not bool(torch.all(torch.isfinite(lo) & torch.isfinite(hi)))):
                raise ValueError(f"input_bounds: got {input_bounds!r}, must be two length-{in_dim} sequences, lower < upper")
            shift, scale = (lo + hi) / 2, 2.0 / (hi - lo)
        self.register_buffer("input_shift", shift)
        self.register_buffer("input_scale", scale)
        self.reset_parameters(generator)

    def reset_parameters(self, generator: torch.Generator | int | None = None) -> None:
        """Draw fresh weights and biases with the configured scheme."""
        if generator is None or isinstance(generator, int):
            seed = 0 if generator is None else generator
            generator = torch.Generator().manual_seed(seed)
        fan = [(lin.in_features, lin.out_features) for lin in self.linears]
        variances = layer_variances(self.init_scheme, self.activation, fan)
        with torch.no_grad():
            for lin, var in zip(self.linears, variances):
                w = torch.randn(lin.weight.shape, generator=generator, dtype=torch.float64)
                b = torch.randn(lin.bias.shape, generator=generator, dtype=torch.float64)
                if var is None:  # Glorot normal
                    w *= math.sqrt(2.0 / (lin.in_features + lin.out_features))
                    b.zero_()
                else:
                    c_b, c_w = var
                    w *= math.sqrt(c_w / lin.in_features)
                    b *= math.sqrt(c_b)
                lin.weight.copy_(w)
                lin.bias.copy_(b)

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        """The affine input map ``(x - shift) * scale``."""
        return (x - self.input_shift) * self.input_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.normalise(x)
        for lin in self.linears[:-1]:
            h = self.activation(lin(h))
        return self.linears[-1](h)
