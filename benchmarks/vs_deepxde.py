"""DeepXDE (PyTorch backend) and pinn_mrepu on DeepXDE's own Burgers example: speed and accuracy.

The setup is DeepXDE's ``examples/pinn_forward/Burgers.py``: u_t + u u_x = (0.01/pi) u_xx on x in [-1, 1],
t in [0, 0.99] (its ``TimeDomain(0, 0.99)``), u(x, 0) = -sin(pi x), u(+-1, t) = 0; an FNN with 3 hidden layers of
20 tanh neurons, Glorot normal weights and zero biases; 2540 domain, 80 boundary and 160 initial points; Adam with
lr 1e-3 for 15000 steps, then L-BFGS; float32.  pinn_mrepu runs the same problem from ``problems/burgers.yaml``
with overrides (see :func:`ours_overrides`).  Both are scored by the relative L2 error against the exact Cole-Hopf
solution (:func:`pinn_mrepu.physics.references.burgers_solution`) on the standard 256 x 100 grid x = linspace(-1, 1, 256),
t = 0, 0.01, ..., 0.99.

Fairness (read before quoting a number):

- **Same machine, same process, interleaved.**  Runs alternate between the peers in ABBA order (repeat r runs
  DeepXDE first when r is even, pinn_mrepu first when r is odd), so load drift on a shared machine hits both
  alike; both use ``torch.set_num_threads(--threads)``, float32, CPU, and the same seed per repeat (DeepXDE:
  ``dde.config.set_random_seed``; pinn_mrepu: ``train.seed``).
- **What a step is.**  An Adam step is one parameter update = one loss-and-gradient evaluation for both (DeepXDE's
  ``_train_sgd`` iteration also re-reads its cached training arrays and converts them with ``torch.as_tensor``:
  that is part of its step).  ms/step is reported two ways: the median over windows of 10 steps, and the mean
  (Adam phase wall time / steps, everything included).  The median drops load spikes and DeepXDE's loss display
  (every 1000 steps); every window holds one of pinn_mrepu's history rows and state snapshots (every 10 steps),
  so that bookkeeping stays in.  The ratio ours/dde uses the medians.
- **Residual points.**  DeepXDE evaluates the PDE residual on its domain *and* its boundary and initial points
  (2540 + 80 + 160 = 2780; ``PDE.losses`` keeps every row after the condition-specific copies), and runs the
  network with derivatives on all 3020 rows.  pinn_mrepu takes residual points from ``train.points.interior``
  only, so by default it gets 2780 interior points (``--ours-interior``), i.e. the same number of residual points,
  plus 80 boundary and 160 initial points for the condition terms.
- **Point sets.**  DeepXDE samples with the Hammersley sequence (``TimePDE`` default); pinn_mrepu has no
  Hammersley sampler and uses ``halton``, the closest one (both low-discrepancy).
- **Network.**  Identical architecture and init scheme; pinn_mrepu's ``network.normalize_inputs`` is off so that
  both see the raw (x, t) (``--normalize-inputs`` turns it on).  pinn_mrepu uses its Taylor-mode derivative engine
  (``--derivatives``, default ``taylor``), eager unless ``--compile`` (``train.compile``: ``torch.compile`` of the
  loss; its compile time shows in the "warm-up s" column and the mean ms/step, not in the median); DeepXDE uses its
  own (reverse-mode ``dde.grad.jacobian``/``hessian``, eager).
- **Adam.**  lr 1e-3, no decay, for both (burgers.yaml's decay is overridden).
- **L-BFGS.**  DeepXDE's PyTorch L-BFGS is ``torch.optim.LBFGS`` with ``dde.optimizers.config.LBFGS_options``:
  history 100 (``maxcor``), ``tolerance_grad`` 1e-8 (``gtol``), ``tolerance_change`` 0 (``ftol``), strong-Wolfe
  line search, ``maxiter`` 15000 by default.  ``Model.train`` calls ``LBFGS.step`` in chunks of ``iter_per_step``
  = min(1000, maxiter) iterations with at most ``fun_per_step`` = 1.25 x that many loss evaluations per chunk, and
  stops when the total reaches ``maxiter`` or a chunk makes only one iteration (its convergence test).  So it may
  stop early, and may also *overshoot* ``maxiter`` (a chunk cut by its evaluation cap is followed by a full
  chunk).  ``dde.optimizers.set_LBFGS_options(maxiter=M)`` does not recompute ``iter_per_step``/``fun_per_step``
  (they are computed once when DeepXDE is imported), so this script sets them as DeepXDE would at import for
  ``maxiter = --lbfgs-steps``; without that a budget below 1000 would silently run 1000-iteration chunks.
  pinn_mrepu gets the same history size (100) and ``tolerance_grad`` (1e-8) and runs exactly ``--lbfgs-steps``
  iterations unless its gradient vanishes.  The table reports the *actual* iteration and loss-evaluation counts
  of both (from each optimiser's ``n_iter``/``func_evals`` state) and the L-BFGS wall time.
- **Excluded from timings.**  Setup (DeepXDE's ``Model.compile``, which also evaluates the loss once; pinn_mrepu's
  ``PINNSolver`` construction and point sampling) and the final error evaluation.

Example (the issue's full budget; ``--repeats 3`` on an idle machine is the reference measurement; run it with and
without ``--compile``: a cold inductor cache took ~40 s to compile on a 2-core CPU, a warm one ~2 s)::

    python benchmarks/vs_deepxde.py --repeats 3 --threads 2 --markdown results/vs_deepxde.md
    python benchmarks/vs_deepxde.py --repeats 3 --threads 2 --compile --markdown results/vs_deepxde.md

``run_benchmark(...)`` returns the raw numbers (a dict) so that tests can run a tiny version.
"""

