"""Fourth-order fields (u_xxxx, u_xxyy, u_xxtt, u_xxxt ...): the Taylor engine equals nested autograd.

Every field up to order 4 (all multi-indices, every output) is compared in float64 at 1e-10 norm-relative, for
MRePU p = 5 (sigma'''' smooth and nonzero) and p = 3 (sigma'''' = 24 H(z + 1), piecewise), tanh, sin, GELU and
SiLU, with one and three outputs, on (x, y) and (x, y, t) inputs.  Also: both engines against the closed form of
a one-hidden-layer net, a parameter gradient of a loss on order-4 fields, packed mixed-order requests
(``compute_fields_many``), the hard-constraint output transform, that order <= 2 still takes the fused path and
that order 5 is refused with a clear error.
"""

from __future__ import annotations

import itertools

import pytest
import torch

from pinn_mrepu.config.expressions import parse_expression
from pinn_mrepu.derivatives import (
    MAX_ORDER,
    compute_fields,
    compute_fields_many,
    parse_field,
)
from pinn_mrepu.derivatives import taylor as taylor_module
from pinn_mrepu.derivatives.taylor import taylor_fields
from pinn_mrepu.derivatives.transforms import OutputTransform
from taylor_support import box_points, param_grads, taylor_mlp

RTOL = 1e-10
ATOL = 1e-13  # only for fields that vanish identically (reference norm 0)
ACTIVATIONS = [("mrepu", {"p": 5}), ("mrepu", {"p": 3}), ("tanh", {}), ("sin", {}), ("gelu", {}), ("silu", {})]
ACT_IDS = [f"{a}{p.get('p', '')}" for a, p in ACTIVATIONS]
DOMAINS = {"xy": (("x", "y"), ([0.0, -0.5], [1.0, 0.5])), "xyt": (("x", "y", "t"), ([-1.0, 0.0, 0.0], [1.0, 2.0, 1.0]))}
OUTPUTS = {1: ("u",), 3: ("u", "v", "p")}
_MREPU_FIRST_LAYER = {3: 0.3, 5: 0.1}


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """||a - b|| / ||b||; an identically zero reference is compared absolutely."""
    diff, ref = (a - b).norm().item(), b.norm().item()
    if ref == 0.0:
        return 0.0 if diff <= ATOL else float("inf")
    return diff / ref


def _all_names(variables, outputs, max_order=4) -> list[str]:
    """Every field of every output up to ``max_order`` (each multi-index once), plus the coordinates."""
    names = list(variables)
    for out in outputs:
        for n in range(max_order + 1):
            for combo in itertools.combinations_with_replacement(variables, n):
                names.append(out + ("_" + "".join(combo) if combo else ""))
    return names


def _model(activation, params, variables, bounds, out_dim=1, depth=3, width=6, seed=0):
    """float64 MLP; MRePU gets a small first layer (its critical shape) so high powers stay moderate: p = 5 stays
    right of the kink, p = 3 has some pre-activations below z = -1 (where sigma jumps from 0 to 24)."""
    return taylor_mlp(activation, params, variables, bounds, first_layer=_MREPU_FIRST_LAYER, out_dim=out_dim,
                      depth=depth, width=width, seed=seed)


def _points(bounds, n=13, seed=1):
    return box_points(bounds, n, seed)


def test_max_order_is_four():
    assert MAX_ORDER == 4


@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize("domain", sorted(DOMAINS))
@pytest.mark.parametrize("activation, params", ACTIVATIONS, ids=ACT_IDS)
def test_every_field_up_to_order_four_matches_autograd(activation, params, domain, n_out):
    variables, bounds = DOMAINS[domain]
    outputs = OUTPUTS[n_out]
    model = _model(activation, params, variables, bounds, out_dim=n_out, seed=n_out)
    pts = _points(bounds)
    names = _all_names(variables, outputs)
    kw = {"variables": variables, "outputs": outputs}
    ref = compute_fields(model, pts, names, engine="autograd", create_graph=False, **kw)
    out = compute_fields(model, pts, names, engine="taylor", create_graph=False, **kw)
    assert set(out) == set(names)
    for name in names:
        assert out[name].shape == (pts.shape[0], 1), name
        assert _rel(out[name], ref[name]) <= RTOL, (name, _rel(out[name], ref[name]))
    fourth = [n for n in names if "_" in n and len(n.split("_")[1]) == 4]
    assert all(ref[n].norm() > 0 for n in fourth if activation != "mrepu" or params["p"] > 3)


