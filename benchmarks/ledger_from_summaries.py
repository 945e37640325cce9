"""One-off (session 8): ledger.jsonl for the converged-study runs finished before the ledger existed.

Sessions 5-7 committed only summary.csv and tuning.csv of results/study/<target>/ (run folders hold checkpoints
and are git-ignored); a fresh clone would rerun those runs.  This script plans every run exactly as
benchmarks/converged_study.sh does (same problem files, overrides, tuning candidates and chosen values: the
problem files and the config schema are unchanged since the study started, `git log -- problems
pinn_mrepu/config/schema.py`), and appends one ledger line per finished run found in the committed CSVs:

- a study run: its summary.csv row as the record (status done or failed; pending rows are skipped);
- a tuning run (one tuning seed, so a candidate's score is its run's final loss): status done with that final
  loss, or failed when the score is inf; candidates not run yet (nan) are skipped.

The entries say ``source: summary.csv`` / ``tuning.csv`` and carry no curve (the histories were lost with the
run folders), so loss_curves.png and error_vs_time.png leave these runs out and say so.

    python benchmarks/ledger_from_summaries.py [heat poisson2d burgers kdv heat-w50]
"""

from __future__ import annotations

import csv
import math
import os
import sys
from pathlib import Path

from pinn_mrepu.sweeps.execute import record
from pinn_mrepu.sweeps.ledger import append_entry, read_ledger
from pinn_mrepu.sweeps.plan import plan_sweep
from pinn_mrepu.sweeps.tune import candidate_overrides, parse_tune

ROOT = Path(__file__).resolve().parents[1]
ACTS = "mrepu:2,mrepu:3,tanh,repu:2,repu:3,gelu,silu,sin,relu"
TUNE = ["train.phases.adam.lr=1e-3,3e-3", "network.init=critical,glorot_normal"]
TARGETS = {  # target: (problem, activations, depths, overrides) as in converged_study.sh
    "heat": ("heat", ACTS, "3,10,5,7", ["train.phases.ssbroyden.steps=1000"]),
    "poisson2d": ("poisson2d", ACTS, "3,10,5,7", ["train.phases.ssbroyden.steps=1500"]),
    "burgers": ("burgers", ACTS, "3,10,5,7", ["train.phases.ssbroyden.steps=1500"]),
    "kdv": ("kdv", ACTS + ",mrepu:4", "3,10,5,7", ["train.phases.ssbroyden.steps=1000"]),
    "heat-w50": ("heat", "mrepu:2,mrepu:3,tanh,gelu,silu,sin", "3,5",
                 ["train.phases.ssbroyden.steps=1000", "network.width=50"]),
}
_FLOAT = ("rel_l2", "max_abs_error", "mean_abs_residual", "final_loss", "wall_time_s")
_INT = ("depth", "width", "seed", "steps", "threads")


def _typed(row: dict, template: dict) -> dict:
    """A summary.csv row with the types of a record (keys in the record's order)."""
    def value(key: str):
        text = row.get(key, "")
        if text == "":
            return None
        return float(text) if key in _FLOAT else int(text) if key in _INT else text
    return {key: value(key) for key in template}


def backfill(target: str) -> tuple[int, int]:
    name, acts, depths, overrides = TARGETS[target]
    out = ROOT / "results" / "study" / target
    problem = f"problems/{name}.yaml"  # as converged_study.sh gives it, from the repository root
    candidates = candidate_overrides(parse_tune(TUNE))
    texts = ["; ".join(c) for c in candidates]
    with open(out / "tuning.csv", newline="", encoding="utf-8") as fh:
        tuning = list(csv.DictReader(fh))
    with open(out / "summary.csv", newline="", encoding="utf-8") as fh:
        summary = {r["run"]: r for r in csv.DictReader(fh)}
    have = read_ledger(out)
    n_study = n_tune = 0
    for row in tuning:
        k, score, depth = texts.index(row["candidate"]), float(row["score"]), int(row["depth"])
        if math.isnan(score):
            continue
        spec = next(s for s in plan_sweep(problem, activations=acts, depths=[depth], seeds=[100],
                                          overrides=overrides + candidates[k], out=out, folder=f"tune/c{k}",
                                          candidate=k).runs if s.variant.label == row["activation"])
        if spec.run not in have:
            status = "done" if math.isfinite(score) else "failed"
            rec = record(spec, {"final_loss": score if status == "done" else None})
            # status set after record(), which would call a done run without a rel L2 failed
            rec.update(status=status, message="restored from tuning.csv (run folder lost; only the score is known)")
            append_entry(out, spec.config, rec, source="tuning.csv", curve=[])
            n_tune += 1
        if row["chosen"] != "True":
            continue
        for spec in plan_sweep(problem, activations=acts, depths=[depth], seeds="0-4", overrides=overrides,
                               out=out, extra=lambda v, d: list(candidates[k])).runs:
            row_s = summary.get(spec.run)
            if (spec.variant.label != row["activation"] or spec.run in have or row_s is None
                    or row_s["status"] not in ("done", "failed")):
                continue
            rec = _typed(row_s, record(spec, {}))
            assert rec["tuned"] == spec.tuned, (spec.run, rec["tuned"], spec.tuned)
            append_entry(out, spec.config, rec, source="summary.csv", curve=[])
            n_study += 1
    return n_study, n_tune


if __name__ == "__main__":
    os.chdir(ROOT)
    for t in sys.argv[1:] or list(TARGETS):
        print(t, "study runs %d, tuning runs %d appended" % backfill(t))
