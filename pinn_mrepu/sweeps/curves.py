"""Training curves of a run folder's ``history.csv`` and their medians over seeds (no plotting, no matplotlib)."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["cumulative_loss", "error_vs_time", "median_curve", "read_history"]


def read_history(path: str | Path) -> list[dict]:
    """Rows of a run's ``history.csv``: ``step`` int, ``phase`` str, ``loss`` float, and ``rel_l2``, ``elapsed_s``
    floats (nan where the row has none: rel L2 is monitored every ``train.monitor_every`` steps)."""
    def num(row: Mapping, key: str) -> float:
        value = row.get(key)
        return float(value) if value not in (None, "") else math.nan

    with open(path, newline="", encoding="utf-8") as fh:
        return [{"step": int(row["step"]), "phase": row["phase"], "loss": float(row["loss"]),
                 "rel_l2": num(row, "rel_l2"), "elapsed_s": num(row, "elapsed_s")} for row in csv.DictReader(fh)]


def cumulative_loss(history: Sequence[Mapping]) -> tuple[np.ndarray, np.ndarray]:
    """``(x, loss)`` with x the step (iterations over all phases)."""
    x = np.array([int(r["step"]) for r in history], dtype=np.int64)
    return x, np.array([float(r["loss"]) for r in history], dtype=np.float64)


def error_vs_time(history: Sequence[Mapping]) -> tuple[np.ndarray, np.ndarray]:
    """``(elapsed_s, rel_l2)`` of the rows where both were logged."""
    rows = [r for r in history if math.isfinite(r.get("rel_l2", math.nan)) and math.isfinite(r.get("elapsed_s", math.nan))]
    return (np.array([float(r["elapsed_s"]) for r in rows], dtype=np.float64),
            np.array([float(r["rel_l2"]) for r in rows], dtype=np.float64))


def median_curve(curves: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Median over curves at every step that any of them logged.

    Each curve counts from its first logged step on with its latest value at or before the step; after its last
    step it keeps its final value (a run that ended early stays where it ended), so the set of curves in the
    median only grows and the median does not jump when a run stops.  Non-finite values are left out.
    """
    xs = np.unique(np.concatenate([c[0] for c in curves])) if curves else np.array([], dtype=np.int64)
    vals = np.full((len(curves), len(xs)), np.nan)
    for j, (xc, y) in enumerate(curves):
        k = np.searchsorted(xc, xs, side="right") - 1  # latest row at or before each step
        ok = k >= 0
        vals[j, ok] = np.asarray(y, dtype=np.float64)[k[ok]]
    vals[~np.isfinite(vals)] = np.nan
    med = np.full(len(xs), np.nan)
    some = np.any(~np.isnan(vals), axis=0)
    med[some] = np.nanmedian(vals[:, some], axis=0)
    return xs, med
