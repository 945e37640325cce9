"""Planning a sweep: activation variants, depths, seeds and every run's resolved config, validated before
anything runs.  :class:`RunSpec` (one planned run) is the vocabulary the executors and the run step share."""

from __future__ import annotations

import copy
import datetime as _dt
import json
import os
import re
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from pinn_mrepu.activations import ACTIVATIONS, activation_names, get_activation
from pinn_mrepu.config import Config, apply_overrides, read_yaml
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.storage import atomic_write
from pinn_mrepu.validation import config_from_dict

__all__ = ["Variant", "RunSpec", "SweepPlan", "parse_activations", "parse_int_list", "plan_sweep", "default_out",
           "cpus", "compact", "prepare_out"]

SWEEP_KEYS = ("network.activation", "network.activation_params", "network.depth", "train.seed")


@dataclass
class Variant:
    """One activation of the sweep: ``label`` (``mrepu-p2``), registry ``name`` and ``params`` (``{"p": 2}``)."""

    label: str
    name: str
    params: dict

    @property
    def params_text(self) -> str:
        """The effective parameters, e.g. ``p=2`` (defaults included)."""
        return ",".join(f"{k}={v}" for k, v in get_activation(self.name, **self.params).params.items())

    def overrides(self) -> list[str]:
        return [f"network.activation={self.name}", f"network.activation_params={json.dumps(self.params)}"]


@dataclass
class RunSpec:
    """One planned run: its variant, depth, seed, folder relative to the sweep folder and resolved config."""

    variant: Variant
    depth: int
    seed: int
    run: str
    config: dict
    tuned: str = ""               # the tuned settings this run uses (``KEY=V; ...``), empty when not tuned
    candidate: int | None = None  # for a tuning run: the index of its candidate


@dataclass
class SweepPlan:
    problem: str
    name: str
    variants: list[Variant]
    depths: list[int]
    seeds: list[int]
    overrides: list[str]
    out: Path
    runs: list[RunSpec]

    def command(self, *, jobs: int = 1, executor: str = "local", address: str | None = None) -> str:
        """A ``pinn-mrepu compare`` command line that reproduces (and resumes) this sweep."""
        acts = ",".join(v.name + "".join(f":{x}" for x in v.params.values()) for v in self.variants)
        args = ["pinn-mrepu", "compare", self.problem, "--activations", acts, "--depths", compact(self.depths),
                "--seeds", compact(self.seeds)]
        for item in self.overrides:
            args += ["--set", item]
        args += ["--jobs", str(jobs), "--executor", executor] + (["--address", address] if address else [])
        return shlex.join(args + ["--out", str(self.out)])


def compact(values: Sequence[int]) -> str:
    parts, i = [], 0
    while i < len(values):
        j = i
        while j + 1 < len(values) and values[j + 1] == values[j] + 1:
            j += 1
        parts.append(f"{values[i]}-{values[j]}" if j - i >= 2 else ",".join(map(str, values[i:j + 1])))
        i = j + 1
    return ",".join(parts)


# ------------------------------------------------------------------------------------------------ planning

def parse_int_list(spec: str | int | Sequence[int], field: str, *, minimum: int = 0) -> list[int]:
    """``"0-4"`` -> [0..4], ``"0,1,5"``, ``"0-2,7"``, an int or a list of ints; each >= ``minimum``, no repeats."""
    rule = f"must be integers >= {minimum} or ranges like 0-4, separated by commas, without repeats"
    if isinstance(spec, str):
        values = []
        for part in spec.split(","):
            m = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
            if not m or (m.group(2) is not None and int(m.group(2)) < int(m.group(1))):
                raise ConfigError(field, spec, rule)
            values += range(int(m.group(1)), int(m.group(2) or m.group(1)) + 1)
    else:
        items = [spec] if isinstance(spec, int) else list(spec)
        if any(isinstance(v, bool) or not isinstance(v, int) for v in items):
            raise ConfigError(field, spec, rule)
        values = list(items)
    if not values or min(values) < minimum or len(set(values)) != len(values):
        raise ConfigError(field, spec, rule)
    return values


