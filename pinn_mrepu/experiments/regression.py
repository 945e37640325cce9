"""Polynomial regression with deep networks (the paper's first non-PDE experiment).

A target f: [-1, 1]^d -> R (a safe expression over ``x, y, z``, e.g. ``x*y*z``) is fitted by an
:class:`pinn_mrepu.nn.MLP` with full-batch Adam on ``n_train`` uniform points for a fixed number of steps::

    loss = mean_i (u(x_i) - f(x_i))^2

and measured on ``n_test`` fresh uniform points:

- ``test_mse`` = mean (u - f)^2 and ``target_var`` = mean (f - mean f)^2, the MSE of the trivial (constant)
  predictor; ``rel_test_mse`` = test_mse / target_var;
- ``h1_mse`` = mean |grad u - grad f|^2 (gradients by autograd on the test points), ``h1_rel`` = h1_mse /
  mean |grad f|^2: the derivative (H1-seminorm) error that tells a smooth fit from a rough one.

Status of a run: ``diverged`` (the training loss or the test error became non-finite; training stops at the
first non-finite loss), ``failed`` (finite, but test_mse >= target_var: no better than predicting the mean), else
``ok``.  A failure is a result, never an exception.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass

import torch

from pinn_mrepu.config import Expression, parse_expression
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.nn import MLP

__all__ = ["TARGETS", "VARIABLES", "Target", "make_target", "params_text", "run_regression", "sample_points"]

VARIABLES = ("x", "y", "z")

#: Named targets; any other text is parsed as an expression over x, y, z.
TARGETS: dict[str, str] = {
    "xy": "x*y",
    "xyz": "x*y*z",
    "poly3": "x**3 - 2*x*y + y**2*z",
    "x3": "x**3",
    "sincos": "sin(pi*x)*cos(pi*y)",
    "expxy": "exp(x*y)",
}


@dataclass(frozen=True)
class Target:
    """A regression target: its name, text, input dimension d and the expression over the first d variables."""

    name: str
    text: str
    dim: int
    expression: Expression

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        """f at ``points`` ``(N, d)``; returns ``(N, 1)`` (differentiable)."""
        return self.expression(points)


def make_target(target: str | Target) -> Target:
    """A :class:`Target` from a name in :data:`TARGETS` or an expression text over ``x, y, z``.

    d is one more than the index of the last variable used (``x*z`` has d = 3, a constant d = 1).

    Raises:
        ConfigError: the text is not a valid expression.
    """
    if isinstance(target, Target):
        return target
    if not isinstance(target, str):
        raise ConfigError("target", target, f"must be a name ({', '.join(TARGETS)}) or an expression over x, y, z")
    text = TARGETS.get(target, target)
    expr = parse_expression(text, variables=VARIABLES, field="target")
    used = [i for i, v in enumerate(VARIABLES) if v in expr.names_used]
    dim = max(used) + 1 if used else 1
    expr = parse_expression(text, variables=VARIABLES[:dim], field="target")
    return Target(name=target, text=text, dim=dim, expression=expr)


def params_text(params: Mapping[str, object] | None) -> str:
    """``"p=2"`` for ``{"p": 2}``, ``""`` for none (the CSV spelling of activation parameters)."""
    return ",".join(f"{k}={v}" for k, v in sorted((params or {}).items()))


def sample_points(n: int, dim: int, generator: torch.Generator, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """``(n, dim)`` points uniform on [-1, 1]^dim from ``generator``."""
    return torch.rand(n, dim, generator=generator, dtype=dtype) * 2 - 1


def _gradient(fn, points: torch.Tensor) -> torch.Tensor:
    x = points.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(x).sum(), x)
    return g.detach()


def run_regression(
    target: str | Target,
    activation: str,
    params: Mapping[str, object] | None = None,
    depth: int = 3,
    width: int = 32,
    seed: int = 0,
    steps: int = 2000,
    lr: float = 1e-3,
    *,
    init: str = "critical",
    n_train: int = 2000,
    n_test: int = 2000,
    dtype: torch.dtype = torch.float64,
) -> dict:
    """Fit ``target`` with an MLP of ``depth`` hidden layers of ``width`` neurons by full-batch Adam.

    Args:
        target: name in :data:`TARGETS` or an expression over x, y, z (see :func:`make_target`).
        activation: registry name (``mrepu``, ``repu``, ``relu``, ``gelu``, ``tanh`` ...).
        params: activation parameters, e.g. ``{"p": 2}``.
        depth, width: hidden layers and neurons per layer.
        seed: seeds the weights (``MLP(generator=seed)``) and, separately, the train and test points.
        steps: Adam steps (full batch, constant ``lr``).
        init: ``critical`` (the paper's theory) or ``glorot_normal``/``lecun_normal``.
        n_train, n_test: uniform points on [-1, 1]^d.

    Returns:
        A flat dict (one CSV row): the configuration, ``status`` (ok/failed/diverged), ``steps_done``,
        ``train_loss``, ``test_mse``, ``target_var``, ``rel_test_mse``, ``h1_mse``, ``h1_rel``, ``seconds``.

    Raises:
        ConfigError: bad target, activation or init.
    """
    tgt = make_target(target)
    start = time.perf_counter()
    net = MLP(tgt.dim, 1, width=width, depth=depth, activation=activation, activation_params=dict(params or {}),
              init=init, generator=int(seed), dtype=dtype)
    data_gen = torch.Generator().manual_seed(1_000_003 + int(seed))
    x_train = sample_points(n_train, tgt.dim, data_gen, dtype)
    x_test = sample_points(n_test, tgt.dim, data_gen, dtype)
    with torch.no_grad():
        y_train, y_test = tgt(x_train), tgt(x_test)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    status, steps_done, train_loss = "ok", 0, math.nan
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((net(x_train) - y_train) ** 2)
        train_loss = loss.item()
        if not math.isfinite(train_loss):
            status = "diverged"
            break
        loss.backward()
        opt.step()
        steps_done += 1
    target_var = float(torch.var(y_test, unbiased=False))
    test_mse = h1_mse = math.nan
    if status == "ok":
        with torch.no_grad():
            test_mse = float(torch.mean((net(x_test) - y_test) ** 2))
            train_loss = float(torch.mean((net(x_train) - y_train) ** 2))  # after the last step
        grad_err = _gradient(net, x_test) - _gradient(tgt, x_test)
        h1_mse = float(torch.mean(torch.sum(grad_err ** 2, dim=1)))
        if not (math.isfinite(test_mse) and math.isfinite(train_loss)):
            status = "diverged"
        elif test_mse >= target_var:
            status = "failed"
    grad_norm2 = float(torch.mean(torch.sum(_gradient(tgt, x_test) ** 2, dim=1)))
    return {
        "target": tgt.name, "target_text": tgt.text, "dim": tgt.dim, "activation": activation,
        "params": params_text(params), "init": init if isinstance(init, str) else str(dict(init)),
        "depth": depth, "width": width, "seed": int(seed), "steps": steps, "lr": float(lr),
        "n_train": n_train, "n_test": n_test, "status": status, "steps_done": steps_done,
        "train_loss": train_loss, "test_mse": test_mse, "target_var": target_var,
        "rel_test_mse": test_mse / target_var if target_var > 0 else math.nan,
        "h1_mse": h1_mse, "h1_rel": h1_mse / grad_norm2 if grad_norm2 > 0 else math.nan,
        "seconds": time.perf_counter() - start,
    }