from __future__ import annotations

import argparse
import datetime
import math
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from pinn_mrepu.storage import cpu_model

ROOT = Path(__file__).resolve().parents[1]
NU = 0.01 / math.pi
T_END = 0.99
WINDOW = 10  # steps per timing window (pinn_mrepu's trainer reports progress every 10 steps)


@dataclass
class PeerRun:
    """One training run of one peer."""

    peer: str
    repeat: int
    seed: int
    adam_steps: int
    adam_wall_s: float
    adam_ms_median: float  # median over 10-step windows of (window time / 10)
    adam_ms_mean: float  # Adam phase wall time / steps
    adam_warmup_s: float  # first 10-step window minus a median one: first-call / compile cost
    adam_faults: float  # minor page faults per Adam step (after the first window)
    lbfgs_iters: int
    lbfgs_evals: int
    lbfgs_wall_s: float
    final_loss: float
    rel_l2: float
    note: str = ""


# ----------------------------------------------------------------------------------------------- helpers
def _faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def _faults_per_step(faults: list[int]) -> float:
    """Minor page faults per step between the first and the last window stamp."""
    return (faults[-1] - faults[1]) / (WINDOW * (len(faults) - 2)) if len(faults) > 2 else math.nan


def _window_ms(times: list[float]) -> tuple[float, float]:
    """Median ms/step over consecutive timestamps taken every WINDOW steps, and the first window's excess (s)."""
    diffs = [(b - a) / WINDOW for a, b in zip(times[:-1], times[1:])]
    if not diffs:
        return math.nan, math.nan
    median = statistics.median(diffs)
    return 1e3 * median, WINDOW * (diffs[0] - median)


def evaluation_grid() -> tuple[np.ndarray, np.ndarray]:
    """The standard 256 x 100 grid as points ``(25600, 2)`` (columns x, t) and the exact solution ``(25600,)``."""
    from pinn_mrepu.physics.references import burgers_solution

    x = np.linspace(-1.0, 1.0, 256)
    t = np.linspace(0.0, T_END, 100)
    xx, tt = np.meshgrid(x, t, indexing="ij")
    pts = np.stack([xx.ravel(), tt.ravel()], axis=1)
    return pts, np.asarray(burgers_solution(pts[:, 0], pts[:, 1], NU), dtype=np.float64).ravel()


def _rel_l2(pred: np.ndarray, exact: np.ndarray) -> float:
    pred = np.asarray(pred, dtype=np.float64).ravel()
    return float(np.linalg.norm(pred - exact) / np.linalg.norm(exact))


def import_deepxde():
    """Import deepxde on its PyTorch backend (CPU: undo its CUDA default device if it set one)."""
    os.environ.setdefault("DDE_BACKEND", "pytorch")
    device = torch.get_default_device()
    import deepxde as dde

    if dde.backend.backend_name != "pytorch":
        raise RuntimeError(f"deepxde loaded the {dde.backend.backend_name!r} backend; set DDE_BACKEND=pytorch")
    if torch.get_default_device() != device:  # CPU-only benchmark; DeepXDE makes CUDA the default when present
        # None, not "cpu": set_default_device("cpu") would push a Python TorchFunctionMode onto every torch call
        torch.set_default_device(None if device.type == "cpu" else device)
    return dde


