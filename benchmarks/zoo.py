"""Solve every problem-zoo file with its defaults and print the results table (results/zoo.md).

    python benchmarks/zoo.py [--out scratch/zoo] [NAME ...]

Each file runs as ``pinn-mrepu solve problems/NAME.yaml --out OUT/NAME --overwrite --quiet`` (seed 0, the file's
own settings); a finished run already in OUT/NAME is reused unless --rerun is given.  The table lists rel L2
(overall and per output), the phases' iterations and wall time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ZOO = ["wave", "kdv", "advection", "helmholtz2d", "biharmonic2d", "kovasznay", "allen_cahn"]


def run(name: str, out: Path, rerun: bool) -> dict:
    folder = out / name
    metrics = folder / "metrics.json"
    if rerun or not metrics.is_file():
        cmd = [sys.executable, "-m", "pinn_mrepu", "solve", str(ROOT / "problems" / f"{name}.yaml"),
               "--out", str(folder), "--overwrite", "--quiet"]
        subprocess.run(cmd, check=False)
    return json.loads(metrics.read_text()) if metrics.is_file() else {}


def row(name: str, m: dict) -> str:
    if not m:
        return f"| {name} | failed | | | |"
    per = m.get("per_output")
    detail = ", ".join(f"{k} {v['rel_l2']:.1e}" for k, v in per.items()) if per else ""
    phases = " + ".join(f"{p['optimizer']} {p['steps']}" for p in m["phases"])
    return (f"| {name} | {m['rel_l2']:.2e} | {detail} | {phases} | {m['wall_time_s']:.0f} s |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*", default=ZOO)
    ap.add_argument("--out", default=str(ROOT / "scratch" / "zoo"))
    ap.add_argument("--rerun", action="store_true")
    args = ap.parse_args()
    print("| problem | rel L2 | per output | iterations | wall time |")
    print("|---|---|---|---|---|")
    for name in args.names:
        print(row(name, run(name, Path(args.out), args.rerun)), flush=True)


if __name__ == "__main__":
    main()
