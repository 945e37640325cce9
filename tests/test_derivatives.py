"""Autograd derivative engine: analytic derivatives of known functions in float64, caching, errors."""

from __future__ import annotations

import pytest
import torch

from pinn_mrepu.derivatives import autograd as derivatives
from pinn_mrepu.derivatives import compute_fields, parse_field, required_order
from pinn_mrepu.nn import MLP

F64 = torch.float64


class Counting(torch.nn.Module):
    """u(points) from a torch function of the columns; counts forward calls."""

    def __init__(self, fn, n_out=1):
        super().__init__()
        self.fn, self.calls, self.n_out = fn, 0, n_out

    def forward(self, p):
        self.calls += 1
        out = self.fn(*p.unbind(dim=1))
        return torch.stack(out, dim=1) if isinstance(out, tuple) else out.unsqueeze(1)


def _xt(n=50, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 2, generator=g, dtype=F64) * torch.tensor([4.0, 2.0], dtype=F64) - torch.tensor([2.0, 0.5], dtype=F64)


# u = sin(2x) exp(-t) + x^3 t^2 and its derivatives
def _u1(x, t):
    return torch.sin(2 * x) * torch.exp(-t) + x**3 * t**2


def _exact1(x, t):
    s, c, e = torch.sin(2 * x), torch.cos(2 * x), torch.exp(-t)
    return {
        "u": s * e + x**3 * t**2,
        "u_x": 2 * c * e + 3 * x**2 * t**2,
        "u_t": -s * e + 2 * x**3 * t,
        "u_xx": -4 * s * e + 6 * x * t**2,
        "u_tt": s * e + 2 * x**3,
        "u_xt": -2 * c * e + 6 * x**2 * t,
        "u_tx": -2 * c * e + 6 * x**2 * t,
        "u_xxx": -8 * c * e + 6 * t**2,
        "u_xxt": 4 * s * e + 12 * x * t,
        "u_ttt": -s * e,
    }


def _assert_close(got, want, tol=1e-12):
    assert got.shape == want.shape
    err = ((got - want).abs() / (1.0 + want.abs())).max().item()
    assert err <= tol, f"relative error {err:.2e}"


def test_space_time_function_all_fields():
    pts = _xt()
    model = Counting(_u1)
    exact = _exact1(pts[:, 0:1], pts[:, 1:2])
    names = list(exact) + ["x", "t"]
    f = compute_fields(model, pts, names, variables=("x", "t"))
    assert list(f) == names
    for name, want in exact.items():
        assert f[name].shape == (50, 1) and f[name].dtype == F64
        _assert_close(f[name], want)
    torch.testing.assert_close(f["u_xt"], f["u_tx"], rtol=0, atol=0)
    torch.testing.assert_close(f["x"], pts[:, 0:1], rtol=0, atol=0)
    torch.testing.assert_close(f["t"], pts[:, 1:2], rtol=0, atol=0)
    assert model.calls == 1  # one forward pass for everything


def test_two_dimensional_function():
    g = torch.Generator().manual_seed(1)
    pts = torch.rand(40, 2, generator=g, dtype=F64) * 3 - 1
    x, y = pts[:, 0:1], pts[:, 1:2]
    model = Counting(lambda x, y: torch.sin(x) * torch.cos(2 * y) + x * y**3)
    f = compute_fields(model, pts, ["u", "u_x", "u_y", "u_xx", "u_yy", "u_xy", "u_yx"], variables=("x", "y"))
    _assert_close(f["u"], torch.sin(x) * torch.cos(2 * y) + x * y**3)
    _assert_close(f["u_x"], torch.cos(x) * torch.cos(2 * y) + y**3)
    _assert_close(f["u_y"], -2 * torch.sin(x) * torch.sin(2 * y) + 3 * x * y**2)
    _assert_close(f["u_xx"], -torch.sin(x) * torch.cos(2 * y))
    _assert_close(f["u_yy"], -4 * torch.sin(x) * torch.cos(2 * y) + 6 * x * y)
    _assert_close(f["u_xy"], -2 * torch.cos(x) * torch.sin(2 * y) + 3 * y**2)
    _assert_close(f["u_yx"], f["u_xy"], tol=0.0)
    assert model.calls == 1


def test_each_distinct_derivative_is_computed_once(monkeypatch):
    calls = []
    real = torch.autograd.grad

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(derivatives.torch.autograd, "grad", counting)
    model = Counting(_u1)
    pts = _xt(10)
    f = compute_fields(model, pts, ["u_xx", "u_x", "u_xx", "u_tx", "u_xt", "u_t", "u"], variables=("x", "t"))
    # the gradient of u gives u_x and u_t; the gradient of u_x gives u_xx and u_xt (= u_tx): two backward passes
    assert len(calls) == 2 and model.calls == 1
    assert set(f) == {"u_xx", "u_x", "u_tx", "u_xt", "u_t", "u"}