# ----------------------------------------------------------------------------------------------- DeepXDE
def run_deepxde(*, seed: int, adam_steps: int, lbfgs_steps: int, domain: int, boundary: int, initial: int,
                grid: tuple[np.ndarray, np.ndarray], repeat: int = 0) -> PeerRun:
    """DeepXDE's Burgers example (PyTorch backend), timed.  See the module docstring."""
    dde = import_deepxde()
    dde.config.set_default_float("float32")
    dde.config.set_random_seed(seed)
    opts = dde.optimizers.config.LBFGS_options
    dde.optimizers.set_LBFGS_options(maxiter=max(1, lbfgs_steps))
    opts["iter_per_step"] = min(1000, opts["maxiter"])  # as deepxde computes them at import (see docstring)
    opts["fun_per_step"] = opts["maxfun"] * opts["iter_per_step"] // opts["maxiter"]

    def pde(x, y):
        dy_x = dde.grad.jacobian(y, x, i=0, j=0)
        dy_t = dde.grad.jacobian(y, x, i=0, j=1)
        dy_xx = dde.grad.hessian(y, x, i=0, j=0)
        return dy_t + y * dy_x - NU * dy_xx

    geomtime = dde.geometry.GeometryXTime(dde.geometry.Interval(-1, 1), dde.geometry.TimeDomain(0, T_END))
    bc = dde.icbc.DirichletBC(geomtime, lambda x: 0, lambda _, on_boundary: on_boundary)
    ic = dde.icbc.IC(geomtime, lambda x: -np.sin(np.pi * x[:, 0:1]), lambda _, on_initial: on_initial)
    data = dde.data.TimePDE(geomtime, pde, [bc, ic], num_domain=domain, num_boundary=boundary, num_initial=initial)
    net = dde.nn.FNN([2] + [20] * 3 + [1], "tanh", "Glorot normal")
    model = dde.Model(data, net)

    stamps: list[float] = []
    faults: list[int] = []

    class Stamp(dde.callbacks.Callback):
        def on_train_begin(self):
            stamps.append(time.perf_counter())
            faults.append(_faults())

        def on_batch_end(self):
            if self.model.train_state.step % WINDOW == 0:
                stamps.append(time.perf_counter())
                faults.append(_faults())

    model.compile("adam", lr=1e-3, verbose=0)
    t0 = time.perf_counter()
    if adam_steps:
        model.train(iterations=adam_steps, display_every=1000, callbacks=[Stamp()], verbose=0)
    adam_wall = time.perf_counter() - t0
    iters = evals = 0
    lbfgs_wall = 0.0
    if lbfgs_steps:
        model.compile("L-BFGS", verbose=0)
        t0 = time.perf_counter()
        model.train(display_every=1000, verbose=0)
        lbfgs_wall = time.perf_counter() - t0
        state = model.opt.state_dict()["state"].get(0, {})
        iters, evals = int(state.get("n_iter", 0)), int(state.get("func_evals", 0))
    pts, exact = grid
    pred = model.predict(pts.astype(np.float32))
    median_ms, warmup_s = _window_ms(stamps)
    return PeerRun("deepxde", repeat, seed, adam_steps, adam_wall, median_ms,
                   1e3 * adam_wall / max(adam_steps, 1), warmup_s, _faults_per_step(faults), iters, evals, lbfgs_wall,
                   float(np.sum(model.train_state.loss_train)), _rel_l2(pred, exact))


