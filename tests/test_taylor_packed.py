"""Packed evaluation of several point sets in one Taylor pass (``compute_fields_many``) equals separate calls.

The training loss evaluates the PDE residual's points (with derivative streams) and every condition's points
(values only, or with their own derivatives) in one network pass.  Fields and parameter gradients must equal
the autograd reference set by set (float64, 1e-10 norm-relative), on the fused and the plain-op paths, with and
without a hard-constraint output transform.
"""

from __future__ import annotations

import pytest
import torch

from pinn_mrepu.derivatives import compute_fields, compute_fields_many, parse_field
from pinn_mrepu.config.expressions import parse_expression
from pinn_mrepu.nn import MLP
from pinn_mrepu.derivatives.taylor import taylor_fields_many
from pinn_mrepu.derivatives.transforms import OutputTransform

RTOL = 1e-10
VARS = ("x", "t")


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    diff, ref = (a - b).norm().item(), b.norm().item()
    return 0.0 if diff == 0.0 else diff / ref if ref > 0 else float("inf")


def _pts(n: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, generator=gen, dtype=torch.float64) * torch.tensor([2.0, 1.0], dtype=torch.float64) - \
        torch.tensor([1.0, 0.0], dtype=torch.float64)


# interior (PDE fields), a Neumann-like set (first derivative), two value-only sets, a set asking a coordinate
REQUESTS = [(_pts(31, 1), ["u", "u_x", "u_t", "u_xx", "x"]), (_pts(7, 2), ["u_x", "u"]), (_pts(5, 3), ["u"]),
            (_pts(9, 4), ["u", "t"])]


def _loss(fields: list[dict[str, torch.Tensor]]) -> torch.Tensor:
    f0, f1, f2, f3 = fields
    r = f0["u_t"] + f0["u"] * f0["u_x"] - 0.01 * f0["u_xx"] + f0["x"]
    return r.square().mean() + (f1["u_x"] - 0.3).square().mean() + f2["u"].square().mean() + \
        (f3["u"] - f3["t"]).square().mean() + (f1["u"] * 0.5).square().mean()


def _model(activation: str, params: dict, depth: int = 3) -> MLP:
    """float64; MRePU gets a small first layer (its critical shape) so that deep p = 3 nets stay finite."""
    init = {"c_w": 1.0, "c_b": 0.0} if activation == "mrepu" else {"c_w": 1.5, "c_b": 0.1}
    model = MLP(2, 1, width=7, depth=depth, activation=activation, activation_params=params, init=init,
                input_bounds=([-1.0, 0.0], [1.0, 1.0]), generator=3, dtype=torch.float64)
    if activation == "mrepu":
        with torch.no_grad():
            model.linears[0].weight.mul_(0.2)
    return model


def _grads(model, loss):
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, list(model.parameters()))])


@pytest.mark.parametrize("activation, params", [("tanh", {}), ("mrepu", {"p": 2}), ("mrepu", {"p": 3}),
                                                ("silu", {})])
@pytest.mark.parametrize("depth", [1, 4])
def test_packed_sets_match_autograd_per_set(activation, params, depth):
    model = _model(activation, params, depth)
    ref = [compute_fields(model, p, names, variables=VARS, engine="autograd") for p, names in REQUESTS]
    g_ref = _grads(model, _loss(ref))
    for fused in (True, False):
        specs = [(p, [parse_field(n, VARS) for n in names]) for p, names in REQUESTS]
        out = taylor_fields_many(model, specs, fused=fused)
        for (p, names), o, r in zip(REQUESTS, out, ref):
            assert set(o) == set(names)
            for name in names:
                assert o[name].shape == (p.shape[0], 1)
                assert _rel(o[name], r[name]) <= RTOL, (name, fused)
        assert _rel(_grads(model, _loss(out)), g_ref) <= RTOL, fused


def test_compute_fields_many_with_output_transform_matches_autograd():
    base = parse_expression("-sin(pi*x)", variables=VARS)
    factor = parse_expression("t*(1 - x**2)", variables=VARS)
    model = OutputTransform(_model("tanh", {}), base, factor)
    ref = compute_fields_many(model, REQUESTS, variables=VARS, engine="autograd")
    out = compute_fields_many(model, REQUESTS, variables=VARS, engine="taylor")
    for (_, names), o, r in zip(REQUESTS, out, ref):
        for name in names:
            assert _rel(o[name], r[name]) <= RTOL, name
    assert _rel(_grads(model, _loss(out)), _grads(model, _loss(ref))) <= RTOL


def test_value_only_sets_pack_without_streams():
    model = _model("gelu", {})
    reqs = [(p, ["u"]) for p, _ in REQUESTS]
    out = compute_fields_many(model, reqs, variables=VARS, engine="taylor")
    for (p, _), o in zip(reqs, out):
        assert _rel(o["u"], model(p)) <= RTOL


def test_packed_errors_name_the_field():
    model = _model("tanh", {})
    with pytest.raises(ValueError, match="points: got shape"):
        compute_fields_many(model, [REQUESTS[0], (torch.zeros(3, 3, dtype=torch.float64), ["u"])], variables=VARS,
                            engine="taylor")
    with pytest.raises(ValueError, match="engine: got 'nope'"):
        compute_fields_many(model, REQUESTS, variables=VARS, engine="nope")
    with pytest.raises(ValueError, match="field: got 'u_z'"):
        compute_fields_many(model, [REQUESTS[0], (REQUESTS[1][0], ["u_z"])], variables=VARS, engine="taylor")