def test_create_graph_false_returns_detached_and_true_is_differentiable():
    net = MLP(2, width=8, depth=2, activation="tanh", init="glorot_normal", generator=0, dtype=F64)
    pts = _xt(20)
    det = compute_fields(net, pts, ["u", "u_x", "u_xx"], variables=("x", "t"), create_graph=False)
    assert all(not v.requires_grad for v in det.values())
    live = compute_fields(net, pts, ["u", "u_x", "u_xx"], variables=("x", "t"))
    assert live["u_xx"].requires_grad
    for k in det:
        torch.testing.assert_close(det[k], live[k].detach(), rtol=0, atol=0)
    live["u_xx"].pow(2).mean().backward()  # training needs d(loss)/d(params) through u_xx
    output_bias = net.linears[-1].bias  # the only parameter u_xx does not depend on
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters() if p is not output_bias)


def test_works_under_no_grad():
    """Evaluation code often runs under torch.no_grad(); derivatives must still be right (not silently 0)."""
    pts = _xt(15)
    with torch.no_grad():
        f = compute_fields(Counting(_u1), pts, ["u_x", "u_xx"], variables=("x", "t"), create_graph=False)
    exact = _exact1(pts[:, 0:1], pts[:, 1:2])
    _assert_close(f["u_x"], exact["u_x"])
    _assert_close(f["u_xx"], exact["u_xx"])


def test_mlp_second_derivative_matches_closed_form_chain_rule():
    """One hidden layer: u = W2 sigma(W1 x' + b1) + b2 with x' = s (x - c): u_xx = s^2 sum W2 sigma''(z) W1[:, 0]^2."""
    for act in ("mrepu", "tanh", "gelu"):
        net = MLP(2, width=16, depth=1, activation=act, init={"c_w": 2.0, "c_b": 0.5}, generator=3, dtype=F64,
                  input_bounds=([-2.0, -0.5], [2.0, 1.5]))
        pts = _xt(30)
        f = compute_fields(net, pts, ["u_x", "u_xx", "u_xt"], variables=("x", "t"))
        w1, b1 = net.linears[0].weight, net.linears[0].bias
        w2 = net.linears[1].weight[0]
        s = net.input_scale
        with torch.no_grad():
            z = net.normalise(pts) @ w1.T + b1
            d = net.activation.derivatives(z, 2)
            ux = (d[1] * w1[:, 0] * s[0]) @ w2
            uxx = (d[2] * (w1[:, 0] * s[0]) ** 2) @ w2
            uxt = (d[2] * w1[:, 0] * s[0] * w1[:, 1] * s[1]) @ w2
        _assert_close(f["u_x"].detach()[:, 0], ux)
        _assert_close(f["u_xx"].detach()[:, 0], uxx)
        _assert_close(f["u_xt"].detach()[:, 0], uxt)


def test_piecewise_linear_network_has_zero_second_derivative():
    net = MLP(2, width=10, depth=3, activation="relu", init="glorot_normal", generator=1, dtype=F64)
    pts = _xt(25)
    f = compute_fields(net, pts, ["u", "u_x", "u_xx", "u_xt", "u_xxx"], variables=("x", "t"))
    for name in ("u_xx", "u_xt", "u_xxx"):
        assert f[name].shape == (25, 1) and torch.all(f[name] == 0.0)
    assert f["u_x"].abs().sum() > 0


def test_multiple_outputs():
    model = Counting(lambda x, t: (x**2 * t, torch.sin(x) + t**3), n_out=2)
    pts = _xt(12)
    x, t = pts[:, 0:1], pts[:, 1:2]
    f = compute_fields(model, pts, ["u_x", "v", "v_x", "v_tt", "u_xt"], variables=("x", "t"), outputs=("u", "v"))
    _assert_close(f["u_x"], 2 * x * t)
    _assert_close(f["v"], torch.sin(x) + t**3)
    _assert_close(f["v_x"], torch.cos(x))
    _assert_close(f["v_tt"], 6 * t)
    _assert_close(f["u_xt"], 2 * x)


def test_parse_field_and_required_order():
    xt = ("x", "t")
    assert parse_field("u", xt).order == () and parse_field("u", xt).output == "u"
    assert parse_field("u_tx", xt).order == (0, 1) == parse_field("u_xt", xt).order
    assert parse_field("u_txx", xt).order == (0, 0, 1)
    assert parse_field("t", xt).output == "" and parse_field("t", xt).order == (1,)
    assert required_order(["u", "x", "u_t", "u_xx"], xt) == 2
    assert required_order(["u", "t"], xt) == 0
    assert required_order(["u_xxt"], xt) == 3


@pytest.mark.parametrize(
    "names, match",
    [(["u_z"], "'z' is not a variable"), (["v_x"], "must be an output"), (["u_"], "followed by variable"),
     (["ux"], "must be an output"), (["y"], "must be an output")],
)
def test_unknown_fields(names, match):
    with pytest.raises(ValueError, match=match):
        compute_fields(Counting(_u1), _xt(4), names, variables=("x", "t"))


def test_bad_engine_and_shapes():
    model = Counting(_u1)
    with pytest.raises(ValueError, match="engine: got 'forward'.*autograd"):
        compute_fields(model, _xt(4), ["u"], variables=("x", "t"), engine="forward")
    with pytest.raises(ValueError, match=r"points: got shape \(4,\)"):
        compute_fields(model, _xt(4)[:, 0], ["u"], variables=("x", "t"))
    with pytest.raises(ValueError, match=r"must be \(N, 3\)"):
        compute_fields(model, _xt(4), ["u"], variables=("x", "y", "t"))
    assert model.calls == 0
