"""Activation x depth x seed sweeps: planning, execution (local process pool or Ray), resume, summaries.

This module plans the sweep and drives it; one run (reuse/resume/train, errors recorded) lives in
:mod:`pinn_mrepu.sweep_runs` and the in-process / process-pool / Ray executors in :mod:`pinn_mrepu.sweep_executors`.

    records = compare("problems/burgers.yaml", activations="mrepu,tanh,repu", p="2,3", depths="3,5,7,10",
                      seeds="0-4", jobs=4, out="results/compare/burgers-deep")

Every run is an ordinary ``solve`` run folder, ``<out>/runs/<label>-d<depth>-s<seed>/``, written by
:func:`pinn_mrepu.runs.run_to_folder` from the problem with the sweep's overrides plus
``network.activation``, ``network.activation_params``, ``network.depth`` and ``train.seed``.  The sweep folder
also holds ``sweep.yaml`` (the definition), ``summary.csv`` (one row per run, the records returned),
``summary.md`` (statistics, see :mod:`pinn_mrepu.compare_stats`) and figures (:mod:`pinn_mrepu.compare_plots`).

Resume policy (re-running the same command with the same ``out``):

- a run whose ``metrics.json`` says ``done`` or ``failed`` and whose ``config.yaml`` equals the planned config
  is reused, not rerun (a failure is a result: rerunning would fail the same way);
- a run with status ``interrupted`` or without ``metrics.json`` (the sweep was stopped or killed) continues from
  its ``model.pt`` checkpoint with :func:`pinn_mrepu.runs.resume_folder` when the folder holds one for the planned
  config (the trainer resumes bit-for-bit); otherwise, or if resuming raises, it starts again from scratch;
- a run with status ``error`` (an exception, e.g. out of memory) or a stale config is redone from scratch.

A run never crashes the sweep: a non-finite loss is status ``failed`` (message from the trainer), any exception
inside a run is status ``error`` with its message (traceback in the run's ``error.txt``).  Stopping
(``should_stop`` returning True, or an interrupted run) lets running runs checkpoint, writes the summaries of
what finished and returns; unstarted runs are listed with status ``pending``.  The library never prints; it
reports through ``progress(CompareEvent)``.

Executors.  ``local`` with ``jobs=1`` trains in the calling process (its torch thread setting is left alone);
with ``jobs > 1`` it uses a ``ProcessPoolExecutor`` with the ``spawn`` start method (safe with torch; a script
calling :func:`compare` then needs the usual ``if __name__ == "__main__":`` guard), each worker using
``cpus // workers`` torch threads and ignoring SIGINT (the sweep asks workers to stop through a ``.stop`` file
in the sweep folder, so an interrupted run still checkpoints).  ``ray`` submits every run as a
``@ray.remote(num_cpus=k)`` task with ``k = min(CPUs of the largest node, cluster CPUs // jobs)`` torch threads,
to the Ray instance already initialised in the process, else ``ray.init(address=address)`` (a new local instance
when ``address`` is None).  Ray workers must be able to import ``pinn_mrepu`` and, on a multi-node cluster, the
sweep folder must be on a filesystem shared by all nodes (run folders are written by the workers; the summary
is built from the records the tasks return, the figures and resume need the run folders).
"""

from __future__ import annotations

import copy
import datetime as _dt
import json
import math
import os
import platform
import re
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from .activations import ACTIVATIONS, activation_names, get_activation
from .config import Config, apply_overrides, config_from_dict, read_yaml
from .errors import ConfigError
from .report import atomic_write, cpu_model
from .sweep_runs import _record, execute_run, reusable_record

__all__ = ["Variant", "RunSpec", "SweepPlan", "CompareEvent", "parse_activations", "parse_int_list",
           "plan_sweep", "default_out", "reusable_record", "execute_run", "compare", "EXECUTORS"]

#: Executors, ``name -> description``.
EXECUTORS = {"local": "process pool on this machine (--jobs workers; in-process for --jobs 1)",
             "ray": "tasks on a Ray cluster (pip install pinn_mrepu[ray])"}
_SWEEP_KEYS = ("network.activation", "network.activation_params", "network.depth", "train.seed")


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


