"""Activation x depth x seed sweeps: planning, execution (local process pool or Ray), resume, summaries.

This module drives the sweep; planning is :mod:`.plan`, one run (reuse/resume/train, errors recorded)
:mod:`.execute` and the in-process / process-pool / Ray executors :mod:`.executors`.

    records = compare("problems/burgers.yaml", activations="mrepu,tanh,repu", p="2,3", depths="3,5,7,10",
                      seeds="0-4", jobs=4, out="results/compare/burgers-deep")

Every run is an ordinary ``solve`` run folder, ``<out>/runs/<label>-d<depth>-s<seed>/``, written by
:func:`pinn_mrepu.runs.run_to_folder` from the problem with the sweep's overrides plus
``network.activation``, ``network.activation_params``, ``network.depth`` and ``train.seed``.  The sweep folder
also holds ``sweep.yaml`` (the definition), ``summary.csv`` (one row per run, the records returned),
``summary.md`` (statistics, see :mod:`.stats`) and figures (:mod:`.plots`).

Resume policy (re-running the same command with the same ``out``):

- a run whose ``metrics.json`` says ``done`` or ``failed`` and whose ``config.yaml`` equals the planned config
  is reused, not rerun (a failure is a result: rerunning would fail the same way);
- a run with status ``interrupted`` or without ``metrics.json`` (the sweep was stopped or killed) continues from
  its ``model.pt`` checkpoint with :func:`pinn_mrepu.runs.resume_folder` when the folder holds one for the planned
  config (the trainer resumes bit-for-bit); otherwise, or if resuming raises, it starts again from scratch;
- a run with status ``error`` (an exception, e.g. out of memory) or a stale config is redone from scratch;
- a finished run whose folder is gone (a fresh clone: run folders hold checkpoints and are not committed) is
  reused from the sweep's ``ledger.jsonl`` (:mod:`.ledger`: its summary row, config hash and thinned curves,
  one line per finished run), again only for the planned config.

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

import math
import platform
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pinn_mrepu.config import Config
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.storage import atomic_write, cpu_model

from .execute import record, reusable_record, reusable_records
from .executors import EXECUTORS, import_ray, run_local, run_ray
from .ledger import append_entry
from .plan import RunSpec, SweepPlan, compact, cpus, parse_int_list, plan_sweep, prepare_out
from .stats import write_summaries
from .tune import TUNE_SCORES, candidate_overrides, choose, parse_tune, tuning_csv, tuning_markdown, tuning_rows

__all__ = ["CompareEvent", "compare"]


@dataclass
class CompareEvent:
    """Progress: ``completed`` of ``total`` runs; ``record`` of the run just finished (None at the start, when
    ``completed`` counts the runs reused from an earlier invocation)."""

    completed: int
    total: int
    record: dict | None = None


def _machine() -> str:
    import torch  # noqa: PLC0415 - version string only

    cpu = cpu_model()
    return (f"{cpu} ({platform.system()} {platform.release()}, {cpus()} CPUs), Python {platform.python_version()}, "
            f"torch {torch.__version__}")


def compare(problem_path_or_config: str | Path | Config, *, activations: str | Sequence[str],
            p: str | int | Sequence[int] | None = None, depths: str | int | Sequence[int],
            seeds: str | int | Sequence[int], overrides: Sequence[str] = (), jobs: int = 1,
            executor: str = "local", address: str | None = None, out: str | Path | None = None,
            progress: Callable[[CompareEvent], None] | None = None,
            should_stop: Callable[[], bool] | None = None, figures: bool = True,
            run_figures: bool = False, tune: Sequence[str] = (), tune_seeds: str | Sequence[int] = "100-102",
            tune_by: str = "loss", execute: bool = True) -> list[dict]:
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
        tune: ``KEY=V1,V2,...`` items (:mod:`.tune`): candidates tried per activation and depth on
            ``tune_seeds`` (disjoint from ``seeds``), chosen by ``tune_by`` (``loss`` or ``residual``); the study's
            runs use the winner.  Tuning runs live in ``<out>/tune/c<k>/`` and appear in summary.md and tuning.csv.
        execute: False runs nothing: summaries, tuning.csv and figures from the runs in ``out`` (errored and
            interrupted ones as such, unstarted ones pending), e.g. over all depths of a study run depth by depth.

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
    tuning = _plan_tuning(problem_path_or_config, plan, activations, p, depths, tune, tune_seeds, tune_by)
    if executor == "ray":
        import_ray()
    command = plan.command(jobs=jobs, executor=executor, address=address)
    if tuning is not None:
        command += " " + shlex.join([*(a for item in tune for a in ("--tune", item)),
                                     "--tune-seeds", compact(tuning[2]), "--tune-by", tune_by])
    definition = {"problem": plan.problem, "name": plan.name,
                  "activations": [{"label": v.label, "activation": v.name, "params": dict(v.params)} for v in plan.variants],
                  "depths": plan.depths, "seeds": plan.seeds, "overrides": plan.overrides, "command": command,
                  **({} if tuning is None else {"tune": list(tune), "tune_seeds": tuning[2], "tune_by": tune_by})}
    prepare_out(plan, definition)
    report = progress or (lambda event: None)
    runner = _Runner(plan.out, executor, jobs, run_figures, address, should_stop, report, execute)
    reused = 0
    if tuning is None:
        records, n = runner.run(plan.runs)
        _write_outputs(plan, records, command=command, executor=executor, jobs=jobs, reused=n, t0=t0,
                       figures=figures)
        return records
    # tuned: depth by depth (tune every activation at that depth, then its study runs), so that a stopped or
    # partial study has complete results for the depths it reached
    candidates, specs, seed_list = tuning
    tune_records: list[dict] = []
    by_run: dict[str, dict] = {}
    tuned_runs = {}

    def write(with_figures: bool) -> list[dict]:
        records = [by_run.get(s.run) or record(tuned_runs.get(s.run, s), {"status": "pending",
                                                                          "message": "not run (the sweep stopped)"})
                   for s in plan.runs]
        sections = []
        if tune_records:  # candidates that have not run yet show as such (choose gives them no score)
            choice = choose(tune_records, len(candidates), tune_by)
            atomic_write(plan.out / "tuning.csv", tuning_csv(tuning_rows(choice, candidates)))
            sections.append(tuning_markdown(choice, candidates, by=tune_by, seeds=seed_list))
        _write_outputs(plan, records, command=command, executor=executor, jobs=jobs, reused=reused, t0=t0,
                       figures=with_figures, sections=sections)
        return records

    for k_depth, d in enumerate(plan.depths):
        if runner.stopped:
            break
        if k_depth:  # the summaries of the depths done so far, before the next (long) depth starts
            write(with_figures=False)
        recs, n = runner.run([s for s in specs if s.depth == d])
        tune_records += recs
        reused += n
        if runner.stopped:
            break
        choice = choose(tune_records, len(candidates), tune_by)
        if any(best < 0 for (_, dd), (best, _) in choice.items() if dd == d):
            break  # some candidate did not run (stopped): no choice for this depth
        part = plan_sweep(problem_path_or_config, activations=activations, p=p, depths=[d], seeds=seeds,
                          overrides=overrides, out=plan.out,
                          extra=lambda v, dd: list(candidates[choice[(v.label, dd)][0]]))
        recs, n = runner.run(part.runs)
        reused += n
        tuned_runs.update({s.run: s for s in part.runs})
        by_run.update({r["run"]: r for r in recs})
    return write(with_figures=figures)


def _plan_tuning(problem, plan: SweepPlan, activations, p, depths, tune, tune_seeds, tune_by):
    """``(candidate override lists, tuning RunSpecs, tuning seeds)``, or None without ``tune``."""
    if not tune:
        return None
    if tune_by not in TUNE_SCORES:
        raise ConfigError("--tune-by", tune_by, f"must be one of {', '.join(TUNE_SCORES)}")
    candidates = candidate_overrides(parse_tune(tune))
    seed_list = parse_int_list(tune_seeds, "--tune-seeds", minimum=0)
    if set(seed_list) & set(plan.seeds):
        raise ConfigError("--tune-seeds", tune_seeds, f"must be disjoint from --seeds {compact(plan.seeds)} (tuning "
                                                      "on the study's seeds would bias it)")
    specs = []
    for k, cand in enumerate(candidates):
        specs += plan_sweep(problem, activations=activations, p=p, depths=depths, seeds=seed_list,
                            overrides=list(plan.overrides) + cand, out=plan.out, folder=f"tune/c{k}",
                            candidate=k).runs
    return candidates, specs, seed_list


class _Runner:
    """Runs a list of RunSpecs (reusing finished runs) with the sweep's executor; remembers a stop."""

    def __init__(self, out: Path, executor: str, jobs: int, run_figures: bool, address, should_stop, report,
                 execute: bool = True):
        self.out, self.executor, self.jobs, self.run_figures, self.address = out, executor, jobs, run_figures, address
        self.should_stop, self.report, self.stopped, self.execute = should_stop, report, False, execute

    def run(self, specs: list[RunSpec]) -> tuple[list[dict], int]:
        records: dict[int, dict] = {}
        index = {spec.run: i for i, spec in enumerate(specs)}
        records.update(reusable_records(specs, self.out))
        reused = len(records)
        todo = [spec for i, spec in enumerate(specs) if i not in records]
        self.report(CompareEvent(reused, len(specs)))
        if todo and not self.execute:  # a report: an errored or interrupted run shows as such, not as pending
            for spec in todo:
                rec = reusable_record(spec, self.out, ("error", "interrupted"))
                if rec is not None:
                    records[index[spec.run]] = rec
            todo, self.stopped = [], True

        def stop() -> bool:
            self.stopped = self.stopped or bool(self.should_stop and self.should_stop())
            return self.stopped

        def done(spec: RunSpec, rec: dict) -> None:
            records[index[spec.run]] = rec
            if rec["status"] in ("done", "failed"):
                append_entry(self.out, spec.config, rec)
            self.stopped = self.stopped or rec["status"] == "interrupted"
            self.report(CompareEvent(len(records), len(specs), rec))

        (self.out / ".stop").unlink(missing_ok=True)
        try:
            if todo and self.executor == "ray":
                run_ray(todo, self.out, self.jobs, self.run_figures, stop, done, self.address)
            elif todo:
                run_local(todo, self.out, self.jobs, self.run_figures, stop, done)
        finally:
            (self.out / ".stop").unlink(missing_ok=True)
        result = [records.get(i) or record(spec, {"status": "pending", "message": "not run (the sweep stopped)"})
                  for i, spec in enumerate(specs)]
        return result, reused


