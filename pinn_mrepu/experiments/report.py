"""Tables (markdown + CSV) and figures (``matplotlib.figure.Figure``, no pyplot) of an experiment study.

Regression, per (target, activation, init, depth) over the main seeds: median test MSE and median H1 error over
the runs that stayed finite, and failure counts (diverged: non-finite; failed: test MSE >= the target's
variance).  Digits, per (arch, activation, init, depth): test accuracy mean +- std over the runs that stayed
finite, and trainability counts (diverged; chance: test accuracy < 0.2).

Files: ``<kind>_summary.csv``, ``<kind>_report.md`` and ``<kind>_<metric>_vs_depth.png`` in the study folder.
"""

from __future__ import annotations

import io
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from pinn_mrepu.storage import atomic_write

from .study import csv_text

__all__ = ["GROUP_FIELDS", "SUMMARY_COLUMNS", "format_number", "label", "markdown_report", "summarise",
           "write_report"]

GROUP_FIELDS = {"regression": ("target", "activation", "params", "init", "depth"),
                "digits": ("arch", "activation", "params", "init", "depth")}
SUMMARY_COLUMNS = {
    "regression": (*GROUP_FIELDS["regression"], "lr", "n", "diverged", "failed", "median_test_mse", "target_var",
                   "median_rel_test_mse", "median_h1_mse", "median_h1_rel", "median_train_loss"),
    "digits": (*GROUP_FIELDS["digits"], "lr", "n", "diverged", "chance", "mean_test_acc", "std_test_acc",
               "mean_train_acc"),
}


def label(row: Mapping) -> str:
    """``mrepu p=2`` (plus `` [glorot_normal]`` when the init is not critical)."""
    params = str(row.get("params") or "").replace(",", " ")
    text = f"{row['activation']} {params}".strip()
    return text if row.get("init", "critical") == "critical" else f"{text} [{row['init']}]"


def format_number(x: float) -> str:
    """3 significant digits (``nan`` as ``-``)."""
    if x is None or not math.isfinite(x):
        return "-"
    return f"{x:.3g}" if 1e-3 <= abs(x) < 1e4 or x == 0 else f"{x:.2e}"


def _finite(vals) -> list[float]:
    return [float(v) for v in vals if isinstance(v, (int, float)) and math.isfinite(v)]


def _median(vals) -> float:
    vals = _finite(vals)
    return statistics.median(vals) if vals else math.nan


def summarise(kind: str, rows: Sequence[Mapping]) -> list[dict]:
    """One summary dict per group (columns :data:`SUMMARY_COLUMNS`), in first-seen order."""
    groups: dict[tuple, list[Mapping]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in GROUP_FIELDS[kind]), []).append(r)
    out = []
    for key, rs in groups.items():
        s = dict(zip(GROUP_FIELDS[kind], key))
        s["lr"] = " ".join(sorted({format_number(float(r["lr"])) for r in rs}))
        s["n"], s["diverged"] = len(rs), sum(r["status"] == "diverged" for r in rs)
        if kind == "regression":
            s["failed"] = sum(r["status"] == "failed" for r in rs)
            for col in ("test_mse", "rel_test_mse", "h1_mse", "h1_rel", "train_loss"):
                s[f"median_{col}"] = _median(r[col] for r in rs)
            s["target_var"] = _median(r["target_var"] for r in rs)
        else:
            s["chance"] = sum(r["status"] == "chance" for r in rs)
            acc = _finite(r["test_acc"] for r in rs)
            s["mean_test_acc"] = statistics.fmean(acc) if acc else math.nan
            s["std_test_acc"] = statistics.stdev(acc) if len(acc) > 1 else (0.0 if acc else math.nan)
            tr = _finite(r["train_acc"] for r in rs)
            s["mean_train_acc"] = statistics.fmean(tr) if tr else math.nan
        out.append(s)
    return out


