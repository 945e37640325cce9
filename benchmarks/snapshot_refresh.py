"""Cost of refreshing the trainer's rollback snapshot of a dense quasi-Newton state: a fresh deep copy (before
session 15: ``copy.deepcopy(opt.state_dict())``, which clones the n x n inverse Hessian twice) against
:func:`pinn_mrepu.training.snapshot.copy_state` into the previous snapshot's buffers (what the trainer does now).

The trainer refreshes the snapshot every ``log_every`` (10) iterations.  n defaults to the KdV depth-10 network of
the converged study (width 30: 8 491 parameters, H = 0.58 GB).  Each mode runs in a fresh process with
:func:`~pinn_mrepu.training.allocator.tune_malloc` (as the command line and, now, the sweep workers run), the modes
alternating ``--rounds`` times; medians are printed with the ratio.

    python benchmarks/snapshot_refresh.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

REFRESH = """
import copy, json, resource, sys, time, torch
from pinn_mrepu.optim import DenseQuasiNewton
from pinn_mrepu.training.allocator import tune_malloc
from pinn_mrepu.training.snapshot import copy_state
assert tune_malloc()
torch.set_num_threads(1)
mode, n, k = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
opt = DenseQuasiNewton(n)
opt.H.normal_(generator=torch.Generator().manual_seed(0))
def refresh(good):
    if mode == "deepcopy":
        return copy.deepcopy(opt.state_dict())
    return copy_state(opt.state_dict(copy=False), good)
good = refresh(None)
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
for _ in range(k):
    opt.H.mul_(1.0)  # the optimizer touches H between refreshes
    good = refresh(good)
r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
assert torch.equal(good["H"], opt.H)
print(json.dumps({"faults": (r1.ru_minflt - r0.ru_minflt) / k, "sys_ms": 1e3 * (r1.ru_stime - r0.ru_stime) / k,
                  "wall_ms": 1e3 * (t1 - t0) / k}))
"""


def measure(mode: str, n: int, refreshes: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", REFRESH, mode, str(n), str(refreshes)], capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="fresh processes per mode (alternating)")
    p.add_argument("--n", type=int, default=8491, help="parameters (H is n x n float64)")
    p.add_argument("--refreshes", type=int, default=5, help="timed refreshes per process (after one untimed)")
    args = p.parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {"deepcopy": [], "buffers": []}
    for _ in range(args.rounds):
        for mode in runs:
            runs[mode].append(measure(mode, args.n, args.refreshes))
    summary = {mode: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for mode, rs in runs.items()}
    for mode, s in summary.items():
        print(f"{mode:8s} per refresh (n = {args.n}): {s['faults']:9.0f} minor faults, sys {s['sys_ms']:7.1f} ms, "
              f"wall {s['wall_ms']:7.1f} ms  (medians of {args.rounds} processes x {args.refreshes} refreshes)")
    print(f"wall ratio buffers/deepcopy {summary['buffers']['wall_ms'] / summary['deepcopy']['wall_ms']:.3f}")
    return summary


if __name__ == "__main__":
    main()
