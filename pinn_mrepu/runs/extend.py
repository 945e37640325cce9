"""Extending a run's budget on ``solve --resume DIR --set ...``: more steps, more phases, a longer time limit.

Only the budget may change: anything else (the problem, the network, a phase's optimizer or options) would make
the continued run a different experiment, so it is refused in one line and nothing is written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

from pinn_mrepu.config import apply_overrides, read_yaml
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.solver import PINNSolver
from pinn_mrepu.storage import write_config
from pinn_mrepu.validation import config_from_dict

__all__ = ["extend_config"]


_EXTENDABLE = ("train.phases", "train.time_limit_s", "train.checkpoint_every", "evaluate.monitor_every")


def _flat(data: object, prefix: str = "") -> dict[str, object]:
    if isinstance(data, dict):
        return {k: v for key, val in data.items() for k, v in _flat(val, f"{prefix}{key}.").items()} or {prefix: {}}
    return {prefix.rstrip("."): data}


def extend_config(directory: Path, overrides: Sequence[str]) -> None:
    """Apply budget ``overrides`` to the run folder's config.yaml, after checking they only extend training.

    Raises:
        ConfigError: an override of anything but the budget, a finished phase changed, fewer steps, or a phase
            removed (one line naming the key); nothing is written then.
    """
    path = directory / "config.yaml"
    old = read_yaml(path, field="config.yaml")
    new = apply_overrides(old, list(overrides))
    flat_old, flat_new = _flat(old), _flat(new)
    for key in sorted(set(flat_old) | set(flat_new)):
        if flat_old.get(key) != flat_new.get(key) and not any(key == k or key.startswith(k + ".")
                                                                  for k in _EXTENDABLE):
            raise ConfigError("--set", key, "changes what was trained; with --resume only the budget may grow "
                                            f"({', '.join(_EXTENDABLE)}); start a new run instead")
    config = config_from_dict(new)
    solver = PINNSolver.load(directory)
    done = solver.trainer.phase_index  # phases before it are finished
    before = [dataclasses.asdict(ph) for ph in config_from_dict(old).train.phases]  # resolved: defaults filled
    after = [dataclasses.asdict(ph) for ph in config.train.phases]
    if len(after) < len(before):
        raise ConfigError("--set", "train.phases", f"has {len(after)} phases; the run has {len(before)}: phases "
                                                   "may only be added at the end")
    for k, (a, b) in enumerate(zip(before, after)):
        if {x: y for x, y in a.items() if x != "steps"} != {x: y for x, y in b.items() if x != "steps"}:
            raise ConfigError(f"train.phases.{k}", b.get("optimizer"), "changes a phase's optimizer or options; "
                                                                     "only its steps may grow")
        if b["steps"] < a["steps"] or (k < done and b["steps"] != a["steps"]):
            what = "is finished; add a phase at the end instead" if k < done else f"may not shrink below {a['steps']}"
            raise ConfigError(f"train.phases.{k}.steps", b["steps"], f"phase {k} ({a['optimizer']}) {what}")
    write_config(directory, config)