@pytest.mark.parametrize("activation, params", [("tanh", {}), ("mrepu", {"p": 5}), ("sin", {})])
def test_one_hidden_layer_closed_form(activation, params):
    """u = w2 . sigma(W1 xhat + b1) + b2: u_xxyy = sum_j w2_j sigma''''(z_j) (W1 S)_jx^2 (W1 S)_jy^2, S the scale."""
    variables, bounds = DOMAINS["xy"]
    model = _model(activation, params, variables, bounds, depth=1, width=7)
    pts = _points(bounds)
    lin1, lin2 = model.linears
    z = model.normalise(pts) @ lin1.weight.T + lin1.bias
    s4 = model.activation.derivative(z, 4)
    a = lin1.weight * model.input_scale  # (width, 2): dz/dx, dz/dy
    expect = {"u_xxyy": (s4 * a[:, 0] ** 2 * a[:, 1] ** 2) @ lin2.weight.T,
              "u_xxxy": (s4 * a[:, 0] ** 3 * a[:, 1]) @ lin2.weight.T,
              "u_yyyy": (s4 * a[:, 1] ** 4) @ lin2.weight.T}
    for engine in ("autograd", "taylor"):
        got = compute_fields(model, pts, list(expect), variables=variables, engine=engine, create_graph=False)
        for name, value in expect.items():
            assert _rel(got[name], value.detach()) <= RTOL, (engine, name)


@pytest.mark.parametrize("activation, params", [("tanh", {}), ("mrepu", {"p": 5}), ("gelu", {})])
def test_parameter_gradient_of_order_four_loss_matches_autograd(activation, params):
    """Biharmonic and Kuramoto-Sivashinsky-like residuals, three outputs on (x, y, t)."""
    variables, bounds = DOMAINS["xyt"]
    outputs = OUTPUTS[3]
    model = _model(activation, params, variables, bounds, out_dim=3, seed=5)
    pts = _points(bounds, n=17)
    names = ["u", "u_x", "u_t", "u_xx", "u_xxxx", "u_xxyy", "u_yyyy", "v", "v_xyt", "v_xxtt", "p_xxxt", "t"]

    def loss(f):
        biharmonic = f["u_xxxx"] + 2.0 * f["u_xxyy"] + f["u_yyyy"] - torch.sin(f["t"])
        ks = f["u_t"] + f["u"] * f["u_x"] + f["u_xx"] + f["u_xxxx"]
        return biharmonic.square().mean() + ks.square().mean() + (f["v_xxtt"] * f["v"] + f["v_xyt"]).square().mean() \
            + (f["p_xxxt"] - 0.1).square().mean()

    kw = {"variables": variables, "outputs": outputs}
    ref = compute_fields(model, pts, names, engine="autograd", **kw)
    out = compute_fields(model, pts, names, engine="taylor", **kw)
    for name in names:
        assert _rel(out[name], ref[name]) <= RTOL, name
    g_ref = param_grads(model, loss(ref))
    assert torch.isfinite(g_ref).all() and g_ref.norm() > 0
    assert _rel(param_grads(model, loss(out)), g_ref) <= RTOL


# beam-like problem on (x, t): the PDE's points with order-4 streams, clamped/free-end conditions of orders 0..3
BEAM_VARS = ("x", "t")
BEAM_BOUNDS = ([0.0, 0.0], [1.0, 1.0])


def _beam_requests(outputs):
    pts = [_points(BEAM_BOUNDS, n=n, seed=s) for n, s in ((19, 1), (6, 2), (5, 3), (4, 4))]
    first, *rest = outputs
    interior = [f"{first}_tt", f"{first}_xxxx", f"{first}_xxxt", f"{first}_xxtt", first, "x"]
    interior += [f"{o}_xxxx" for o in rest] + [f"{o}_xt" for o in rest]
    return [(pts[0], interior), (pts[1], [f"{first}_xx", f"{first}_xxx"]), (pts[2], [first, f"{first}_x"]),
            (pts[3], list(outputs))]


def _beam_loss(fields, outputs):
    f0, f1, f2, f3 = fields
    u = outputs[0]
    r = f0[f"{u}_tt"] + f0[f"{u}_xxxx"] + 0.1 * f0[f"{u}_xxxt"] * f0[u] + f0[f"{u}_xxtt"] - f0["x"]
    extra = sum(f0[f"{o}_xxxx"].square().mean() + f0[f"{o}_xt"].square().mean() for o in outputs[1:])
    return r.square().mean() + (f1[f"{u}_xx"].square() + f1[f"{u}_xxx"].square()).mean() + \
        (f2[u] + f2[f"{u}_x"]).square().mean() + sum(f3[o].square().mean() for o in outputs) + extra


