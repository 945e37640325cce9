"""Summary statistics of an activation sweep and the ``summary.csv`` / ``summary.md`` writers.

A *record* is one run of the sweep (a row of ``summary.csv``): a mapping with at least ``activation`` (the
variant label, e.g. ``mrepu-p2``), ``depth``, ``seed``, ``rel_l2``, ``wall_time_s`` and ``status`` (``done``,
``failed``, ``error``; ``interrupted`` / ``pending`` for runs a stopped sweep did not finish).

Conventions used in every table:

- a run *fails* when its status is ``failed`` (non-finite loss) or ``error`` (an exception); failures are
  counted but excluded from the error statistics;
- error statistics (median, mean, std, best, Mann–Whitney U) use the ``done`` runs with a finite rel L2;
  ``std`` is the sample standard deviation (ddof = 1);
- the Mann–Whitney U test is two-sided (:func:`scipy.stats.mannwhitneyu`, ``method="auto"``: exact for small
  samples without ties); with fewer than 2 finished runs in either group the test is reported as n/a.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from pinn_mrepu.storage import atomic_write

__all__ = ["CSV_COLUMNS", "FAILED", "finished_errors", "group_summary", "mann_whitney_tests", "format_csv",
           "format_markdown", "format_number", "write_summaries"]

#: Columns of ``summary.csv``, in order.
CSV_COLUMNS = ("problem", "activation", "activation_name", "activation_params", "depth", "width", "seed",
               "rel_l2", "max_abs_error", "mean_abs_residual", "final_loss", "wall_time_s", "steps",
               "phase_steps", "tuned", "status", "message", "device", "threads", "run")

#: Statuses that count as failures.
FAILED = ("failed", "error")
_RAN = ("done",) + FAILED


def _float(value: object) -> float:
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan


def _name(record: Mapping) -> str:
    return str(record.get("activation_name") or str(record["activation"]).split("-")[0])


def finished_errors(records: Iterable[Mapping]) -> np.ndarray:
    """rel L2 errors of the ``done`` runs among ``records`` with a finite value (float64 array)."""
    vals = [_float(r.get("rel_l2")) for r in records if r.get("status") == "done"]
    return np.array([v for v in vals if math.isfinite(v)], dtype=np.float64)


def _labels(records: Sequence[Mapping]) -> list[str]:
    return list(dict.fromkeys(str(r["activation"]) for r in records))


def _depths(records: Sequence[Mapping]) -> list[int]:
    return sorted({int(r["depth"]) for r in records})


def group_summary(records: Sequence[Mapping]) -> list[dict]:
    """Statistics per (activation label, depth), labels in order of appearance, depths ascending.

    Returns:
        dicts with ``activation``, ``depth``, ``runs`` (done + failed + error), ``failures``, ``unfinished``
        (interrupted or pending), ``n`` (finished runs used for the statistics), ``median``, ``mean``, ``std``,
        ``best`` (NaN when n = 0; std NaN when n < 2) and ``mean_wall_time_s`` (over runs that trained).
    """
    out = []
    for label in _labels(records):
        for depth in _depths(records):
            group = [r for r in records if str(r["activation"]) == label and int(r["depth"]) == depth]
            if not group:
                continue
            errs = finished_errors(group)
            n = len(errs)
            walls = [_float(r.get("wall_time_s")) for r in group if r.get("status") in ("done", "failed")]
            walls = [w for w in walls if math.isfinite(w)]
            out.append({
                "activation": label, "depth": depth,
                "runs": sum(r.get("status") in _RAN for r in group),
                "failures": sum(r.get("status") in FAILED for r in group),
                "unfinished": sum(r.get("status") not in _RAN for r in group),
                "n": n,
                "median": float(np.median(errs)) if n else math.nan,
                "mean": float(np.mean(errs)) if n else math.nan,
                "std": float(np.std(errs, ddof=1)) if n >= 2 else math.nan,
                "best": float(np.min(errs)) if n else math.nan,
                "mean_wall_time_s": float(np.mean(walls)) if walls else math.nan,
            })
    return out


def mann_whitney_tests(records: Sequence[Mapping], *, reference: str = "mrepu") -> list[dict]:
    """Two-sided Mann–Whitney U test of each ``reference`` variant against each other activation, per depth.

    Args:
        records: sweep records.
        reference: activation name (``activation_name``) whose variants are tested against the baselines.

    Returns:
        dicts with ``depth``, ``activation`` (reference label), ``baseline``, ``n_activation``, ``n_baseline``,
        ``median_activation``, ``median_baseline``, ``U`` (statistic of the reference sample) and ``p`` (both
        ``None`` when a group has fewer than 2 finished runs).
    """
    from scipy.stats import mannwhitneyu

    labels = _labels(records)
    names = {str(r["activation"]): _name(r) for r in records}
    refs = [lab for lab in labels if names[lab] == reference]
    bases = [lab for lab in labels if names[lab] != reference]
    out = []
    for depth in _depths(records):
        def errs(label: str) -> np.ndarray:
            return finished_errors(r for r in records if str(r["activation"]) == label and int(r["depth"]) == depth)

        for ref in refs:
            x = errs(ref)
            for base in bases:
                y = errs(base)
                u = p = None
                if len(x) >= 2 and len(y) >= 2:
                    res = mannwhitneyu(x, y, alternative="two-sided")
                    u, p = float(res.statistic), float(res.pvalue)
                out.append({"depth": depth, "activation": ref, "baseline": base, "n_activation": len(x),
                            "n_baseline": len(y), "median_activation": float(np.median(x)) if len(x) else math.nan,
                            "median_baseline": float(np.median(y)) if len(y) else math.nan, "U": u, "p": p})
    return out


# ------------------------------------------------------------------------------------------------ writing

def format_number(value: object, spec: str = ".3e") -> str:
    """``value`` formatted with ``spec``; ``n/a`` for None or NaN."""
    v = _float(value)
    return "n/a" if value is None or not math.isfinite(v) else format(v, spec)


def format_csv(records: Sequence[Mapping]) -> str:
    """``summary.csv`` text: :data:`CSV_COLUMNS`, one row per record; missing values are empty cells."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for r in records:
        row = {}
        for k in CSV_COLUMNS:
            v = r.get(k)
            row[k] = "" if v is None or (isinstance(v, float) and math.isnan(v)) else v
        writer.writerow(row)
    return buf.getvalue()


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def format_markdown(records: Sequence[Mapping], meta: Mapping[str, object]) -> str:
    """``summary.md``: provenance header (``meta`` items, in order), per-group statistics, Mann–Whitney tests.

    Args:
        records: sweep records.
        meta: ordered header items, e.g. ``{"command": ..., "problem": ..., "seeds": ..., "machine": ...}``;
            the key ``notes`` (a list of strings) is rendered as a list at the end.
    """
    title = f"# Activation comparison: {meta.get('problem', '')}".rstrip(": ")
    lines = [title, ""]
    for key, value in meta.items():
        if key in ("notes", "sections"):
            continue
        text = f"`{value}`" if key == "command" else str(value)
        lines.append(f"- **{key}**: {text}")
    lines += ["", "## rel L2 error per activation and depth", "",
              "Statistics over the finished runs (status `done`, finite rel L2) of each group; `n` is their number. "
              "Failed runs (non-finite loss: `failed`; exception: `error`) count as failures and are excluded "
              "from the error statistics. std is the sample standard deviation (ddof = 1).", ""]
    rows = []
    for g in group_summary(records):
        fail = f"{g['failures']}/{g['runs']}" + (f" ({g['unfinished']} unfinished)" if g["unfinished"] else "")
        mean = "n/a" if g["n"] == 0 else f"{format_number(g['mean'])} ± {format_number(g['std'])}"
        rows.append([g["activation"], str(g["depth"]), str(g["n"]), format_number(g["median"]), mean,
                     format_number(g["best"]), fail, format_number(g["mean_wall_time_s"], ".1f")])
    lines += _table(["activation", "depth", "n", "median", "mean ± std", "best", "failures/runs", "mean wall time (s)"], rows)
    tests = mann_whitney_tests(records)
    lines += ["", "## Mann–Whitney U tests (two-sided) of MRePU against each baseline", ""]
    if not tests:
        lines.append("No test: the sweep needs an `mrepu` variant and at least one other activation.")
    else:
        lines += ["Per depth, the rel L2 errors of the finished runs of each MRePU variant against those of each "
                  "baseline (`scipy.stats.mannwhitneyu`, two-sided). U is the statistic of the MRePU sample "
                  "(small U: MRePU errors lower). n/a: fewer than 2 finished runs in a group.", ""]
        rows = [[str(t["depth"]), t["activation"], t["baseline"], str(t["n_activation"]), str(t["n_baseline"]),
                 format_number(t["median_activation"]), format_number(t["median_baseline"]),
                 format_number(t["U"], ".1f"), format_number(t["p"], ".3g")] for t in tests]
        lines += _table(["depth", "MRePU", "baseline", "n MRePU", "n baseline", "median MRePU", "median baseline",
                         "U", "p-value"], rows)
    for section in meta.get("sections") or []:  # type: ignore[union-attr]
        lines += ["", str(section).rstrip("\n")]
    notes = list(meta.get("notes") or [])  # type: ignore[arg-type]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(lines) + "\n"


def write_summaries(directory: str | Path, records: Sequence[Mapping], meta: Mapping[str, object]) -> None:
    """Write ``summary.csv`` and ``summary.md`` into ``directory`` (atomically)."""
    directory = Path(directory)
    atomic_write(directory / "summary.csv", format_csv(records))
    atomic_write(directory / "summary.md", format_markdown(records, meta))
