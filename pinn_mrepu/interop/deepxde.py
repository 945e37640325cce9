"""MRePU and critical initialisation inside DeepXDE's ``FNN`` (PyTorch backend).

DeepXDE's ``dde.nn.FNN(layer_sizes, activation, kernel_initializer)`` accepts any callable as ``activation``
(``deepxde.nn.activations.get`` returns callables unchanged) and any callable as ``kernel_initializer`` (called on
each ``weight`` in layer order; the biases are then zeroed).  This module provides:

- :func:`mrepu`: ``MRePU_p(z) = z * relu(z + 1)^p`` (any integer p >= 1) as a ``torch.nn.Module`` (hence a
  callable) to pass as FNN's ``activation``; any other pinn_mrepu activation works the same way
  (``pinn_mrepu.get_activation("repu", p=3)``).
- :func:`apply_critical_init`: re-initialise an existing network's linear layers with the per-layer critical
  ``(c_b, c_w)`` of :func:`pinn_mrepu.criticality.critical_init` (``W ~ N(0, c_w / fan_in)``, ``b ~ N(0, c_b)``),
  drawn from an explicit ``torch.Generator`` or seed.  With the same seed and layer sizes it draws exactly the
  weights of ``pinn_mrepu.MLP(..., init="critical", generator=seed)``.
- :func:`critical_initializer`: critical weights through FNN's ``kernel_initializer`` argument (only for
  activations whose critical ``c_b`` is 0, e.g. MRePU and tanh, since FNN zeroes the biases).
- :func:`fnn`: build a ``dde.nn.FNN`` with a pinn_mrepu activation and critical initialisation in one call.

Use the PyTorch backend: set ``DDE_BACKEND=pytorch`` before deepxde is first imported.  Example::

    import os
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    import deepxde as dde
    from pinn_mrepu.interop.deepxde import apply_critical_init, mrepu

    act = mrepu(p=2)
    net = dde.nn.FNN([2] + [32] * 6 + [1], act, "Glorot normal")
    variances = apply_critical_init(net, act, seed=0)   # [(c_b, c_w) per linear layer]
    model = dde.Model(data, net)                        # train as usual

``mrepu``, ``critical_variances`` and ``apply_critical_init`` need only torch (they work on any
module with linear layers); :func:`fnn` and :func:`require_deepxde` import deepxde and raise an ImportError naming
``pip install pinn_mrepu[deepxde]`` when it is missing.

Note: on import, DeepXDE's PyTorch backend makes CUDA the *process-wide* default torch device when a GPU is present
(``torch.set_default_device("cuda")``); that is DeepXDE's behaviour, not this module's.  To undo it for CPU work,
call ``torch.set_default_device(None)`` (not ``"cpu"``, which installs a torch function mode that slows every op).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

import torch
from torch import nn

from pinn_mrepu.activations import Activation, MRePU, get_activation
from pinn_mrepu.criticality import critical_init

__all__ = ["require_deepxde", "mrepu", "critical_variances", "apply_critical_init",
           "critical_initializer", "fnn"]

_INSTALL_HINT = "pip install pinn_mrepu[deepxde]"


def require_deepxde() -> ModuleType:
    """Import deepxde and check that it runs on its PyTorch backend.

    Returns:
        the ``deepxde`` module.

    Raises:
        ImportError: deepxde is not installed (the message names ``pip install pinn_mrepu[deepxde]``).
        RuntimeError: deepxde was loaded with another backend (set ``DDE_BACKEND=pytorch`` before importing it).
    """
    try:
        dde = importlib.import_module("deepxde")
    except ModuleNotFoundError as exc:
        if exc.name != "deepxde":
            raise
        raise ImportError(f"pinn_mrepu.interop.deepxde needs DeepXDE: {_INSTALL_HINT} "
                          "(and set DDE_BACKEND=pytorch)") from exc
    backend = getattr(getattr(dde, "backend", None), "backend_name", None)
    if backend != "pytorch":
        raise RuntimeError(f"deepxde is using the {backend!r} backend; pinn_mrepu needs its PyTorch backend: set the "
                           "environment variable DDE_BACKEND=pytorch before deepxde is first imported")
    return dde


def mrepu(p: int = 2) -> MRePU:
    """MRePU_p(z) = z * relu(z + 1)^p as a callable ``torch.nn.Module``, for ``dde.nn.FNN(..., activation)``.

    Args:
        p: integer power >= 1 (default 2).

    Returns:
        a :class:`pinn_mrepu.activations.MRePU` (elementwise, any tensor shape; also exposes ``derivatives``).

    Raises:
        ConfigError (a ValueError): p not an integer >= 1.

    Example::

        net = dde.nn.FNN([1, 16, 16, 1], mrepu(p=3), "Glorot normal")
    """
    return MRePU(p)


def _as_activation(act: str | Activation | Callable | None, net: nn.Module | None = None) -> Activation:
    if act is None and net is not None:
        act = getattr(net, "activation", None)
        if isinstance(act, (list, tuple)):
            raise ValueError("activation: the network has one activation per layer; pass the hidden-layer activation "
                             "explicitly (critical initialisation assumes a single one)")
        if not isinstance(act, Activation):
            raise ValueError(f"activation: got {act!r} on the network, must be a pinn_mrepu Activation (e.g. mrepu()); "
                             "pass activation= explicitly")
    if isinstance(act, str):
        return get_activation(act)
    if isinstance(act, Activation):
        return act
    raise ValueError(f"activation: got {act!r}, must be a pinn_mrepu registry name or Activation instance")


def critical_variances(activation: str | Activation, n_linear: int, *, input_second_moment: float = 1.0 / 3.0,
                       width: int | None = None) -> list[tuple[float, float]]:
    """Per-layer critical ``(c_b, c_w)`` for ``n_linear`` linear layers (first to output layer).

    Thin wrapper of ``critical_init(activation).layer_variances(n_linear, input_second_moment=...)``; see
    :meth:`pinn_mrepu.criticality.CriticalInit.layer_variances` for the first-layer recipe.  ``input_second_moment``
    is mean_i x_i^2 of the network inputs (1/3 for inputs uniform on [-1, 1]^d); ``width`` the (smallest) hidden
    width, for the finite-width margin of MRePU's first layer (None: infinite width).
    """
    ci = critical_init(_as_activation(activation))
    return list(ci.layer_variances(n_linear, input_second_moment=input_second_moment, width=width))


def _linear_layers(net: nn.Module) -> list[nn.Linear]:
    layers = getattr(net, "linears", None)
    if layers is None:
        layers = [m for m in net.modules() if isinstance(m, nn.Linear)]
    layers = list(layers)
    if not layers or not all(isinstance(m, nn.Linear) for m in layers):
        raise ValueError(f"net: {type(net).__name__} has no torch.nn.Linear layers to initialise")
    return layers


def _generator(generator: torch.Generator | None, seed: int | None) -> torch.Generator:
    if generator is not None and seed is not None:
        raise ValueError("pass either generator or seed, not both")
    if generator is not None:
        return generator
    return torch.Generator().manual_seed(0 if seed is None else int(seed))


def apply_critical_init(net: nn.Module, activation: str | Activation | None = None, *,
                        generator: torch.Generator | None = None, seed: int | None = None,
                        input_second_moment: float = 1.0 / 3.0) -> list[tuple[float, float]]:
    """Re-initialise every linear layer of ``net`` in place with the critical variances of ``activation``.

    Layer l (in order: ``net.linears`` for ``dde.nn.FNN``, else the ``nn.Linear`` modules in registration order)
    gets ``W ~ N(0, c_w / fan_in)`` and ``b ~ N(0, c_b)`` with ``(c_b, c_w)`` from :func:`critical_variances`.
    The draws are float64 from a CPU ``generator`` (weight then bias, layer by layer, like
    ``pinn_mrepu.MLP.reset_parameters``) and are copied into each parameter's own dtype and device.

    Args:
        net: e.g. a ``dde.nn.FNN`` whose hidden layers use ``activation``.
        activation: the hidden-layer activation (name or instance); default ``net.activation``.
        generator: a CPU ``torch.Generator``; or ``seed`` (int, default 0).  Never the global RNG.
        input_second_moment: mean_i x_i^2 of the inputs (1/3 for inputs uniform on [-1, 1]^d).

    Returns:
        the ``(c_b, c_w)`` used for each linear layer.

    Example::

        act = mrepu(p=2)
        net = dde.nn.FNN([2] + [20] * 3 + [1], act, "Glorot normal")
        apply_critical_init(net, act, seed=0)
    """
    act = _as_activation(activation, net)
    layers = _linear_layers(net)
    width = min((lin.out_features for lin in layers[:-1]), default=None)
    variances = critical_variances(act, len(layers), input_second_moment=input_second_moment, width=width)
    gen = _generator(generator, seed)
    with torch.no_grad():
        for lin, (c_b, c_w) in zip(layers, variances):
            w = torch.randn(lin.weight.shape, generator=gen, dtype=torch.float64) * math.sqrt(c_w / lin.in_features)
            b = torch.randn(lin.out_features, generator=gen, dtype=torch.float64) * math.sqrt(c_b)
            lin.weight.copy_(w)
            if lin.bias is not None:
                lin.bias.copy_(b)
    return variances


class _CriticalKernelInitializer:
    """Stateful ``kernel_initializer``: call k fills layer k's weight (see :func:`critical_initializer`)."""

    def __init__(self, variances: list[tuple[float, float]], generator: torch.Generator):
        self.variances = variances
        self.generator = generator
        self.calls = 0

    def __call__(self, weight: torch.Tensor) -> torch.Tensor:
        if self.calls >= len(self.variances):
            raise RuntimeError(f"critical_initializer was built for {len(self.variances)} linear layers but called "
                               f"{self.calls + 1} times; build a fresh one per network with the right layer count")
        _, c_w = self.variances[self.calls]
        self.calls += 1
        fan_in = weight.shape[1]
        w = torch.randn(weight.shape, generator=self.generator, dtype=torch.float64) * math.sqrt(c_w / fan_in)
        with torch.no_grad():
            weight.copy_(w)
        return weight