# ----------------------------------------------------------------------------------------------- pinn_mrepu
def ours_overrides(*, seed: int, adam_steps: int, lbfgs_steps: int, interior: int, boundary: int, initial: int,
                   derivatives: str = "taylor", normalize_inputs: bool = False, compile: bool = False) -> list[str]:
    """``--set`` overrides of problems/burgers.yaml that reproduce DeepXDE's Burgers example.

    Every setting that matters is set explicitly (soft constraints: no output transform; unit loss weights; no
    resampling or refinement), so later edits of the shipped YAML's defaults do not change the comparison.
    """
    return [
        "problem.time=[0, 0.99]",
        "network.activation=tanh", "network.width=20", "network.depth=3", "network.init=glorot_normal",
        f"network.normalize_inputs={'true' if normalize_inputs else 'false'}", "network.output_transform=null",
        "train.dtype=float32", "train.device=cpu", f"train.derivatives={derivatives}", f"train.seed={seed}",
        f"train.compile={'true' if compile else 'false'}",
        f"train.points.interior={interior}", f"train.points.boundary={boundary}", f"train.points.initial={initial}",
        "train.points.sampler=halton", "train.resample.every=0", "train.refine.every=0",
        "train.weights={residual: 1.0, initial: 1.0, boundary: 1.0}",
        f"train.phases=[{{optimizer: adam, steps: {adam_steps}, lr: 0.001, decay_rate: 1.0}}, "
        f"{{optimizer: lbfgs, steps: {lbfgs_steps}, history_size: 100, tolerance_grad: 1.0e-8, tolerance_change: 0}}]",
        "evaluate.grid=[256, 100]",
    ]


def run_ours(*, seed: int, adam_steps: int, lbfgs_steps: int, interior: int, boundary: int, initial: int,
             grid: tuple[np.ndarray, np.ndarray], derivatives: str = "taylor", normalize_inputs: bool = False,
             compile: bool = False, repeat: int = 0) -> PeerRun:
    """pinn_mrepu on the same problem, timed.  See the module docstring."""
    from pinn_mrepu.solver import PINNSolver

    stamps: list[float] = []
    faults: list[int] = []

    def on_event(event) -> None:
        if event.phase == "adam" and event.step % WINDOW == 0:
            stamps.append(time.perf_counter())
            faults.append(_faults())

    overrides = ours_overrides(seed=seed, adam_steps=adam_steps, lbfgs_steps=lbfgs_steps, interior=interior,
                               boundary=boundary, initial=initial, derivatives=derivatives,
                               normalize_inputs=normalize_inputs, compile=compile)
    solver = PINNSolver.from_yaml(ROOT / "problems" / "burgers.yaml", overrides, callback=on_event)
    if type(solver.model).__name__ != "MLP":
        raise RuntimeError(f"expected a bare MLP (soft constraints, like DeepXDE), got {type(solver.model).__name__}")
    stamps.append(time.perf_counter())
    faults.append(_faults())
    result = solver.train()
    adam_rows = [row for row in result.history if row["phase"] == "adam"]
    adam_wall = adam_rows[-1]["elapsed_s"] if adam_rows else 0.0
    evals = sum(p["evals"] for p in result.phases if p["optimizer"] == "lbfgs")
    pts, exact = grid
    pred = solver.predict(pts)
    note = "" if result.status == "done" and result.message == "finished" else f"{result.status}: {result.message}"
    median_ms, warmup_s = _window_ms(stamps)
    return PeerRun("pinn_mrepu", repeat, seed, adam_steps, adam_wall, median_ms,
                   1e3 * adam_wall / max(adam_steps, 1), warmup_s, _faults_per_step(faults), result.steps_of("lbfgs"), evals,
                   result.wall_time_s - adam_wall, float(result.final_loss), _rel_l2(pred, exact), note)


# ----------------------------------------------------------------------------------------------- driver
def machine() -> dict[str, object]:
    """CPU model, logical cores, torch/deepxde versions, load average."""
    cpu = cpu_model()
    try:
        from importlib.metadata import version

        dde_version = version("deepxde")
    except Exception:  # noqa: BLE001 - informational only
        dde_version = "?"
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__, "deepxde": dde_version,
            "python": platform.python_version(), "threads": torch.get_num_threads(),
            "loadavg": tuple(round(x, 2) for x in load)}


def _median(runs: list[PeerRun], key: str) -> float:
    vals = [getattr(r, key) for r in runs]
    return float(statistics.median(vals)) if vals else math.nan


