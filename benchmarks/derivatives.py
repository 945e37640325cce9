"""Speed of the derivative engines: milliseconds per PINN training step.

A step is: compute the residual's fields at N collocation points, form the residual, take its mean square
and call ``.backward()`` (parameter gradients; no optimiser update).  Engines:

- ``autograd``: nested ``torch.autograd.grad`` (the reference engine);
- ``taylor``: the Taylor-mode engine, eager;
- ``taylor+compile``: the same loss function wrapped in ``torch.compile`` (compile time is reported
  separately; "n/a" with the reason when compilation fails or the compile budget was exceeded earlier).

Problems: ``burgers`` (x, t; fields u, u_x, u_t, u_xx; residual u_t + u u_x - nu u_xx; S = 4 Taylor streams:
value, x, t, xx) and ``poisson`` (2D x, y; fields u_xx, u_yy; residual u_xx + u_yy + f; S = 5 streams:
value, x, y, xx, yy).

Floors: a plain forward + backward (mean square of the output) of the same MLP, at batch N*S (the total rows
the Taylor engine pushes through each layer: its matrix-product floor) and at batch N (one plain network
evaluation: what a loss without derivatives would cost).

Timing: after warm-up, each repeat runs every engine once, in a rotating order so that machine noise affects
all engines alike; the table reports medians.  Example (the target configuration)::

    python benchmarks/derivatives.py --widths 64 --depths 6 --points 10000 --problems burgers
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import statistics
import sys
import time

import torch

from pinn_mrepu.storage import cpu_model

from pinn_mrepu.derivatives import compute_fields
from pinn_mrepu.nn import MLP

PROBLEMS = {
    # name: (variables, fields, input bounds, number of Taylor streams)
    "burgers": (("x", "t"), ("u", "u_x", "u_t", "u_xx"), ([-1.0, 0.0], [1.0, 1.0]), 4),
    "poisson": (("x", "y"), ("u_xx", "u_yy"), ([0.0, 0.0], [1.0, 1.0]), 5),
}
NU = 0.01 / math.pi


def residual(problem: str, f: dict[str, torch.Tensor], source: torch.Tensor) -> torch.Tensor:
    if problem == "burgers":
        return f["u_t"] + f["u"] * f["u_x"] - NU * f["u_xx"]
    return f["u_xx"] + f["u_yy"] + source


def make_loss(problem: str, engine: str):
    variables, names, _, _ = PROBLEMS[problem]

    def loss(model: torch.nn.Module, pts: torch.Tensor, source: torch.Tensor) -> torch.Tensor:
        f = compute_fields(model, pts, names, variables=variables, engine=engine)
        return residual(problem, f, source).square().mean()

    return loss


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def machine(device: torch.device) -> str:
    cpu = cpu_model()
    desc = f"CPU {cpu} ({os.cpu_count()} logical cores), torch {torch.__version__}, "
    desc += f"{torch.get_num_threads()} threads"
    if device.type == "cuda":
        desc += f", GPU {torch.cuda.get_device_name(device)}"
    return desc + f", Python {platform.python_version()}, {platform.system()}"


def bench_config(problem, width, depth, n, args, device, dtype, state):
    variables, _, bounds, streams = PROBLEMS[problem]
    model = MLP(len(variables), 1, width=width, depth=depth, activation=args.activation,
                init=args.init, input_bounds=bounds, generator=0, dtype=dtype).to(device)
    gen = torch.Generator().manual_seed(1)
    lo, hi = torch.tensor(bounds[0], dtype=dtype), torch.tensor(bounds[1], dtype=dtype)
    pts = (lo + (hi - lo) * torch.rand(n, len(variables), generator=gen, dtype=dtype)).to(device)
    source = (2 * math.pi**2 * torch.sin(math.pi * pts[:, :1]) * torch.sin(math.pi * pts[:, 1:])).contiguous()
    big = (lo + (hi - lo) * torch.rand(n * streams, len(variables), generator=gen, dtype=dtype)).to(device)

    def stepper(fn):
        def step():
            model.zero_grad(set_to_none=True)
            fn().backward()
        return step

    steps = {
        "autograd": stepper(lambda: make_loss(problem, "autograd")(model, pts, source)),
        "taylor": stepper(lambda: make_loss(problem, "taylor")(model, pts, source)),
        "floor N*S": stepper(lambda: model(big).square().mean()),
        "floor N": stepper(lambda: model(pts).square().mean()),
    }
    notes = {}
    ref = make_loss(problem, "taylor")(model, pts, source).item()
    if not math.isfinite(ref):
        notes["warning"] = f"non-finite loss {ref} (try another --init): timings may be unrepresentative"
    if args.compile and state.get("compile_off") is None:
        torch.compiler.reset()
        compiled = torch.compile(make_loss(problem, "taylor"))
        try:
            t0 = time.perf_counter()
            for _ in range(2):  # forward and backward graphs are compiled on first use
                stepper(lambda: compiled(model, pts, source))()
            sync(device)
            notes["compile_s"] = time.perf_counter() - t0
            eager, comp = make_loss(problem, "taylor")(model, pts, source), compiled(model, pts, source)
            if not torch.allclose(comp, eager, rtol=1e-3 if dtype == torch.float32 else 1e-8):
                raise RuntimeError(f"compiled loss {comp.item():.6g} differs from eager {eager.item():.6g}")
            steps["taylor+compile"] = stepper(lambda: compiled(model, pts, source))
            if notes["compile_s"] > args.compile_budget:
                state["compile_off"] = (
                    f"skipped: a compile took {notes['compile_s']:.0f} s > --compile-budget {args.compile_budget:.0f} s"
                )
        except Exception as exc:  # noqa: BLE001 - report and carry on without compile
            reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120] if str(exc) else ''}"
            notes["compile_error"] = reason
            state["compile_off"] = "failed earlier: " + reason
    elif args.compile:
        notes["compile_error"] = state["compile_off"]

    names = list(steps)
    for name in names:
        for _ in range(args.warmup):
            steps[name]()
    sync(device)
    times = {name: [] for name in names}
    for r in range(args.repeats):
        order = names[r % len(names):] + names[: r % len(names)]
        for name in order:
            sync(device)
            t0 = time.perf_counter()
            steps[name]()
            sync(device)
            times[name].append(1e3 * (time.perf_counter() - t0))
    return {name: statistics.median(v) for name, v in times.items()}, notes, streams


def fmt(ms, base):
    return f"{ms:.2f} ({ms / base:.2f}x)"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--widths", type=int, nargs="+", default=[20, 64, 128])
    ap.add_argument("--depths", type=int, nargs="+", default=[3, 6, 9])
    ap.add_argument("--points", type=int, nargs="+", default=[2500, 10000])
    ap.add_argument("--problems", nargs="+", choices=sorted(PROBLEMS), default=sorted(PROBLEMS))
    ap.add_argument("--activation", default="mrepu", help="hidden activation (default mrepu, p = 2)")
    ap.add_argument("--init", default="critical", help="initialisation scheme (default critical: finite outputs)")
    ap.add_argument("--repeats", type=int, default=15, help="timed steps per engine (median reported)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps per engine first")
    ap.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    ap.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    ap.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    ap.add_argument("--tune-malloc", action="store_true",
                    help="pinn_mrepu.training.allocator.tune_malloc first (as the solve CLI does): no per-step page faults")
    ap.add_argument("--no-compile", dest="compile", action="store_false", help="skip the torch.compile engine")
    ap.add_argument("--compile-budget", type=float, default=120.0,
                    help="seconds; once one compile takes longer, the compiled engine is skipped for the rest")
    ap.add_argument("--markdown", metavar="PATH", help="also write the table as Markdown to PATH")
    args = ap.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.tune_malloc:
        from pinn_mrepu.training.allocator import tune_malloc

        if not tune_malloc():
            raise SystemExit("--tune-malloc: glibc mallopt is not available on this system")
    if args.device == "auto":
        device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        if args.device == "cuda" and not torch.cuda.is_available():
            ap.error("--device cuda: CUDA is not available")
        device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)

    engines = ["autograd", "taylor"] + (["taylor+compile"] if args.compile else []) + ["floor N*S", "floor N"]
    header = ["problem", "width", "depth", "N", "S"] + [f"{e} ms" for e in engines] + ["compile s"]
    rows, notes_all, state = [], [], {}
    print(machine(device), f"| {args.dtype} | device {device} | activation {args.activation}", flush=True)
    print(" | ".join(header), flush=True)
    for problem in args.problems:
        for width in args.widths:
            for depth in args.depths:
                for n in args.points:
                    med, notes, streams = bench_config(problem, width, depth, n, args, device, dtype, state)
                    base = med["autograd"]
                    cells = [problem, str(width), str(depth), str(n), str(streams)]
                    for e in engines:
                        cells.append(fmt(med[e], base) if e in med else "n/a")
                    cells.append(f"{notes['compile_s']:.1f}" if "compile_s" in notes else "-")
                    if "warning" in notes:
                        notes_all.append(f"{problem} w{width} d{depth} N{n}: {notes['warning']}")
                    if "compile_error" in notes:
                        notes_all.append(
                            f"{problem} w{width} d{depth} N{n}: taylor+compile n/a ({notes['compile_error']})"
                        )
                    rows.append(cells)
                    print(" | ".join(cells), flush=True)
    for line in notes_all:
        print(line)
    if args.markdown:
        command = " ".join([os.path.relpath(sys.argv[0])] + list(sys.argv[1:] if argv is None else argv))
        lines = [
            "# Derivative engines: ms per training step (fields + residual + mean square + backward)",
            "",
            f"Command: `python {command}`",
            "",
            f"Machine: {machine(device)}; device {device}; dtype {args.dtype}; activation {args.activation}; "
            f"malloc tuned {args.tune_malloc}; "
            f"init {args.init} (seed 0); medians of {args.repeats} interleaved steps after {args.warmup} warm-up "
            "steps.",
            "",
            "Cells: median ms (ratio to autograd). S: Taylor streams carried. Floors: plain forward + backward of "
            "the same MLP at batch N*S and at batch N. compile s: time of the first two compiled steps.",
            "",
            "| " + " | ".join(header) + " |",
            "|" + "---|" * len(header),
        ] + ["| " + " | ".join(r) + " |" for r in rows] + [""] + [f"- {line}" for line in notes_all]
        with open(args.markdown, "w") as fh:
            fh.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