def critical_initializer(activation: str | Activation, n_linear: int, *, generator: torch.Generator | None = None,
                         seed: int | None = None, input_second_moment: float = 1.0 / 3.0,
                         width: int | None = None) -> Callable[[torch.Tensor], torch.Tensor]:
    """A ``kernel_initializer`` for ``dde.nn.FNN`` drawing critical weights ``W ~ N(0, c_w / fan_in)`` layer by layer.

    FNN calls its kernel initializer once per linear layer, first to last, and then sets every bias to zero; so the
    result equals :func:`apply_critical_init` only when every critical ``c_b`` is 0 (MRePU, RePU, tanh, sin, relu;
    not GELU or SiLU, which raise here: use :func:`apply_critical_init` after construction instead).  The returned
    object is stateful: use one per network, built with that network's number of linear layers
    (``len(layer_sizes) - 1``) and its smallest hidden width ``width`` (as :func:`apply_critical_init` infers it;
    None: the infinite-width recipe).  Weights differ from :func:`apply_critical_init` with the same seed (no bias
    draws).

    Raises:
        ValueError: some layer has c_b > 0.

    Example::

        sizes = [2] + [20] * 3 + [1]
        act = mrepu()
        net = dde.nn.FNN(sizes, act, critical_initializer(act, len(sizes) - 1, seed=0, width=20))
    """
    act = _as_activation(activation)
    variances = critical_variances(act, n_linear, input_second_moment=input_second_moment, width=width)
    if any(c_b > 0.0 for c_b, _ in variances):
        raise ValueError(f"critical_initializer: the critical bias variance of {act.name} is c_b > 0 "
                         f"({variances}), but dde.nn.FNN zeroes the biases after its kernel initializer; use "
                         "apply_critical_init(net, act) after building the network instead")
    return _CriticalKernelInitializer(variances, _generator(generator, seed))