def _write_outputs(plan: SweepPlan, records: list[dict], *, command: str, executor: str, jobs: int, reused: int,
                   t0: float, figures: bool, sections: Sequence[str] = ()) -> None:
    counts = {s: sum(r["status"] == s for r in records) for s in ("done", "failed", "error", "interrupted", "pending")}
    threads = sorted({r["threads"] for r in records if isinstance(r.get("threads"), int)})
    run_wall = sum(r["wall_time_s"] for r in records if isinstance(r.get("wall_time_s"), float) and math.isfinite(r["wall_time_s"]))
    notes: list[str] = []
    if figures and any(r["status"] in ("done", "failed") for r in records):
        from .plots import write_sweep_figures  # matplotlib, only when figures are drawn

        title = f"{plan.name}: seeds {compact(plan.seeds)}"
        notes += write_sweep_figures(plan.out, records, title=title)[1]
    if counts["done"] and not any(r["rel_l2"] is not None and math.isfinite(r["rel_l2"]) for r in records):
        notes.append("the problem has no exact solution: rel L2 errors and their statistics are n/a")
    wall = time.perf_counter() - t0
    meta = {"command": command, "problem": f"{plan.problem} (name {plan.name})",
            "activations": ", ".join(f"{v.label} ({v.params_text or 'no parameters'})" for v in plan.variants),
            "depths": ", ".join(map(str, plan.depths)), "seeds": compact(plan.seeds),
            "overrides": ", ".join(f"`{o}`" for o in plan.overrides) or "none",
            "runs": f"{len(records)} planned: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
                    + f"; {reused} reused from an earlier invocation",
            "machine": _machine() + (f" (this invocation; the {reused} reused runs were trained where they first ran)"
                                     if reused else ""),
            "executor": f"{executor}, jobs {jobs}, torch threads per run {', '.join(map(str, threads)) or 'n/a'}",
            "wall time": f"{wall:.1f} s for this invocation; {run_wall:.1f} s summed over the runs' training",
            "notes": notes, "sections": list(sections)}
    write_summaries(plan.out, records, meta)
