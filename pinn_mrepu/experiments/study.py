"""A resumable grid of experiment runs with a learning rate tuned per cell by the *training* loss.

A study is a list of **cells** (keyword arguments of a runner without ``seed`` and ``lr``: target or arch,
activation, depth ...), candidate learning rates ``lrs``, tuning seeds and main seeds.  Per cell:

1. every lr runs on every tuning seed; the chosen lr has the smallest median final training loss over the tuning
   seeds (a non-finite loss counts as +inf; ties go to the smaller lr).  Test data are never looked at;
2. the main seeds run with the chosen lr.  A tuning run that is also a main run (a tuning seed among the main
   seeds) is the same row and runs once.

With a single lr there is no tuning.  Every finished run is one row of ``<kind>.csv`` in the study folder,
rewritten atomically (:func:`pinn_mrepu.storage.atomic_write`) after each run; the choices and every candidate's
score go to ``<kind>_tuning.csv``.  Re-running the same study skips the rows already present (matched on the
configuration columns), so a long study spans sessions.
"""

from __future__ import annotations

import csv
import io
import math
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pinn_mrepu.errors import ConfigError
from pinn_mrepu.storage import atomic_write

from .digits import run_digits
from .regression import params_text, run_regression

__all__ = ["KINDS", "StudyResult", "choose_lr", "csv_text", "digits_cells", "parse_variants", "planned_runs",
           "read_rows", "regression_cells", "row_key", "run_study"]

#: kind -> (runner, the configuration columns that identify a run)
KINDS: dict[str, tuple[Callable[..., dict], tuple[str, ...]]] = {
    "regression": (run_regression, ("target", "activation", "params", "init", "depth", "width", "steps",
                                    "n_train", "n_test", "seed", "lr")),
    "digits": (run_digits, ("arch", "activation", "params", "init", "depth", "width", "epochs", "batch_size",
                            "seed", "lr")),
}
_INT = {"dim", "depth", "width", "seed", "steps", "n_train", "n_test", "steps_done", "epochs", "batch_size"}
_STR = {"target", "target_text", "activation", "params", "init", "status", "arch"}


def parse_variants(text: str) -> list[tuple[str, dict]]:
    """``"mrepu:2,mrepu:3,tanh"`` -> ``[("mrepu", {"p": 2}), ("mrepu", {"p": 3}), ("tanh", {})]``.

    Raises:
        ConfigError: an empty list or a power that is not an integer >= 1.
    """
    out = []
    for item in (s.strip() for s in str(text).split(",")):
        if not item:
            continue
        name, _, p = item.partition(":")
        if p:
            if not p.isdigit() or int(p) < 1:
                raise ConfigError("activations", item, "NAME:P needs an integer power P >= 1, e.g. mrepu:2")
            out.append((name, {"p": int(p)}))
        else:
            out.append((name, {}))
    if not out:
        raise ConfigError("activations", text, "must list at least one activation, e.g. mrepu:2,tanh")
    return out


def regression_cells(targets: Sequence[str], variants: Sequence[tuple[str, dict]], depths: Sequence[int], *,
                     width: int = 32, steps: int = 2000, init: str = "critical", n_train: int = 2000,
                     n_test: int = 2000) -> list[dict]:
    """Cells target x activation variant x depth (in that nesting order) for :func:`run_regression`."""
    return [dict(target=t, activation=a, params=dict(p), depth=int(d), width=width, steps=steps, init=init,
                 n_train=n_train, n_test=n_test) for t in targets for a, p in variants for d in depths]


def digits_cells(arch_depths: Sequence[tuple[str, int]], variants: Sequence[tuple[str, dict]], *,
                 width: int = 64, epochs: int = 30, init: str = "critical", batch_size: int = 64) -> list[dict]:
    """Cells (arch, depth) x activation variant for :func:`run_digits`."""
    return [dict(arch=arch, activation=a, params=dict(p), depth=int(d), width=width, epochs=epochs, init=init,
                 batch_size=batch_size) for arch, d in arch_depths for a, p in variants]


def _canon(name: str, value: object) -> str:
    if name == "params":
        return params_text(value) if isinstance(value, Mapping) else str(value)
    if name == "lr":
        return str(float(value))
    return str(value)


def row_key(values: Mapping[str, object], key_fields: Sequence[str]) -> tuple[str, ...]:
    """The identifying configuration of a run (a CSV row or a cell plus seed and lr) as canonical strings."""
    return tuple(_canon(k, values[k]) for k in key_fields)


def _convert(name: str, text: str):
    if name in _STR:
        return text
    if name in _INT:
        return int(text)
    try:
        return float(text)
    except ValueError:
        return text


def read_rows(path: str | Path) -> list[dict]:
    """The rows of a study CSV with numbers converted (an absent file is an empty study)."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: _convert(k, v) for k, v in row.items()} for row in csv.DictReader(fh)]


def csv_text(rows: Sequence[Mapping], columns: Sequence[str] | None = None) -> str:
    """CSV text of ``rows`` (columns: ``columns``, else every key in first-seen order)."""
    columns = list(columns or dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for r in rows:
        writer.writerow({k: r.get(k, "") for k in columns})
    return buf.getvalue()


def choose_lr(scores: Mapping[float, Sequence[float]]) -> tuple[float, dict[float, float]]:
    """The lr with the smallest median final training loss (non-finite = inf; ties: smaller lr) and the medians."""
    med = {lr: statistics.median([v if math.isfinite(v) else math.inf for v in vals]) if vals else math.inf
           for lr, vals in scores.items()}
    return min(sorted(med), key=lambda lr: med[lr]), med


def planned_runs(n_cells: int, *, seeds: Sequence[int], lrs: Sequence[float], tune_seeds: Sequence[int]) -> int:
    """Number of distinct runs of a complete study."""
    if len(lrs) <= 1:
        return n_cells * len(set(seeds))
    return n_cells * (len(lrs) * len(set(tune_seeds)) + len(set(seeds) - set(tune_seeds)))


@dataclass
class StudyResult:
    """``rows`` (all finished runs), ``choices`` (one dict per tuned cell), ``done`` of ``planned`` runs,
    ``ran`` (runs executed by this call), ``status`` (complete/partial) and a one-line ``message``."""

    rows: list[dict]
    choices: list[dict]
    planned: int
    done: int
    ran: int
    status: str
    message: str
    kind: str = "regression"
    main_keys: set = field(default_factory=set)

    @property
    def main_rows(self) -> list[dict]:
        """The rows of the main seeds at each cell's chosen lr (what the tables summarise)."""
        key_fields = KINDS[self.kind][1]
        return [r for r in self.rows if row_key(r, key_fields) in self.main_keys]