@pytest.mark.parametrize("n_out", [1, 3])
@pytest.mark.parametrize("activation, params", [("mrepu", {"p": 5}), ("silu", {})])
def test_packed_mixed_order_requests_match_autograd(activation, params, n_out):
    outputs = OUTPUTS[n_out]
    model = _model(activation, params, BEAM_VARS, BEAM_BOUNDS, out_dim=n_out, seed=2)
    requests = _beam_requests(outputs)
    kw = {"variables": BEAM_VARS, "outputs": outputs}
    ref = compute_fields_many(model, requests, engine="autograd", **kw)
    out = compute_fields_many(model, requests, engine="taylor", **kw)
    for (p, names), o, r in zip(requests, out, ref):
        assert set(o) == set(names)
        for name in names:
            assert o[name].shape == (p.shape[0], 1)
            assert _rel(o[name], r[name]) <= RTOL, name
    assert _rel(param_grads(model, _beam_loss(out, outputs)), param_grads(model, _beam_loss(ref, outputs))) <= RTOL


@pytest.mark.parametrize("activation, params", [("tanh", {}), ("mrepu", {"p": 5})])
def test_output_transform_order_four_matches_autograd(activation, params):
    """Leibniz rule to order 4: u = base + factor * N with a factor whose 4th derivatives do not vanish."""
    base = parse_expression("sin(pi*x)*t + x**4*t**2", variables=BEAM_VARS)
    factor = parse_expression("t*x**2*(1 - x)**2*exp(x*t)", variables=BEAM_VARS)
    model = OutputTransform(_model(activation, params, BEAM_VARS, BEAM_BOUNDS, seed=3), base, factor)
    requests = _beam_requests(("u",))
    ref = compute_fields_many(model, requests, variables=BEAM_VARS, engine="autograd")
    out = compute_fields_many(model, requests, variables=BEAM_VARS, engine="taylor")
    for (_, names), o, r in zip(requests, out, ref):
        for name in names:
            assert _rel(o[name], r[name]) <= RTOL, name
    g_ref = param_grads(model, _beam_loss(ref, ("u",)))
    assert _rel(param_grads(model, _beam_loss(out, ("u",))), g_ref) <= RTOL
    pts, names = requests[0]  # the single-set path (compute_fields) through the transform
    single = compute_fields(model, pts, names + ["u_tttt", "u_xxxx"], variables=BEAM_VARS, engine="taylor")
    single_ref = compute_fields(model, pts, names + ["u_tttt", "u_xxxx"], variables=BEAM_VARS, engine="autograd")
    for name in single:
        assert _rel(single[name], single_ref[name]) <= RTOL, name


def test_fused_path_serves_order_two_only(monkeypatch):
    """Order <= 2 requests still run the fused closed-form-backward node; order 3 and 4 the plain-op path."""
    calls = []
    apply = taylor_module.TaylorNet.apply

    def spy(*args):
        calls.append(args[3].max_order)
        return apply(*args)

    monkeypatch.setattr(taylor_module.TaylorNet, "apply", spy)
    variables, bounds = DOMAINS["xy"]
    model = _model("tanh", {}, variables, bounds)
    pts = _points(bounds)
    for names, fused_expected in ((["u", "u_xx", "u_xy"], True), (["u_xxy"], False), (["u_xxyy", "u_x"], False)):
        calls.clear()
        specs = [parse_field(n, variables) for n in names]
        ref = compute_fields(model, pts, names, variables=variables, engine="autograd")
        out = taylor_fields(model, pts, specs, fused=True)  # fused=True is only a request: order > 2 falls back
        assert bool(calls) == fused_expected, names
        for name in names:
            assert _rel(out[name], ref[name]) <= RTOL, name


def test_order_five_is_refused_with_the_field_and_the_limit():
    variables, bounds = DOMAINS["xyt"]
    model = _model("tanh", {}, variables, bounds)
    pts = _points(bounds)
    with pytest.raises(ValueError, match=r"field: got 'u_xxxxt' of order 5.*up to order 4.*autograd"):
        compute_fields(model, pts, ["u", "u_xxxxt"], variables=variables, engine="taylor")
    with pytest.raises(ValueError, match=r"'u_xxyyy' of order 5"):
        compute_fields_many(model, [(pts, ["u_xxxx"]), (pts, ["u_xxyyy"])], variables=variables, engine="taylor")
    ref = compute_fields(model, pts, ["u_xxxxt"], variables=variables, engine="autograd")  # autograd: any order
    assert torch.isfinite(ref["u_xxxxt"]).all() and ref["u_xxxxt"].norm() > 0