def _table(summary: Sequence[Mapping], cell, columns: Sequence, column_name) -> list[str]:
    labels = list(dict.fromkeys(label(s) for s in summary))
    by = {(label(s), s["_col"]): s for s in summary}
    lines = ["| activation | " + " | ".join(column_name(c) for c in columns) + " |",
             "|---|" + "---|" * len(columns)]
    for lab in labels:
        lines.append(f"| {lab} | " + " | ".join(cell(by[(lab, c)]) if (lab, c) in by else "" for c in columns) + " |")
    return lines


def _fails(s: Mapping, kind: str) -> str:
    bad = s["diverged"] + (s["failed"] if kind == "regression" else s["chance"])
    return f" ({bad}/{s['n']} fail)" if bad else ""


def markdown_report(kind: str, summary: Sequence[Mapping], *, title: str, header: Sequence[str] = ()) -> str:
    """The markdown tables of a summary (activation rows x depth columns), after ``header`` lines."""
    lines = [f"# {title}", "", *header, ""]
    if kind == "regression":
        for target in dict.fromkeys(s["target"] for s in summary):
            sub = [{**s, "_col": s["depth"]} for s in summary if s["target"] == target]
            depths = sorted({s["depth"] for s in sub})
            var = format_number(sub[0]["target_var"])
            lines += [f"## {target}", "", f"Median test MSE (trivial predictor: target variance {var}); "
                      "(k/n fail): diverged or test MSE >= variance.", ""]
            lines += _table(sub, lambda s: format_number(s["median_test_mse"]) + _fails(s, kind), depths,
                            lambda d: f"depth {d}")
            lines += ["", "Median H1 error mean |grad u - grad f|^2 / mean |grad f|^2:", ""]
            lines += _table(sub, lambda s: format_number(s["median_h1_rel"]), depths, lambda d: f"depth {d}")
            lines += ["", "Chosen Adam lr (smallest median training loss on the tuning seeds):", ""]
            lines += _table(sub, lambda s: s["lr"], depths, lambda d: f"depth {d}")
            lines.append("")
    else:
        sub = [{**s, "_col": (s["arch"], s["depth"])} for s in summary]
        cols = sorted({s["_col"] for s in sub}, key=lambda c: (c[0] != "mlp", c[1]))

        def name(c):
            return f"MLP depth {c[1]}" if c[0] == "mlp" else f"residual {c[1]} blocks"

        lines += ["Test accuracy mean +- std over the runs that stayed finite; (k/n fail): diverged or test "
                  "accuracy < 0.2 (chance is 0.1).", ""]
        lines += _table(sub, lambda s: f"{s['mean_test_acc']:.3f} +- {s['std_test_acc']:.3f}" + _fails(s, kind)
                        if math.isfinite(s["mean_test_acc"]) else "-" + _fails(s, kind), cols, name)
        lines += ["", "Chosen Adam lr (smallest median training loss on the tuning seeds):", ""]
        lines += _table(sub, lambda s: s["lr"], cols, name)
        lines.append("")
    return "\n".join(lines)


