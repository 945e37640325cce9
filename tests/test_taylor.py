"""The Taylor-mode engine agrees with the autograd reference engine (float64, 1e-10 norm-relative).

Fields and parameter gradients of residual losses are compared for every activation at depths 1, 3 and 8,
for inputs x, (x, t) and (x, y) with a non-trivial input map, on both the fused (closed-form backward) and the
plain-op (torch.compile, order 3) code paths.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from pinn_mrepu.derivatives import compute_fields, parse_field
from pinn_mrepu.derivatives.taylor import taylor_fields
from pinn_mrepu.nn import MLP

from taylor_support import box_points, param_grads, taylor_mlp

RTOL = 1e-10
ACTIVATIONS = [
    ("tanh", {}),
    ("mrepu", {"p": 1}),
    ("mrepu", {"p": 2}),
    ("mrepu", {"p": 3}),
    ("repu", {"p": 2}),
    ("gelu", {}),
    ("silu", {}),
    ("sin", {}),
]
# variables, input box, fields (all PDE families plus mixed and coordinate columns), residual losses
CASES = {
    "x": (("x",), ([-1.0], [2.0]), ["u", "u_x", "u_xx", "x"]),
    "xt": (("x", "t"), ([-1.0, 0.0], [1.0, 2.0]), ["u", "u_x", "u_t", "u_xx", "u_xt", "u_tx", "t"]),
    "xy": (("x", "y"), ([0.0, -0.5], [1.0, 0.5]), ["u", "u_xx", "u_yy", "u_xy", "u_x"]),
}
NU = 0.01
_MREPU_FIRST_LAYER = {1: 0.6, 2: 0.24, 3: 0.15}  # ~ sqrt of the critical first-layer c_w for p = 1, 2, 3


def _losses(case: str, f: dict[str, torch.Tensor]) -> torch.Tensor:
    """A training-like scalar: mean squares of the residuals the fields serve."""
    if case == "x":  # Poisson 1D
        return (f["u_xx"] + torch.sin(f["x"])).square().mean() + (f["u_x"] * f["u"]).square().mean()
    if case == "xt":  # Burgers + heat + a mixed term
        burgers = f["u_t"] + f["u"] * f["u_x"] - NU * f["u_xx"]
        heat = f["u_t"] - 0.1 * f["u_xx"]
        return burgers.square().mean() + heat.square().mean() + (f["u_xt"] * f["t"]).square().mean()
    poisson = f["u_xx"] + f["u_yy"] + 1.0  # Poisson 2D
    return poisson.square().mean() + 0.5 * (f["u_xy"] * f["u"]).square().mean()


def _rel(a: torch.Tensor, b: torch.Tensor) -> float:
    """||a - b|| / ||b|| (0 when both vanish)."""
    diff, ref = (a - b).norm().item(), b.norm().item()
    return 0.0 if diff == 0.0 else diff / ref if ref > 0 else float("inf")


def _model(activation, params, variables, bounds, depth, width=5, seed=0):
    return taylor_mlp(activation, params, variables, bounds, first_layer=_MREPU_FIRST_LAYER, depth=depth,
                      width=width, seed=seed)


def _points(bounds, n=23, seed=1):
    return box_points(bounds, n, seed)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("depth", [1, 3, 8])
@pytest.mark.parametrize("activation, params", ACTIVATIONS, ids=[f"{a}{p.get('p', '')}" for a, p in ACTIVATIONS])
def test_fields_and_gradients_match_autograd(activation, params, depth, case):
    variables, bounds, names = CASES[case]
    model = _model(activation, params, variables, bounds, depth, seed=depth)
    pts = _points(bounds)
    ref = compute_fields(model, pts, names, variables=variables, engine="autograd")
    g_ref = param_grads(model, _losses(case, ref))
    assert torch.isfinite(g_ref).all() and g_ref.norm() > 0
    specs = [parse_field(n, variables) for n in names]
    for fused in (True, False):
        out = taylor_fields(model, pts, specs, fused=fused)
        assert set(out) == set(names)
        for name in names:
            assert out[name].shape == (pts.shape[0], 1), name
            assert _rel(out[name], ref[name]) <= RTOL, (name, fused, _rel(out[name], ref[name]))
        g = param_grads(model, _losses(case, out))
        assert _rel(g, g_ref) <= RTOL, (fused, _rel(g, g_ref))


@pytest.mark.parametrize("activation, params", [("tanh", {}), ("mrepu", {"p": 2}), ("mrepu", {"p": 3}), ("gelu", {})])
def test_third_order_fields_match_autograd(activation, params):
    variables, bounds = ("x", "t"), ([-1.0, 0.0], [1.0, 1.0])
    model = _model(activation, params, variables, bounds, depth=3)
    pts = _points(bounds)
    names = ["u_xxx", "u_xxt", "u_t", "u"]
    ref = compute_fields(model, pts, names, variables=variables, engine="autograd")
    out = compute_fields(model, pts, names, variables=variables, engine="taylor")
    for name in names:
        assert _rel(out[name], ref[name]) <= RTOL, name
    loss = lambda f: (f["u_t"] + f["u"] * f["u_xxx"] + f["u_xxt"]).square().mean()
    assert _rel(param_grads(model, loss(out)), param_grads(model, loss(ref))) <= RTOL


def test_value_only_and_several_outputs():
    model = MLP(2, 2, width=6, depth=2, activation="tanh", input_bounds=([0, 0], [2, 3]), dtype=torch.float64)
    pts = _points(([0.0, 0.0], [2.0, 3.0]))
    names = ["u", "v", "v_y", "u_xy", "v_yy"]
    kw = {"variables": ("x", "y"), "outputs": ("u", "v")}
    ref = compute_fields(model, pts, names, engine="autograd", **kw)
    out = compute_fields(model, pts, names, engine="taylor", **kw)
    for name in names:
        assert _rel(out[name], ref[name]) <= RTOL, name
    only = compute_fields(model, pts, ["u"], engine="taylor", **kw)
    assert _rel(only["u"], ref["u"]) <= RTOL


def test_create_graph_false_returns_detached_fields():
    model = _model("mrepu", {"p": 2}, ("x", "t"), ([-1.0, 0.0], [1.0, 1.0]), depth=3)
    pts = _points(([-1.0, 0.0], [1.0, 1.0]))
    names = ["u", "u_x", "u_xx", "x"]
    out = compute_fields(model, pts, names, variables=("x", "t"), engine="taylor", create_graph=False)
    ref = compute_fields(model, pts, names, variables=("x", "t"), engine="autograd", create_graph=False)
    for name in names:
        assert not out[name].requires_grad
        assert _rel(out[name], ref[name]) <= RTOL


def test_adam_trajectories_agree():
    variables, bounds = ("x", "t"), ([-1.0, 0.0], [1.0, 1.0])
    pts = _points(bounds, n=64)
    names = ["u", "u_x", "u_t", "u_xx"]
    histories = {}
    for engine in ("autograd", "taylor"):
        model = _model("mrepu", {"p": 2}, variables, bounds, depth=4, width=8, seed=7)
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        losses = []
        for _ in range(5):
            opt.zero_grad()
            f = compute_fields(model, pts, names, variables=variables, engine=engine)
            loss = (f["u_t"] + f["u"] * f["u_x"] - NU * f["u_xx"]).square().mean() + (f["u"] - 1).square().mean()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        histories[engine] = torch.tensor(losses, dtype=torch.float64)
    assert histories["autograd"][-1] != histories["autograd"][0]
    assert _rel(histories["taylor"], histories["autograd"]) <= 1e-9


class _Wrapped(MLP):
    def forward(self, x):  # e.g. a hard-constraint wrapper: the Taylor engine must not ignore it
        return x[:, :1] * super().forward(x)


def test_unsupported_models_and_orders_raise():
    pts = _points(([0.0, 0.0], [1.0, 1.0]))
    kw = {"variables": ("x", "t"), "engine": "taylor"}
    seq = nn.Sequential(nn.Linear(2, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    with pytest.raises(TypeError, match="MLP.*autograd"):
        compute_fields(seq, pts, ["u_x"], **kw)
    with pytest.raises(TypeError, match="MLP"):
        compute_fields(_Wrapped(2, 1, depth=2, dtype=torch.float64), pts, ["u_x"], **kw)
    model = MLP(2, 1, width=4, depth=2, activation="tanh", dtype=torch.float64)
    with pytest.raises(ValueError, match="order 5.*up to order 4.*autograd"):
        compute_fields(model, pts, ["u_xxxxt"], **kw)
    with pytest.raises(ValueError, match="points"):
        taylor_fields(model, pts[:, :1], [parse_field("u_x", ("x",))])
    with pytest.raises(ValueError, match="output"):
        compute_fields(model, pts, ["v"], variables=("x", "t"), outputs=("u", "v"), engine="taylor")
