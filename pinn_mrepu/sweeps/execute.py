"""One run of a sweep: reuse a finished run, resume an interrupted one, or train it; never raise.

A run is an ordinary ``solve`` run folder ``<out>/<spec.run>``.  Finished (``done``/``failed``) runs whose
``config.yaml`` equals the planned config are reused; interrupted ones resume from their checkpoint; anything
that raises is recorded as status ``error`` (traceback in ``error.txt``).
"""

from __future__ import annotations

import copy
import json
import math
import traceback
from collections.abc import Callable
from pathlib import Path

import yaml

from pinn_mrepu.runs import folders as _runs
from pinn_mrepu.storage import atomic_write, write_metrics
from pinn_mrepu.validation import config_from_dict

from .ledger import append_entry, as_saved, config_hash, read_ledger
from .plan import RunSpec

__all__ = ["execute_run", "reusable_record", "reusable_records", "record"]

_METRICS = ("rel_l2", "max_abs_error", "mean_abs_residual", "final_loss", "wall_time_s")


def _read_json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _same_config(directory: Path, config: dict) -> bool:
    try:
        saved = yaml.safe_load((directory / "config.yaml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    return saved == as_saved(config)


def _phase_steps(metrics: dict) -> str:
    """``adam 1000, lbfgs 36 (stalled)``: iterations per phase and how a phase that ended early stopped."""
    phases = metrics.get("phases")
    if not isinstance(phases, list):
        return ""
    return ", ".join(f"{p.get('optimizer')} {p.get('steps')}" + ("" if p.get("stopped") == "completed" else
                                                               f" ({p.get('stopped')})") for p in phases
                     if isinstance(p, dict))


def record(spec: RunSpec, metrics: dict) -> dict:
    def num(key: str) -> float | None:
        v = metrics.get(key)
        return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None

    status, message = metrics.get("status", "error"), metrics.get("message", "")
    rel = num("rel_l2")
    if status == "done" and spec.config["problem"].get("exact") is not None and not (rel is not None and math.isfinite(rel)):
        status, message = "failed", f"training finished but the prediction is not finite (rel L2 {rel}); {message}"
    return {"problem": spec.config["name"], "activation": spec.variant.label, "activation_name": spec.variant.name,
            "activation_params": spec.variant.params_text, "depth": spec.depth,
            "width": spec.config["network"]["width"], "seed": spec.seed, **{k: num(k) for k in _METRICS},
            "steps": metrics.get("steps"), "phase_steps": _phase_steps(metrics),
            "tuned": spec.tuned, "status": status, "message": message,
            "device": metrics.get("device"), "threads": metrics.get("threads"), "run": spec.run,
            **({} if spec.candidate is None else {"candidate": spec.candidate})}


def reusable_record(spec: RunSpec, out: Path, statuses: tuple[str, ...] = ("done", "failed")) -> dict | None:
    """The record of a run of ``spec`` already in ``out`` whose status is one of ``statuses``, else None.

    The default, finished runs, is what a sweep reuses; a report also shows ``error``/``interrupted`` runs as such.
    """
    directory = out / spec.run
    metrics = _read_json(directory / "metrics.json")
    if metrics and metrics.get("status") in statuses and _same_config(directory, spec.config):
        return record(spec, metrics)
    return None


def reusable_records(specs: list[RunSpec], out: Path) -> dict[int, dict]:
    """``{index in specs: record}`` of the finished runs: from the run folder, else (no ``metrics.json``, e.g. a
    fresh clone) from the sweep's ledger (:mod:`.ledger`) when its entry was made with the planned config.  A
    finished run folder the ledger does not hold yet is added to it (e.g. a sweep older than the ledger)."""
    ledger = read_ledger(out)
    found = {}
    for i, spec in enumerate(specs):
        entry = ledger.get(spec.run)
        same = entry is not None and entry.get("config") == config_hash(spec.config)
        rec = reusable_record(spec, out)
        if rec is not None and not (same and json.dumps(entry["record"]) == json.dumps(rec)):
            append_entry(out, spec.config, rec)
        elif (rec is None and same and entry["record"].get("status") in ("done", "failed")
              and not (out / spec.run / "metrics.json").exists()):  # the folder, where there is one, is newer
            rec = entry["record"]
        if rec is not None:
            found[i] = rec
    return found


def execute_run(spec: RunSpec, out: str | Path, *, should_stop: Callable[[], bool] | None = None,
                figures: bool = False) -> dict:
    """Run (or resume, see the module docstring) one run into ``out / spec.run``; never raises an Exception.

    Returns:
        the run's record (a row of ``summary.csv``); status ``error`` with the message if anything raised.
    """
    directory = Path(out) / spec.run
    try:
        outcome = None
        metrics = _read_json(directory / "metrics.json")
        if ((metrics is None or metrics.get("status") == "interrupted") and (directory / "model.pt").is_file()
                and _same_config(directory, spec.config)):
            try:
                outcome = _runs.resume_folder(directory, should_stop=should_stop, figures=figures)
            except Exception:  # a damaged checkpoint: start the run again
                outcome = None
        if outcome is None:
            outcome = _runs.run_to_folder(config_from_dict(copy.deepcopy(spec.config)), directory, overwrite=True,
                                          should_stop=should_stop, figures=figures)
        return record(spec, outcome.metrics)
    except Exception as exc:
        metrics = {"problem": spec.config["name"], "activation": spec.variant.name,
                   "activation_params": spec.variant.params, "depth": spec.depth, "seed": spec.seed,
                   "status": "error", "message": f"{type(exc).__name__}: {exc}".splitlines()[0]}
        try:
            write_metrics(directory, metrics)
            atomic_write(directory / "error.txt", traceback.format_exc())
        except Exception:
            pass
        return record(spec, metrics)