def _save(fig: Figure, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write(path, buf.getvalue())
    return path


def _depth_figure(kind: str, summary: Sequence[Mapping], metric: str, ylabel: str, budget: str) -> Figure:
    panels = list(dict.fromkeys(s["target"] for s in summary)) if kind == "regression" else ["mlp", "residual"]
    key = "target" if kind == "regression" else "arch"
    panels = [p for p in panels if any(s[key] == p for s in summary)]
    fig = Figure(figsize=(4.2 * len(panels) + 1.8, 3.6))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, panel in zip(axes, panels):
        sub = [s for s in summary if s[key] == panel]
        labels = list(dict.fromkeys(label(s) for s in sub))
        for i, lab in enumerate(labels):
            pts = sorted((s["depth"], s[metric], id(s), s) for s in sub if label(s) == lab)
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            cap = math.inf
            if kind == "digits":  # side by side, so that the error bars do not hide each other
                shift = (i - (len(labels) - 1) / 2) * 0.12 * (1 if panel == "residual" else 2)
                xs = [x + shift for x in xs]
                err = [p[3]["std_test_acc"] for p in pts]
                line = ax.errorbar(xs, ys, yerr=err, marker="o", capsize=3, label=lab)[0]
                gone = [x for x, y in zip(xs, ys) if not math.isfinite(y)]  # every run diverged
                if gone:
                    ax.scatter(gone, [0.02] * len(gone), marker="x", s=50, color=line.get_color(), zorder=3)
            else:  # values above the cap (failed fits, up to 1e30) are drawn at the cap as triangles
                cap = 10 * sub[0]["target_var"] if metric == "median_test_mse" else 10.0
                line = ax.plot(xs, [min(y, cap) for y in ys], marker="o", label=lab)[0]
                over = [(x, cap) for x, y in zip(xs, ys) if y > cap]
                if over:
                    ax.scatter(*zip(*over), marker="^", s=60, color=line.get_color(), zorder=3)
            bad = [(p[0], min(p[1], cap) if math.isfinite(p[1]) else cap)  # every run diverged: x at the cap
                   for p in pts if p[3]["diverged"] + p[3].get("failed", 0)]
            if bad and kind == "regression":
                ax.scatter([b[0] for b in bad], [b[1] for b in bad], marker="x", color="k", zorder=4)
        if kind == "regression":
            ax.set_yscale("log")
            if metric == "median_test_mse":
                ax.axhline(sub[0]["target_var"], color="grey", ls="--", lw=1)
            ax.set_title(f"{panel}: {sub[0].get('target_text', '')}".rstrip(": "))
        else:
            ax.axhline(0.1, color="grey", ls="--", lw=1)
            ax.set_ylim(0, 1.02)
            ax.set_title("MLP" if panel == "mlp" else "residual MLP (depth = blocks)")
        ax.set_xlabel("depth (hidden layers)" if kind == "regression" or panel == "mlp" else "blocks")
        ax.set_xticks(sorted({s["depth"] for s in sub}))
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
    axes[-1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8)
    note = ("x: some seeds diverged/failed (at the top: all diverged); triangle: off the scale; "
            "dashed: trivial predictor"
            if kind == "regression" else "dashed: chance; x at the bottom: every run diverged")
    fig.suptitle(f"{budget}; {note}", fontsize=9)
    return fig


def write_report(kind: str, rows: Sequence[Mapping], out_dir: str | Path, *, header: Sequence[str] = (),
                 budget: str = "") -> list[Path]:
    """Write ``<kind>_summary.csv``, ``<kind>_report.md`` and the figures for ``rows`` (the main runs).

    Returns the written paths.  Raises OSError when a file cannot be written.
    """
    out = Path(out_dir)
    summary = summarise(kind, rows)
    if kind == "regression":
        texts = {r["target"]: r.get("target_text", "") for r in rows}
        for s in summary:
            s["target_text"] = texts.get(s["target"], "")
    written = [out / f"{kind}_summary.csv", out / f"{kind}_report.md"]
    atomic_write(written[0], csv_text(summary, SUMMARY_COLUMNS[kind]))
    title = "Polynomial regression with deep networks" if kind == "regression" else "Digits (8x8) classification"
    atomic_write(written[1], markdown_report(kind, summary, title=title, header=header))
    if not summary:
        return written
    if kind == "regression":
        figs = {"mse": ("median_test_mse", "median test MSE"), "h1": ("median_h1_rel", "median rel. H1 error")}
    else:
        figs = {"accuracy": ("mean_test_acc", "test accuracy")}
    for name, (metric, ylabel) in figs.items():
        fig = _depth_figure(kind, summary, metric, ylabel, budget)
        written.append(_save(fig, out / f"{kind}_{name}_vs_depth.png"))
    return written