def run_study(kind: str, cells: Sequence[Mapping], out_dir: str | Path, *, seeds: Sequence[int],
              lrs: Sequence[float], tune_seeds: Sequence[int] = (0,), time_limit_s: float | None = None,
              should_stop: Callable[[], bool] | None = None,
              on_run: Callable[[dict], None] | None = None) -> StudyResult:
    """Run (or resume) a study of ``kind`` (``regression`` or ``digits``) into ``out_dir``.

    ``on_run`` receives ``{"done", "planned", "row", "skipped"}`` after each run (or skip); ``should_stop`` and
    ``time_limit_s`` end the study early between runs (status ``partial``).  A run that diverges is a row with
    that status, never an exception.

    Raises:
        ConfigError: unknown kind or an empty grid.  OSError: the study files cannot be written.
    """
    if kind not in KINDS:
        raise ConfigError("kind", kind, f"must be one of {', '.join(KINDS)}")
    if not cells or not seeds or not lrs:
        raise ConfigError("study", len(cells), "needs at least one cell, one seed and one lr")
    runner, key_fields = KINDS[kind]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    runs_csv, tuning_csv = out / f"{kind}.csv", out / f"{kind}_tuning.csv"
    rows = read_rows(runs_csv)
    columns = list(rows[0]) if rows else None
    index = {row_key(r, key_fields): r for r in rows}
    planned = planned_runs(len(cells), seeds=seeds, lrs=lrs, tune_seeds=tune_seeds)
    lrs = sorted(dict.fromkeys(float(v) for v in lrs))
    tune = list(dict.fromkeys(int(s) for s in tune_seeds)) if len(lrs) > 1 else []
    start, ran, choices, main_keys, stopped = time.perf_counter(), 0, [], set(), False

    def stop_now() -> bool:
        return bool((should_stop and should_stop())
                    or (time_limit_s is not None and time.perf_counter() - start >= time_limit_s))

    def get(cell: Mapping, seed: int, lr: float) -> dict | None:
        nonlocal ran, columns
        key = row_key({**cell, "seed": seed, "lr": lr}, key_fields)
        if key in index:
            if on_run:
                on_run({"done": len(index), "planned": planned, "row": index[key], "skipped": True})
            return index[key]
        if stop_now():
            return None
        row = runner(**cell, seed=seed, lr=lr)
        rows.append(row)
        index[key] = row
        columns = columns or list(row)
        atomic_write(runs_csv, csv_text(rows, columns))
        ran += 1
        if on_run:
            on_run({"done": len(index), "planned": planned, "row": row, "skipped": False})
        return row

    for cell in cells:
        if tune:
            scores: dict[float, list[float]] = {}
            for lr in lrs:
                for s in tune:
                    row = get(cell, s, lr)
                    if row is None:
                        stopped = True
                        break
                    scores.setdefault(lr, []).append(float(row["train_loss"]))
                if stopped:
                    break
            if stopped:
                break
            chosen, med = choose_lr(scores)
            base = {k: _canon(k, cell[k]) for k in key_fields if k not in ("seed", "lr")}
            choices.extend({**base, "lr": lr, "tune_seeds": " ".join(map(str, tune)), "median_train_loss": med[lr],
                            "chosen": lr == chosen} for lr in lrs)
            atomic_write(tuning_csv, csv_text(choices))
        else:
            chosen = lrs[0]
        for s in dict.fromkeys(int(v) for v in seeds):
            if get(cell, s, chosen) is None:
                stopped = True
                break
            main_keys.add(row_key({**cell, "seed": s, "lr": chosen}, key_fields))
        if stopped:
            break
    done = sum(1 for c in cells for k in _cell_keys(c, key_fields, seeds, lrs, tune, choices) if k in index)
    status = "complete" if done >= planned and not stopped else "partial"
    message = f"{status}: {done} of {planned} runs ({ran} run now, {len(rows) - ran} found)"
    return StudyResult(rows=rows, choices=choices, planned=planned, done=done, ran=ran, status=status,
                       message=message, kind=kind, main_keys=main_keys)


def _cell_keys(cell: Mapping, key_fields: Sequence[str], seeds, lrs, tune, choices) -> set:
    """The distinct run keys a complete cell needs (its chosen lr when known, else the first)."""
    base = {k: _canon(k, cell[k]) for k in key_fields if k not in ("seed", "lr")}
    chosen = next((c["lr"] for c in choices if c["chosen"] and all(c[k] == v for k, v in base.items())), lrs[0])
    keys = {row_key({**cell, "seed": s, "lr": lr}, key_fields) for lr in lrs for s in tune}
    keys |= {row_key({**cell, "seed": s, "lr": chosen}, key_fields) for s in seeds}
    return keys