def run_benchmark(*, repeats: int = 1, adam_steps: int = 15000, lbfgs_steps: int = 15000, threads: int | None = None,
                  domain: int = 2540, boundary: int = 80, initial: int = 160, ours_interior: int | None = None,
                  derivatives: str = "taylor", normalize_inputs: bool = False, compile: bool = False, seed: int = 0,
                  tune_malloc: bool = False, progress=None) -> dict:
    """Run both peers ``repeats`` times, interleaved (ABBA), and summarise.

    Args:
        ours_interior: pinn_mrepu's interior points (default ``domain + boundary + initial``: DeepXDE's residual
            point count).
        tune_malloc: call :func:`pinn_mrepu.training.allocator.tune_malloc` first (process-wide: both peers get it, as
            both do under the ``solve`` command line); default: glibc's defaults, as a plain Python process has.
        progress: optional ``callable(str)`` for one line per finished run.

    Returns:
        ``{"runs": [PeerRun as dict, ...], "summary": {"deepxde": {...}, "pinn_mrepu": {...}}, "ratio_adam_ms":
        ours/dde median ms per Adam step, "ratio_lbfgs_s": ours/dde L-BFGS wall time, "machine": {...},
        "settings": {...}}``; the summary holds medians over repeats.
    """
    if threads is not None:
        torch.set_num_threads(int(threads))
    if tune_malloc:
        from pinn_mrepu.training.allocator import tune_malloc as _tune

        if not _tune():
            raise RuntimeError("--tune-malloc: glibc mallopt is not available on this system")
    interior = domain + boundary + initial if ours_interior is None else ours_interior
    grid = evaluation_grid()
    import_deepxde()  # import cost outside the timings
    runs: list[PeerRun] = []
    for r in range(repeats):
        order = ("deepxde", "pinn_mrepu") if r % 2 == 0 else ("pinn_mrepu", "deepxde")
        for peer in order:
            if peer == "deepxde":
                run = run_deepxde(seed=seed + r, adam_steps=adam_steps, lbfgs_steps=lbfgs_steps, domain=domain,
                                  boundary=boundary, initial=initial, grid=grid, repeat=r)
            else:
                run = run_ours(seed=seed + r, adam_steps=adam_steps, lbfgs_steps=lbfgs_steps, interior=interior,
                               boundary=boundary, initial=initial, grid=grid, derivatives=derivatives,
                               normalize_inputs=normalize_inputs, compile=compile, repeat=r)
            runs.append(run)
            if progress is not None:
                progress(f"repeat {r} {peer}: {run.adam_ms_median:.3f} ms/Adam step ({run.adam_faults:.0f} page faults), "
                         f"L-BFGS {run.lbfgs_iters} it "
                         f"in {run.lbfgs_wall_s:.1f} s, rel L2 {run.rel_l2:.3e}")
    keys = ("adam_ms_median", "adam_ms_mean", "adam_warmup_s", "adam_faults", "adam_wall_s", "lbfgs_iters", "lbfgs_evals", "lbfgs_wall_s",
            "final_loss", "rel_l2")
    summary = {peer: {k: _median([r for r in runs if r.peer == peer], k) for k in keys}
               for peer in ("deepxde", "pinn_mrepu")}
    d, o = summary["deepxde"], summary["pinn_mrepu"]
    return {
        "runs": [asdict(r) for r in runs],
        "summary": summary,
        "ratio_adam_ms": o["adam_ms_median"] / d["adam_ms_median"] if d["adam_ms_median"] > 0 else math.nan,
        "ratio_lbfgs_s": o["lbfgs_wall_s"] / d["lbfgs_wall_s"] if d["lbfgs_wall_s"] > 0 else math.nan,
        "machine": machine(),
        "settings": {"repeats": repeats, "adam_steps": adam_steps, "lbfgs_steps": lbfgs_steps, "domain": domain,
                     "boundary": boundary, "initial": initial, "ours_interior": interior, "derivatives": derivatives,
                     "normalize_inputs": normalize_inputs, "compile": compile, "seed": seed, "tune_malloc": tune_malloc},
    }


