"""Fair tuning for sweeps: pick per activation (and depth) among candidate settings, never looking at the exact
solution.

``--tune KEY=V1,V2,...`` (repeatable) gives candidate values for config keys (e.g. ``train.phases.adam.lr``, an
init ``network.init={c_w: 1.0, c_b: 0.0},...``); the candidates are the cartesian product of the lists.  Every
(activation, depth, candidate) is trained on the *tuning seeds* (disjoint from the study's seeds); the candidate
with the lowest median score wins, where the score is

- ``loss``: the final training loss (the default), or
- ``residual``: the mean |PDE residual| on fresh uniform interior points (``mean_abs_residual``);

a failed run scores +inf.  Ties keep the earlier candidate.  The study's runs then use the chosen values.  Neither
score reads the exact solution, so tuning cannot leak the answer into the comparison.
"""

from __future__ import annotations

import csv
import io
import itertools
import math
import statistics
from collections.abc import Mapping, Sequence

import yaml

from pinn_mrepu.config.overrides import load_yaml
from pinn_mrepu.errors import ConfigError

from .plan import SWEEP_KEYS

__all__ = ["TUNE_SCORES", "parse_tune", "candidate_overrides", "choose", "tuning_markdown", "tuning_rows", "tuning_csv"]

#: score name -> record key (lower is better)
TUNE_SCORES = {"loss": "final_loss", "residual": "mean_abs_residual"}
_MAX_CANDIDATES = 64


def parse_tune(items: Sequence[str]) -> dict[str, list]:
    """``["train.phases.adam.lr=1e-3,3e-3"]`` -> ``{"train.phases.adam.lr": [0.001, 0.003]}`` (YAML values)."""
    out: dict[str, list] = {}
    for item in items:
        key, sep, rhs = str(item).partition("=")
        key = key.strip()
        if not sep or not key or not rhs.strip():
            raise ConfigError("--tune", item, "must be KEY=V1,V2,... e.g. train.phases.adam.lr=1e-3,3e-3")
        if any(key == k or key.startswith(k + ".") for k in SWEEP_KEYS):
            raise ConfigError("--tune", item, "tunes a key the sweep sets (use --activations, --p, --depths, --seeds)")
        if key in out:
            raise ConfigError("--tune", item, f"gives {key} twice")
        try:
            values = load_yaml(f"[{rhs}]")
        except (yaml.YAMLError, ConfigError):
            raise ConfigError("--tune", item, "the values must be a comma-separated list of YAML values") from None
        if not isinstance(values, list) or len(values) < 2 or len({repr(v) for v in values}) != len(values):
            raise ConfigError("--tune", item, "needs at least two distinct candidate values")
        out[key] = values
    total = math.prod(len(v) for v in out.values()) if out else 0
    if total > _MAX_CANDIDATES:
        raise ConfigError("--tune", list(items), f"gives {total} candidate combinations (at most {_MAX_CANDIDATES})")
    return out


def _text(value: object) -> str:
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def candidate_overrides(tune: Mapping[str, list]) -> list[list[str]]:
    """One ``--set`` list per candidate combination, in cartesian-product order."""
    keys = list(tune)
    return [[f"{k}={_text(v)}" for k, v in zip(keys, combo)] for combo in itertools.product(*(tune[k] for k in keys))]


_FINISHED = ("done", "failed", "error")


def _score(records: Sequence[dict], key: str) -> float:
    """Median score of a candidate's finished runs (a failure is +inf); NaN while none has finished."""
    values = [r[key] if r["status"] == "done" and isinstance(r.get(key), float) and math.isfinite(r[key]) else math.inf
              for r in records if r["status"] in _FINISHED]
    return statistics.median(values) if values else math.nan


def choose(records: Sequence[dict], n_candidates: int, by: str) -> dict[tuple[str, int], tuple[int, list[float]]]:
    """Per ``(activation label, depth)``: ``(index of the chosen candidate, median score of every candidate)``.

    ``records`` are the tuning runs' records, each with a ``candidate`` index.  A candidate none of whose runs has
    finished scores NaN and the group's index is -1 (no choice yet).
    """
    key = TUNE_SCORES[by]
    groups: dict[tuple[str, int], list[list[dict]]] = {}
    for r in records:
        groups.setdefault((r["activation"], r["depth"]), [[] for _ in range(n_candidates)])[r["candidate"]].append(r)
    out = {}
    for group, per in groups.items():
        scores = [_score(rs, key) for rs in per]
        if any(math.isnan(v) for v in scores):  # not every candidate has run yet: no choice
            out[group] = (-1, scores)
            continue
        best = min(range(n_candidates), key=lambda k: (scores[k], k))
        out[group] = (best, scores)
    return out


def tuning_rows(choice: Mapping[tuple[str, int], tuple[int, list[float]]],
                candidates: Sequence[Sequence[str]]) -> list[dict]:
    """Flat rows (activation, depth, candidate, score, chosen) for tuning.csv."""
    return [{"activation": lab, "depth": d, "candidate": "; ".join(candidates[k]), "score": s, "chosen": k == best}
            for (lab, d), (best, scores) in choice.items() for k, s in enumerate(scores)]


def tuning_markdown(choice: Mapping[tuple[str, int], tuple[int, list[float]]], candidates: Sequence[Sequence[str]],
                    *, by: str, seeds: Sequence[int]) -> str:
    """The tuning section of summary.md: every candidate's median score, the chosen one in bold."""
    head = ["activation", "depth", *("; ".join(c) for c in candidates)]
    lines = [f"## Tuning (score: median {TUNE_SCORES[by]} over tuning seeds {', '.join(map(str, seeds))}; "
             "lower is better; the exact solution is never used)", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (lab, d), (best, scores) in choice.items():
        cells = [("not run yet" if math.isnan(s) else f"**{s:.3g}**" if k == best else f"{s:.3g}")
                 for k, s in enumerate(scores)]
        lines.append(f"| {lab} | {d} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def tuning_csv(rows: list[dict]) -> str:
    """tuning.csv text from :func:`tuning_rows`."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["activation", "depth", "candidate", "score", "chosen"],
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()
