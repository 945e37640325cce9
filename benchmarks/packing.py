"""One packed Taylor pass for all point sets vs one pass per set: ms per training step (loss + gradient).

DeepXDE's Burgers setup (3 x 20 tanh, Glorot normal, float32): 2 780 residual points with u, u_x, u_t, u_xx
and 80 + 160 condition points with u only.  ``packed`` is what :class:`pinn_mrepu.training.PINNLoss` does
(:func:`pinn_mrepu.derivatives.compute_fields_many`: one network pass); ``per set`` calls
:func:`~pinn_mrepu.derivatives.compute_fields` once per set (three passes; value-only sets take a plain
forward).  Steps alternate between the two; medians of process CPU time.

    python benchmarks/packing.py --repeats 300 --threads 1
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from pinn_mrepu.training.allocator import tune_malloc
from pinn_mrepu.derivatives import compute_fields, compute_fields_many
from pinn_mrepu.nn import MLP
from pinn_mrepu.storage import cpu_model

VARS = ("x", "t")
NU = 0.01 / torch.pi


def main(argv: list[str] | None = None) -> dict[str, float]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeats", type=int, default=300)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--width", type=int, default=20)
    p.add_argument("--depth", type=int, default=3)
    p.add_argument("--activation", default="tanh")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    tune_malloc()
    model = MLP(2, 1, width=args.width, depth=args.depth, activation=args.activation, init="glorot_normal")
    gen = torch.Generator().manual_seed(0)
    box = lambda n: torch.rand(n, 2, generator=gen) * torch.tensor([2.0, 0.99]) - torch.tensor([1.0, 0.0])  # noqa: E731
    sets = [(box(2780), ["u", "u_x", "u_t", "u_xx"]), (box(80), ["u"]), (box(160), ["u"])]

    def loss(fields) -> torch.Tensor:
        f, b, i = fields
        return ((f["u_t"] + f["u"] * f["u_x"] - NU * f["u_xx"]).square().mean() + b["u"].square().mean()
                + i["u"].square().mean())

    def step(packed: bool) -> None:
        model.zero_grad(set_to_none=True)
        if packed:
            fields = compute_fields_many(model, sets, variables=VARS, engine="taylor")
        else:
            fields = [compute_fields(model, pts, names, variables=VARS, engine="taylor") for pts, names in sets]
        loss(fields).backward()

    times: dict[str, list[float]] = {"packed": [], "per set": []}
    for _ in range(5):
        step(True), step(False)
    for _ in range(args.repeats):
        for name, packed in (("packed", True), ("per set", False)):
            t0 = time.process_time()
            step(packed)
            times[name].append(time.process_time() - t0)
    med = {k: 1e3 * statistics.median(v) for k, v in times.items()}
    print(f"{cpu_model()}, torch {torch.__version__}, {args.threads} thread(s); {args.activation} "
          f"{args.depth} x {args.width}, float32, medians of {args.repeats} alternating steps")
    print(f"packed {med['packed']:.3f} ms, per set {med['per set']:.3f} ms, ratio {med['packed'] / med['per set']:.3f}")
    return med


if __name__ == "__main__":
    main()