@dataclass
class CompareEvent:
    """Progress: ``completed`` of ``total`` runs; ``record`` of the run just finished (None at the start, when
    ``completed`` counts the runs reused from an earlier invocation)."""

    completed: int
    total: int
    record: dict | None = None


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
        args = ["pinn-mrepu", "compare", self.problem, "--activations", acts, "--depths", _compact(self.depths),
                "--seeds", _compact(self.seeds)]
        for item in self.overrides:
            args += ["--set", item]
        args += ["--jobs", str(jobs), "--executor", executor] + (["--address", address] if address else [])
        return shlex.join(args + ["--out", str(self.out)])


def _compact(values: Sequence[int]) -> str:
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
               seeds: str | int | Sequence[int], overrides: Sequence[str] = (), out: str | Path | None = None) -> SweepPlan:
    """Parse and validate the whole sweep, building (and so validating) every run's config; runs nothing.

    Raises:
        ConfigError: a bad activation, p, depth, seed, ``--set`` item, problem file or resulting config.
    """
    variants = parse_activations(activations, p)
    depth_list = parse_int_list(depths, "--depths", minimum=1)
    seed_list = parse_int_list(seeds, "--seeds", minimum=0)
    overrides = [str(o) for o in overrides]
    for item in overrides:
        key = item.partition("=")[0].strip()
        if any(key == k or key.startswith(k + ".") for k in _SWEEP_KEYS):
            raise ConfigError("--set", item, "is set by the sweep (use --activations, --p, --depths, --seeds)")
    problem, base = _base(problem_path_or_config)
    specs = []
    for v in variants:
        for d in depth_list:
            data = apply_overrides(base, overrides + v.overrides() + [f"network.depth={d}"])
            try:
                config = config_from_dict(data)
            except ConfigError as exc:
                raise ConfigError(exc.field, exc.value, f"{exc.rule} (in the runs of {v.label} at depth {d})") from None
            for s in seed_list:
                resolved = copy.deepcopy(config)
                resolved.train.seed = s
                specs.append(RunSpec(v, d, s, f"runs/{v.label}-d{d}-s{s}", resolved.to_dict()))
    out_dir = Path(out) if out is not None else default_out(problem_path_or_config)
    return SweepPlan(problem, base["name"], variants, depth_list, seed_list, overrides, out_dir, specs)


# ------------------------------------------------------------------------------------------------ the sweep

def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1



def _prepare_out(plan: SweepPlan, definition: dict) -> None:
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


