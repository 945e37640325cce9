"""Headline tables of the converged activation study from its per-problem summaries.

    python benchmarks/study_table.py [--root results/study] [--problems heat,poisson2d,burgers,kdv] [--scorecard]

Reads ``<root>/<problem>/summary.csv`` (written by ``pinn-mrepu compare``, see benchmarks/converged_study.sh) and
prints, per problem, a markdown table of the median rel L2 over the finished seeds per activation and depth (best
median per depth in bold; failures and unfinished runs counted), then a two-sided Mann–Whitney U test of each
MRePU variant against tanh and against the best other activation per depth.  Nothing is recomputed from the run
folders: the table is a view of the committed summary.csv files, so it is reproducible from the repository.

``--scorecard`` adds, per problem and depth, the verdict of MRePU's best variant (the one with the lowest median
rel L2: a pick made after the fact, which favours MRePU, but not by the p-values) against tanh and against the best
other activation: ``better`` / ``worse`` when significantly lower / higher (two-sided p < 0.05), else ``tie``; no
correction for the number of tests.
"""

from __future__ import annotations

import argparse
import csv
import math
from pathlib import Path

from pinn_mrepu.sweeps.stats import group_summary, mann_whitney_tests


def _fmt(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.1e}"


def _lowest(groups: list[dict], depth: int, mrepu: bool) -> str | None:
    """The activation with the lowest median at ``depth`` among the MRePU variants (or among the others)."""
    ranked = sorted((g["median"], g["activation"]) for g in groups
                    if g["depth"] == depth and g["n"] and g["activation"].startswith("mrepu") == mrepu)
    return ranked[0][1] if ranked else None


def _versus(t: dict) -> tuple[float, float, str]:
    """(median ratio, p, ``lower`` / ``higher`` when p < 0.05 else ``""``) of one Mann-Whitney test row."""
    ratio = t["median_activation"] / t["median_baseline"]
    p = math.nan if t["p"] is None else t["p"]
    return ratio, p, ("lower" if ratio < 1 else "higher") if p < 0.05 else ""


def problem_table(records: list[dict]) -> list[str]:
    groups = group_summary(records)
    depths = sorted({g["depth"] for g in groups})
    labels = list(dict.fromkeys(g["activation"] for g in groups))
    cell = {(g["activation"], g["depth"]): g for g in groups}
    best = {d: min((g["median"] for g in groups if g["depth"] == d and g["n"]), default=math.nan) for d in depths}
    lines = ["| activation | " + " | ".join(f"depth {d}" for d in depths) + " |",
             "|---|" + "---|" * len(depths)]
    for lab in labels:
        row = []
        for d in depths:
            g = cell.get((lab, d))
            if g is None:
                row.append("")
                continue
            text = _fmt(g["median"])
            if g["n"] and g["median"] == best[d]:
                text = f"**{text}**"
            notes = []
            if g["failures"]:
                notes.append(f"{g['failures']} failed")
            if g["unfinished"]:
                notes.append(f"{g['unfinished']} to run")
            if g["n"] and g["n"] < 5 and not notes:
                notes.append(f"n={g['n']}")
            row.append(text + (f" ({', '.join(notes)})" if notes else ""))
        lines.append(f"| {lab} | " + " | ".join(row) + " |")

    tests = []
    by_pair = {(t["depth"], t["activation"], t["baseline"]): t for t in mann_whitney_tests(records)}
    for d in depths:
        rival = _lowest(groups, d, mrepu=False)
        for m in (lab for lab in labels if lab.startswith("mrepu")):
            parts = []
            for base in dict.fromkeys(b for b in ("tanh", rival) if b):
                t = by_pair.get((d, m, base))
                if t is None or not t["n_activation"] or not t["n_baseline"]:
                    continue
                ratio, p, sign = _versus(t)
                verdict = sign or "no significant difference"
                parts.append(f"vs {base} {ratio:.2g}× the median, p = {_fmt(p) if p < 1e-3 else f'{p:.2g}'} ({verdict})")
            if parts:
                tests.append(f"- depth {d}, {m}: " + "; ".join(parts))
    return lines + [""] + tests


def scorecard(records: list[dict]) -> list[str]:
    """Per depth: MRePU's lowest-median variant against tanh and against the lowest-median other activation."""
    groups = group_summary(records)
    by_pair = {(t["depth"], t["activation"], t["baseline"]): t for t in mann_whitney_tests(records)}
    lines = ["| depth | best MRePU | vs tanh | best other | vs best other |", "|---|---|---|---|---|"]
    for d in sorted({g["depth"] for g in groups}):
        rival, best = _lowest(groups, d, mrepu=False), _lowest(groups, d, mrepu=True)
        if not (rival and best):
            continue
        row = []
        for base in ("tanh", rival):
            t = by_pair.get((d, best, base))
            if t is None or t["p"] is None:
                row.append("n/a")
                continue
            ratio, p, sign = _versus(t)
            verdict = {"lower": "better", "higher": "worse"}.get(sign, "tie")
            row.append(f"{verdict} ({ratio:.2g}×, p = {p:.2g})")
        lines.append(f"| {d} | {best} | {row[0]} | {rival} | {row[1]} |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default="results/study")
    ap.add_argument("--problems", default="heat,poisson2d,burgers,kdv")
    ap.add_argument("--scorecard", action="store_true", help="add MRePU's best verdict per depth (see above)")
    args = ap.parse_args()
    for problem in args.problems.split(","):
        path = Path(args.root) / problem / "summary.csv"
        if not path.is_file():
            print(f"## {problem}\n\nnot started ({path} missing)\n")
            continue
        with open(path, newline="", encoding="utf-8") as fh:
            records = list(csv.DictReader(fh))
        done = sum(r["status"] in ("done", "failed", "error") for r in records)
        print(f"## {problem} ({done} of {len(records)} study runs finished)\n")
        print("Median rel L2 over seeds 0-4 (tuned per activation and depth; failed runs excluded from the median):\n")
        print("\n".join(problem_table(records)) + "\n")
        if args.scorecard:
            print("Scorecard (MRePU's lowest-median variant; better / worse: p < 0.05, else tie):\n")
            print("\n".join(scorecard(records)) + "\n")


if __name__ == "__main__":
    main()
