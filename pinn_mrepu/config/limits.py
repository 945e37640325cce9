"""Size limits of a problem file and the run-name rule (README, "Reliability").

Each size has a hard limit (a ``rule(max=...)`` in :mod:`.schema`), and :func:`check_sizes` bounds what a limit
per field cannot: the evaluation grid's node count, the network's parameter count and an estimate of the memory of
the largest network pass.  Everything here fails at load time, before a run folder is written.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pinn_mrepu.errors import ConfigError

__all__ = [
    "MAX_CANDIDATES",
    "MAX_DEPTH",
    "MAX_GRID_NODES",
    "MAX_NAME",
    "MAX_PARAMETERS",
    "MAX_PASS_GIB",
    "MAX_POINTS",
    "MAX_POWER",
    "MAX_SEED",
    "MAX_WIDTH",
    "check_name",
    "check_sizes",
    "pass_bytes",
    "safe_name",
]

MAX_WIDTH = 4096  #: neurons per hidden layer
MAX_DEPTH = 100  #: hidden layers
MAX_POINTS = 1_000_000  #: collocation points of one part, residual and monitor points, refinement additions
MAX_CANDIDATES = 10_000_000  #: RAD / refinement candidate pools (evaluated in chunks)
MAX_GRID_NODES = 4_000_000  #: nodes of the evaluation grid (product of evaluate.grid)
MAX_PARAMETERS = 20_000_000  #: network weights and biases
MAX_SEED = 2**31 - 1
MAX_PASS_GIB = 32  #: estimated memory of the largest network pass (see pass_bytes)
MAX_POWER = 16  #: network.activation_params.p (mrepu, repu): z^p overflows float64 long before p = 100
MAX_NAME = 100
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_CHUNK = 16384  # the candidate pools' evaluation chunk (pinn_mrepu.training.sampling)


def check_name(name: Any) -> None:
    """A run name is a plain label: letters, digits, ``. _ -``, not starting with ``.`` or ``-``, <= 100 chars."""
    if not isinstance(name, str) or len(name) > MAX_NAME or not _NAME.fullmatch(name):
        raise ConfigError("name", name, f"must be a label of 1-{MAX_NAME} letters, digits and . _ - "
                                        "(not starting with . or -); it names the run folder")


def safe_name(stem: str) -> str:
    """A file stem made into a valid name (other characters become ``-``)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "-", stem).lstrip(".-")[:MAX_NAME]
    return name or "problem"


def pass_bytes(points: int, width: int, depth: int, dim: int, dtype_bytes: int) -> int:
    """Rough memory of one training pass: ``points x width x depth x (1 + 2 dim) derivative streams x bytes``,
    times 4 for the values autograd keeps for the backward pass."""
    return points * width * depth * (1 + 2 * dim) * dtype_bytes * 4


def check_sizes(config: Any, dim: int, parameters: int) -> None:
    """Grid nodes, parameter count, refinement sizes and the largest pass's memory estimate.

    Args:
        config: a :class:`~pinn_mrepu.config.Config` whose sections passed the schema.
        dim: the number of coordinates (space and time).
        parameters: the network's parameter count.
    """
    net, tr, ev = config.network, config.train, config.evaluate
    power = net.activation_params.get("p") if isinstance(net.activation_params, dict) else None
    if isinstance(power, (int, float)) and not isinstance(power, bool) and power > MAX_POWER:
        raise ConfigError("network.activation_params.p", power, f"must be <= {MAX_POWER} (the power of mrepu/repu)")
    nodes = math.prod(ev.grid)
    if nodes > MAX_GRID_NODES:
        raise ConfigError("evaluate.grid", ev.grid, f"has {nodes} nodes, more than {MAX_GRID_NODES}")
    if parameters > MAX_PARAMETERS:
        raise ConfigError("network.width", net.width, f"with depth {net.depth} gives {parameters} parameters, more "
                                                      f"than {MAX_PARAMETERS}; use a smaller network")
    if tr.refine.every and tr.refine.add > tr.refine.candidates:
        raise ConfigError("train.refine.add", tr.refine.add, f"must be <= train.refine.candidates ({tr.refine.candidates})")
    p = tr.points
    passes = {"train.points.interior": p.interior + p.boundary + p.initial,
              "evaluate.residual_points": ev.residual_points}
    if tr.resample.every and tr.resample.method == "rad":
        passes["train.resample.candidates"] = min(tr.resample.candidates, _CHUNK)
    if tr.refine.every:
        passes["train.refine.candidates"] = min(tr.refine.candidates, _CHUNK)
    key = max(passes, key=passes.get)
    need = pass_bytes(passes[key], net.width, net.depth, dim, 4 if tr.dtype == "float32" else 8)
    if need > MAX_PASS_GIB * 2**30:
        raise ConfigError(key, passes[key] if key != "train.points.interior" else p.interior,
                          f"needs about {need / 2**30:.0f} GiB in one network pass of {passes[key]} points with width "
                          f"{net.width} and depth {net.depth}, over the {MAX_PASS_GIB} GiB limit; use fewer points or "
                          "a smaller network")