def _machine() -> str:
    import torch

    cpu = cpu_model()
    return (f"{cpu} ({platform.system()} {platform.release()}, {_cpus()} CPUs), Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def compare(problem_path_or_config: str | Path | Config, *, activations: str | Sequence[str],
            p: str | int | Sequence[int] | None = None, depths: str | int | Sequence[int],
            seeds: str | int | Sequence[int], overrides: Sequence[str] = (), jobs: int = 1,
            executor: str = "local", address: str | None = None, out: str | Path | None = None,
            progress: Callable[[CompareEvent], None] | None = None,
            should_stop: Callable[[], bool] | None = None, figures: bool = True,
            run_figures: bool = False) -> list[dict]:
    """Run (or resume) the sweep activations x depths x seeds on a problem and write its summaries.

    Args:
        problem_path_or_config: problem YAML file or a :class:`~pinn_mrepu.config.Config`.
        activations: ``"mrepu,tanh,repu"`` or ``"mrepu:2,mrepu:3,tanh"`` (or a list of such items).
        p: powers for the power activations (``mrepu``, ``repu``) given without ``:p``, e.g. ``"2,3"``.
        depths: e.g. ``"3,5,7,10"`` or ``[3, 5]``; seeds: ``"0-4"``, ``"0,1,5"`` or a list.
        overrides: ``--set`` items applied to every run (not the swept keys).
        jobs: concurrent runs; executor: ``local`` (process pool; in-process for ``jobs=1``) or ``ray``.
        address: Ray cluster address (``ray`` only; None starts a local Ray unless one is initialised).
        out: the sweep folder (default ``results/compare/<problem>-<timestamp>``).
        progress: called with a :class:`CompareEvent` at the start and after every run.
        should_stop: polled while running; True stops the sweep (running runs checkpoint, status interrupted).
        figures: write the sweep figures; run_figures: also each run's solution.png and loss.png.

    Returns:
        one record per planned run (the rows of ``summary.csv``), in plan order.

    Raises:
        ConfigError: bad input, detected before anything runs.
    """
    t0 = time.perf_counter()
    plan = plan_sweep(problem_path_or_config, activations=activations, p=p, depths=depths, seeds=seeds,
                      overrides=overrides, out=out)
    if executor not in EXECUTORS:
        raise ConfigError("--executor", executor, f"must be one of {', '.join(EXECUTORS)}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ConfigError("--jobs", jobs, "must be an integer >= 1")
    if address is not None and executor != "ray":
        raise ConfigError("--address", address, "only applies to --executor ray")
    if executor == "ray":
        from .sweep_executors import import_ray

        import_ray()
    command = plan.command(jobs=jobs, executor=executor, address=address)
    definition = {"problem": plan.problem, "name": plan.name,
                  "activations": [{"label": v.label, "activation": v.name, "params": dict(v.params)} for v in plan.variants],
                  "depths": plan.depths, "seeds": plan.seeds, "overrides": plan.overrides, "command": command}
    _prepare_out(plan, definition)
    records: dict[int, dict] = {}
    index = {spec.run: i for i, spec in enumerate(plan.runs)}
    for i, spec in enumerate(plan.runs):
        rec = reusable_record(spec, plan.out)
        if rec is not None:
            records[i] = rec
    reused = len(records)
    todo = [spec for i, spec in enumerate(plan.runs) if i not in records]
    report = progress or (lambda event: None)
    report(CompareEvent(reused, len(plan.runs)))
    stopped = [False]

    def stop() -> bool:
        stopped[0] = stopped[0] or bool(should_stop and should_stop())
        return stopped[0]

    def done(spec: RunSpec, rec: dict) -> None:
        records[index[spec.run]] = rec
        stopped[0] = stopped[0] or rec["status"] == "interrupted"
        report(CompareEvent(len(records), len(plan.runs), rec))

    (plan.out / ".stop").unlink(missing_ok=True)
    try:
        if todo and executor == "ray":
            from .sweep_executors import run_ray

            run_ray(todo, plan.out, jobs, run_figures, stop, done, address)
        elif todo:
            from .sweep_executors import run_local

            run_local(todo, plan.out, jobs, run_figures, stop, done)
    finally:
        (plan.out / ".stop").unlink(missing_ok=True)
        result = [records.get(i) or _record(spec, {"status": "pending", "message": "not run (the sweep stopped)"})
                  for i, spec in enumerate(plan.runs)]
        _write_outputs(plan, result, command=command, executor=executor, jobs=jobs, reused=reused,
                       t0=t0, figures=figures)
    return result


def _write_outputs(plan: SweepPlan, records: list[dict], *, command: str, executor: str, jobs: int, reused: int,
                   t0: float, figures: bool) -> None:
    from .compare_stats import write_summaries

    counts = {s: sum(r["status"] == s for r in records) for s in ("done", "failed", "error", "interrupted", "pending")}
    threads = sorted({r["threads"] for r in records if isinstance(r.get("threads"), int)})
    run_wall = sum(r["wall_time_s"] for r in records if isinstance(r.get("wall_time_s"), float) and math.isfinite(r["wall_time_s"]))
    notes: list[str] = []
    if figures and any(r["status"] in ("done", "failed") for r in records):
        from .compare_plots import write_sweep_figures

        title = f"{plan.name}: seeds {_compact(plan.seeds)}"
        notes += write_sweep_figures(plan.out, records, title=title)[1]
    if counts["done"] and not any(r["rel_l2"] is not None and math.isfinite(r["rel_l2"]) for r in records):
        notes.append("the problem has no exact solution: rel L2 errors and their statistics are n/a")
    wall = time.perf_counter() - t0
    meta = {"command": command, "problem": f"{plan.problem} (name {plan.name})",
            "activations": ", ".join(f"{v.label} ({v.params_text or 'no parameters'})" for v in plan.variants),
            "depths": ", ".join(map(str, plan.depths)), "seeds": _compact(plan.seeds),
            "overrides": ", ".join(f"`{o}`" for o in plan.overrides) or "none",
            "runs": f"{len(records)} planned: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
                    + f"; {reused} reused from an earlier invocation",
            "machine": _machine(), "executor": f"{executor}, jobs {jobs}, torch threads per run "
                                               f"{', '.join(map(str, threads)) or 'n/a'}",
            "wall time": f"{wall:.1f} s for this invocation; {run_wall:.1f} s summed over the runs' training",
            "notes": notes}
    write_summaries(plan.out, records, meta)