def parse_activations(spec: str | Sequence[str], p: str | int | Sequence[int] | None = None) -> list[Variant]:
    """Activation variants from ``"mrepu,tanh,repu"`` (+ ``p="2,3"`` for the power activations) or the explicit
    form ``"mrepu:2,mrepu:3,tanh"``.  Labels: ``mrepu-p2`` for a power activation with p, else the name."""
    items = [s.strip() for s in (spec.split(",") if isinstance(spec, str) else spec)]
    powers = [n for n in activation_names() if "p" in get_activation(n).params]
    ps = None if p is None else parse_int_list(p, "--p", minimum=1)
    if not items or not all(items):
        raise ConfigError("--activations", spec, "must be a comma-separated list of activation names")
    variants, bare_power = [], False
    for item in items:
        name, sep, pval = item.partition(":")
        if name not in ACTIVATIONS:
            raise ConfigError("--activations", item, f"unknown activation; valid names: {', '.join(activation_names())}")
        if sep:
            if name not in powers:
                raise ConfigError("--activations", item, f"{name} takes no parameter p (only {', '.join(powers)} do)")
            variants += [Variant(f"{name}-p{q}", name, {"p": q}) for q in parse_int_list(pval, "--activations", minimum=1)]
        elif name in powers and ps is not None:
            bare_power = True
            variants += [Variant(f"{name}-p{q}", name, {"p": q}) for q in ps]
        else:
            variants.append(Variant(name, name, {}))
    if ps is not None and not bare_power:
        raise ConfigError("--p", p, f"applies to {', '.join(powers)} given without :p, and none is listed")
    labels = [v.label for v in variants]
    dup = next((lab for lab in labels if labels.count(lab) > 1), None)
    if dup:
        raise ConfigError("--activations", spec, f"lists the variant {dup} twice")
    return variants


def default_out(problem_path_or_config: str | Path | Config) -> Path:
    """``results/compare/<problem>-<timestamp>``."""
    name = _base(problem_path_or_config)[1]["name"]
    return Path("results/compare") / f"{name}-{_dt.datetime.now().strftime('%Y%m%d-%H%M%S')}"


def _base(problem: str | Path | Config) -> tuple[str, dict]:
    if isinstance(problem, Config):
        return f"<config {problem.name}>", problem.to_dict()
    data = read_yaml(problem)
    data.setdefault("name", Path(problem).stem)
    return str(problem), data


def plan_sweep(problem_path_or_config: str | Path | Config, *, activations: str | Sequence[str],
               p: str | int | Sequence[int] | None = None, depths: str | int | Sequence[int],
               seeds: str | int | Sequence[int], overrides: Sequence[str] = (), out: str | Path | None = None,
               extra: Callable[[Variant, int], list[str]] | None = None, folder: str = "runs",
               candidate: int | None = None) -> SweepPlan:
    """Parse and validate the whole sweep, building (and so validating) every run's config; runs nothing.

    ``extra(variant, depth)`` gives more ``--set`` items for that variant and depth (the tuned values); run
    folders are ``<folder>/<label>-d<depth>-s<seed>``; ``candidate`` marks the runs as tuning runs of it.

    Raises:
        ConfigError: a bad activation, p, depth, seed, ``--set`` item, problem file or resulting config.
    """
    variants = parse_activations(activations, p)
    depth_list = parse_int_list(depths, "--depths", minimum=1)
    seed_list = parse_int_list(seeds, "--seeds", minimum=0)
    overrides = [str(o) for o in overrides]
    for item in overrides:
        key = item.partition("=")[0].strip()
        if any(key == k or key.startswith(k + ".") for k in SWEEP_KEYS):
            raise ConfigError("--set", item, "is set by the sweep (use --activations, --p, --depths, --seeds)")
    problem, base = _base(problem_path_or_config)
    specs = []
    for v in variants:
        for d in depth_list:
            more = extra(v, d) if extra is not None else []
            data = apply_overrides(base, overrides + more + v.overrides() + [f"network.depth={d}"])
            try:
                config = config_from_dict(data)
            except ConfigError as exc:
                raise ConfigError(exc.field, exc.value, f"{exc.rule} (in the runs of {v.label} at depth {d})") from None
            for s in seed_list:
                resolved = copy.deepcopy(config)
                resolved.train.seed = s
                specs.append(RunSpec(v, d, s, f"{folder}/{v.label}-d{d}-s{s}", resolved.to_dict(), "; ".join(more),
                                     candidate))
    out_dir = Path(out) if out is not None else default_out(problem_path_or_config)
    return SweepPlan(problem, base["name"], variants, depth_list, seed_list, overrides, out_dir, specs)


def cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def prepare_out(plan: SweepPlan, definition: dict) -> None:
    """Create the sweep folder and write ``sweep.yaml``; refuse a folder that holds another sweep (problem or
    overrides) or anything else."""
    out = plan.out
    old_path = out / "sweep.yaml"
    if old_path.is_file():
        try:
            old = yaml.safe_load(old_path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError:
            old = {}
        same = old.get("overrides") == plan.overrides and (
            old.get("problem") == plan.problem or Path(str(old.get("problem"))).resolve() == Path(plan.problem).resolve())
        if not same:
            raise ConfigError("--out", str(out), "holds a sweep of another problem or other --set overrides "
                              "(see its sweep.yaml); choose another --out")
    elif out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError("--out", str(out), "exists and holds no sweep.yaml; choose a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(old_path, yaml.safe_dump(definition, sort_keys=False))