def format_markdown(res: dict, command: str) -> str:
    """A Markdown section: command, machine, per-run table and the medians / ratios."""
    m, s = res["machine"], res["settings"]
    lines = [
        f"## DeepXDE vs pinn_mrepu: DeepXDE's Burgers example ({datetime.date.today().isoformat()})",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {m['cpu']}, {m['cores']} logical cores, torch {m['torch']}, deepxde {m['deepxde']} (PyTorch "
        f"backend), Python {m['python']}, torch threads {m['threads']}, load average at the end {m['loadavg']}.",
        "",
        f"Budget: {s['adam_steps']} Adam steps (lr 1e-3) then L-BFGS for {s['lbfgs_steps']} iterations; float32, CPU; "
        f"DeepXDE {s['domain']}/{s['boundary']}/{s['initial']} domain/boundary/initial points (Hammersley), "
        f"pinn_mrepu {s['ours_interior']}/{s['boundary']}/{s['initial']} interior/boundary/initial (halton; same "
        f"residual point count), derivatives `{s['derivatives']}`, compile {s['compile']}, malloc tuned "
        f"{s.get('tune_malloc', False)}, seeds {s['seed']}..{s['seed'] + s['repeats'] - 1}, "
        "runs interleaved ABBA.  Fairness notes: the docstring of benchmarks/vs_deepxde.py.",
        "",
        "| peer | repeat | Adam ms/step (median) | Adam ms/step (mean) | warm-up s | page faults/step | L-BFGS iters "
        "| L-BFGS evals | L-BFGS s | final loss | rel L2 |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in res["runs"]:
        lines.append(f"| {r['peer']} | {r['repeat']} | {r['adam_ms_median']:.3f} | {r['adam_ms_mean']:.3f} | "
                     f"{r['adam_warmup_s']:.2f} | {r['adam_faults']:.0f} | {r['lbfgs_iters']} | {r['lbfgs_evals']} | {r['lbfgs_wall_s']:.1f} | {r['final_loss']:.3e} | "
                     f"{r['rel_l2']:.3e} |")
    d, o = res["summary"]["deepxde"], res["summary"]["pinn_mrepu"]
    lines += [
        "",
        f"Medians: Adam ms/step DeepXDE {d['adam_ms_median']:.3f}, pinn_mrepu {o['adam_ms_median']:.3f}, "
        f"**ratio ours/dde {res['ratio_adam_ms']:.3f}** (target <= 0.4); L-BFGS wall time ratio ours/dde "
        f"{res['ratio_lbfgs_s']:.3f} (at {o['lbfgs_iters']:.0f} vs {d['lbfgs_iters']:.0f} iterations); rel L2 "
        f"DeepXDE {d['rel_l2']:.3e}, pinn_mrepu {o['rel_l2']:.3e}.",
    ]
    notes = [f"- {r['peer']} repeat {r['repeat']}: {r['note']}" for r in res["runs"] if r["note"]]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--repeats", type=int, default=1, help="runs per peer, interleaved ABBA (default 1)")
    p.add_argument("--adam-steps", type=int, default=15000, help="Adam steps (default 15000, as in the example)")
    p.add_argument("--lbfgs-steps", type=int, default=15000,
                   help="L-BFGS iterations: DeepXDE's maxiter and pinn_mrepu's train.lbfgs.steps (default 15000, "
                        "DeepXDE's default)")
    p.add_argument("--threads", type=int, default=None, help="torch threads for both (default: torch's default)")
    p.add_argument("--domain", type=int, default=2540)
    p.add_argument("--boundary", type=int, default=80)
    p.add_argument("--initial", type=int, default=160)
    p.add_argument("--ours-interior", type=int, default=None,
                   help="pinn_mrepu interior points (default domain + boundary + initial = DeepXDE's residual points)")
    p.add_argument("--derivatives", default="taylor", choices=("taylor", "autograd"), help="pinn_mrepu engine")
    p.add_argument("--normalize-inputs", action="store_true", help="pinn_mrepu maps (x, t) onto [-1, 1]^2")
    p.add_argument("--compile", action="store_true",
                   help="pinn_mrepu: train.compile=true (torch.compile of the loss; compile time lands in the first "
                        "Adam window: the 'warm-up s' column and the mean, not the median)")
    p.add_argument("--seed", type=int, default=0, help="seed of repeat 0 (repeat r uses seed + r)")
    p.add_argument("--tune-malloc", action="store_true",
                   help="keep freed memory in the process (pinn_mrepu.training.allocator.tune_malloc, as the solve CLI does); "
                        "applies to both peers")
    p.add_argument("--markdown", type=Path, default=None, help="append a Markdown section to this file")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    res = run_benchmark(repeats=args.repeats, adam_steps=args.adam_steps, lbfgs_steps=args.lbfgs_steps,
                        threads=args.threads, domain=args.domain, boundary=args.boundary, initial=args.initial,
                        ours_interior=args.ours_interior, derivatives=args.derivatives,
                        normalize_inputs=args.normalize_inputs, compile=args.compile, seed=args.seed,
                        tune_malloc=args.tune_malloc, progress=lambda line: print(line, flush=True))
    command = "python benchmarks/vs_deepxde.py " + " ".join(sys.argv[1:] if argv is None else argv)
    text = format_markdown(res, command.strip())
    print(text)
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        with args.markdown.open("a", encoding="utf-8") as fh:
            fh.write(("\n" if args.markdown.stat().st_size else "") + text)
    return res


if __name__ == "__main__":
    main()