def fnn(layer_sizes: Sequence[int], activation: str | Activation = "mrepu", *, seed: int | None = 0,
        generator: torch.Generator | None = None, input_second_moment: float = 1.0 / 3.0,
        **activation_params: Any) -> Any:
    """Build a ``dde.nn.FNN(layer_sizes, activation, ...)`` with critical initialisation (:func:`apply_critical_init`).

    Args:
        layer_sizes: ``[in_dim, width, ..., width, out_dim]`` as for ``dde.nn.FNN``.
        activation: name or instance (default ``mrepu``); ``**activation_params`` e.g. ``p=3`` for a name.
        seed / generator: randomness of the initial weights (default seed 0).

    Returns:
        the ``deepxde.nn.FNN`` (in DeepXDE's default float type).

    Raises:
        ImportError: deepxde missing (names ``pip install pinn_mrepu[deepxde]``); RuntimeError: wrong backend.

    Example::

        net = fnn([2] + [32] * 6 + [1], "mrepu", p=2, seed=0)
    """
    dde = require_deepxde()
    act = get_activation(activation, **activation_params)
    net = dde.nn.FNN(list(layer_sizes), act, "zeros")
    apply_critical_init(net, act, generator=generator, seed=None if generator is not None else seed,
                        input_second_moment=input_second_moment)
    return net
