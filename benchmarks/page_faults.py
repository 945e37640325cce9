"""Page faults and time of CPU training work, measured side by side in fresh processes.

``--case step`` (default): a small PINN training step, glibc malloc defaults vs ``tune_malloc``.  Each
configuration runs in a fresh Python process (a process's allocation history decides whether glibc's adaptive
thresholds already avoid the faults), alternating default / tuned ``--rounds`` times.  The step is
DeepXDE's Burgers setup: 3 x 20 tanh, 2 780 residual points (u, u_x, u_t, u_xx) + 240 value-only points,
float32, one packed Taylor pass, backward and a fused Adam update.

``--case snapshot``: one refresh of the trainer's rollback snapshot of a dense quasi-Newton state, which the trainer
does every ``log_every`` (10) iterations: a fresh deep copy (the trainer before session 15:
``copy.deepcopy(opt.state_dict())``, two clones of the n x n inverse Hessian) against
:func:`pinn_mrepu.training.snapshot.copy_state` into the previous snapshot's buffers (the trainer now).  n defaults
to the KdV depth-10 network of the converged study (width 30: 8 491 parameters, H = 0.58 GB); both modes run with
``tune_malloc`` (an H above glibc's largest mmap threshold is mapped fresh whatever the tuning).

    python benchmarks/page_faults.py --rounds 3
    python benchmarks/page_faults.py --case snapshot --rounds 3
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

STEP = """
import json, resource, sys, time, torch
from pinn_mrepu.training.allocator import tune_malloc
from pinn_mrepu.derivatives import compute_fields_many
from pinn_mrepu.nn import MLP
if sys.argv[1] == "tuned":
    assert tune_malloc()
torch.set_num_threads(1)
model = MLP(2, 1, width=20, depth=3, activation="tanh", init="glorot_normal")
opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
gen = torch.Generator().manual_seed(0)
sets = [(torch.rand(2780, 2, generator=gen), ["u", "u_x", "u_t", "u_xx"]), (torch.rand(240, 2, generator=gen), ["u"])]
def step():
    (f, g) = compute_fields_many(model, sets, variables=("x", "t"), engine="taylor")
    loss = (f["u_t"] + f["u"] * f["u_x"] - 0.003 * f["u_xx"]).square().mean() + g["u"].square().mean()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
for _ in range(20):
    step()
n = int(sys.argv[2])
r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
for _ in range(n):
    step()
r1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
print(json.dumps({"faults": (r1.ru_minflt - r0.ru_minflt) / n, "sys_ms": 1e3 * (r1.ru_stime - r0.ru_stime) / n,
                  "user_ms": 1e3 * (r1.ru_utime - r0.ru_utime) / n, "wall_ms": 1e3 * (t1 - t0) / n}))
"""


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
                  "user_ms": 1e3 * (r1.ru_utime - r0.ru_utime) / k, "wall_ms": 1e3 * (t1 - t0) / k}))
"""


def _fresh(code: str, *args) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(mode: str, steps: int) -> dict[str, float]:
    """Per-step figures of the training step in a fresh process; mode ``default`` or ``tuned``."""
    return _fresh(STEP, mode, steps)


def measure_snapshot(mode: str, n: int, refreshes: int) -> dict[str, float]:
    """Per-refresh figures of the snapshot of an n-parameter dense state; mode ``deepcopy`` or ``buffers``."""
    return _fresh(REFRESH, mode, n, refreshes)


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--case", choices=("step", "snapshot"), default="step", help="what to measure (see the docstring)")
    p.add_argument("--rounds", type=int, default=3, help="fresh processes per configuration (alternating)")
    p.add_argument("--steps", type=int, default=200, help="step: timed steps per process (after 20 warm-up steps)")
    p.add_argument("--n", type=int, default=8491, help="snapshot: parameters (H is n x n float64)")
    p.add_argument("--refreshes", type=int, default=5, help="snapshot: timed refreshes per process (after one)")
    args = p.parse_args(argv)
    if args.case == "step":
        modes, unit, what = ("default", "tuned"), "step", f"{args.steps} steps"
        one = lambda mode: measure(mode, args.steps)  # noqa: E731
    else:
        modes, unit, what = ("deepcopy", "buffers"), f"refresh (n = {args.n})", f"{args.refreshes} refreshes"
        one = lambda mode: measure_snapshot(mode, args.n, args.refreshes)  # noqa: E731
    runs: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    for _ in range(args.rounds):
        for mode in modes:
            runs[mode].append(one(mode))
    summary = {mode: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for mode, rs in runs.items()}
    for mode, s in summary.items():
        print(f"{mode:8s} per {unit}: {s['faults']:9.1f} minor faults, sys {s['sys_ms']:7.2f} ms, user "
              f"{s['user_ms']:7.2f} ms, wall {s['wall_ms']:7.2f} ms  (medians of {args.rounds} processes x {what})")
    print(f"wall ratio {modes[1]}/{modes[0]} {summary[modes[1]]['wall_ms'] / summary[modes[0]]['wall_ms']:.3f}")
    return summary


if __name__ == "__main__":
    main()
