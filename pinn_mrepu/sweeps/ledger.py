"""The sweep's ledger, ``<out>/ledger.jsonl``: the durable record of every finished run, small enough to commit.

Run folders hold checkpoints (``model.pt``, megabytes at depth 10 with a quasi-Newton phase) and per-step
histories, so they are not committed; a fresh clone of a repository with a half-finished sweep would then rerun
everything.  The ledger keeps, per finished (``done``/``failed``) run, one JSON line::

    {"run": "runs/tanh-d3-s0", "config": "<sha256 of the planned config, 16 hex>", "record": {...summary row...},
     "curve": [[step, phase, loss, rel_l2, elapsed_s], ...], "source": "run folder"}

``curve`` is the run's history thinned to at most ~100 rows (every monitored rel L2 row, the last row of each
phase and evenly spaced rows between; 4 significant digits), enough for ``loss_curves.png`` and
``error_vs_time.png``.  A sweep reuses a ledger entry like a finished run folder: only when the entry's config
hash equals the planned run's (so a changed problem file or override reruns the run).  Lines are appended by the
process driving the sweep, one per run as it finishes; a later line for the same run replaces an earlier one and
an unreadable line (a crash mid-write) is skipped.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import yaml

from .curves import read_history

__all__ = ["LEDGER", "as_saved", "config_hash", "read_ledger", "append_entry", "thin_curve", "curve_rows"]

LEDGER = "ledger.jsonl"
_MAX_EVEN = 60


def as_saved(config: dict):
    """``config`` as it reads back from a run folder's ``config.yaml`` (the YAML round trip)."""
    return yaml.safe_load(yaml.safe_dump(config, sort_keys=False))


def config_hash(config: dict) -> str:
    """A stable hash of a run's config (as saved, keys sorted)."""
    text = yaml.safe_dump(as_saved(config), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def read_ledger(out: str | Path) -> dict[str, dict]:
    """``{run: entry}`` from ``out/ledger.jsonl`` (empty when there is none); the last line of a run wins."""
    path = Path(out) / LEDGER
    entries: dict[str, dict] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return entries
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and isinstance(entry.get("run"), str) and isinstance(entry.get("record"), dict):
            entries[entry["run"]] = entry
    return entries


def _sig(value: float) -> float | None:
    return float(f"{value:.4g}") if math.isfinite(value) else None


def thin_curve(history: list[dict]) -> list[list]:
    """``[[step, phase, loss, rel_l2, elapsed_s], ...]``: the rows of ``history`` (as :func:`read_history` gives)
    with a monitored rel L2, the first and last row of every phase and at most 60 evenly spaced others."""
    n = len(history)
    keep = {round(i * (n - 1) / (_MAX_EVEN - 1)) for i in range(_MAX_EVEN)} if n > _MAX_EVEN else set(range(n))
    for i, row in enumerate(history):
        if math.isfinite(row["rel_l2"]) or i in (0, n - 1) or history[i - 1]["phase"] != row["phase"] or (
                i + 1 < n and history[i + 1]["phase"] != row["phase"]):
            keep.add(i)
    return [[history[i]["step"], history[i]["phase"], _sig(history[i]["loss"]), _sig(history[i]["rel_l2"]),
             _sig(history[i]["elapsed_s"])] for i in sorted(keep)]


def curve_rows(entry: dict) -> list[dict]:
    """A ledger entry's curve as :func:`read_history` rows (nan where nothing was logged)."""
    nan = lambda v: math.nan if v is None else float(v)  # noqa: E731
    return [{"step": int(s), "phase": str(ph), "loss": nan(loss), "rel_l2": nan(rel), "elapsed_s": nan(t)}
            for s, ph, loss, rel, t in entry.get("curve") or []]


def append_entry(out: str | Path, config: dict, record: dict, *, source: str = "run folder",
                 curve: list[list] | None = None) -> None:
    """Append the ledger line of a finished run (its curve from the run folder's history.csv unless given)."""
    out = Path(out)
    if curve is None:
        try:
            curve = thin_curve(read_history(out / record["run"] / "history.csv"))
        except (OSError, ValueError, KeyError):
            curve = []
    line = json.dumps({"run": record["run"], "config": config_hash(config), "record": record, "curve": curve,
                       "source": source})
    with open(out / LEDGER, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
