"""Page faults and time of a small PINN training step, glibc malloc defaults vs ``tune_malloc``.

Each configuration runs in a fresh Python process (a process's allocation history decides whether glibc's
adaptive thresholds already avoid the faults), alternating default / tuned ``--rounds`` times.  The step is
DeepXDE's Burgers setup: 3 x 20 tanh, 2 780 residual points (u, u_x, u_t, u_xx) + 240 value-only points,
float32, one packed Taylor pass, backward and a fused Adam update.

    python benchmarks/page_faults.py --rounds 3
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


def measure(mode: str, steps: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", STEP, mode, str(steps)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> dict[str, dict[str, float]]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=3, help="fresh processes per configuration (alternating)")
    p.add_argument("--steps", type=int, default=200, help="timed steps per process (after 20 warm-up steps)")
    args = p.parse_args(argv)
    runs: dict[str, list[dict[str, float]]] = {"default": [], "tuned": []}
    for _ in range(args.rounds):
        for mode in runs:
            runs[mode].append(measure(mode, args.steps))
    summary = {mode: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for mode, rs in runs.items()}
    for mode, s in summary.items():
        print(f"{mode:8s} per step: {s['faults']:7.1f} minor faults, sys {s['sys_ms']:6.2f} ms, user {s['user_ms']:6.2f} "
              f"ms, wall {s['wall_ms']:6.2f} ms  (medians of {args.rounds} processes x {args.steps} steps)")
    print(f"wall ratio tuned/default {summary['tuned']['wall_ms'] / summary['default']['wall_ms']:.3f}")
    return summary


if __name__ == "__main__":
    main()
