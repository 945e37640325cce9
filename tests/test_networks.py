"""MLP: shapes, input normalisation, initialisation statistics, reproducibility, argument errors, kink crossings."""

from __future__ import annotations

import math

import pytest
import torch

from pinn_mrepu.activations import MRePU
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.nn import INITS, MLP, kink_crossings, layer_variances

F64 = torch.float64


def _net(**kw):
    args = dict(width=12, depth=3, activation="mrepu", init="glorot_normal", dtype=F64, generator=0)
    args.update(kw)
    return MLP(kw.pop("in_dim", 2), kw.pop("out_dim", 1), **{k: v for k, v in args.items() if k not in ("in_dim", "out_dim")})


@pytest.mark.parametrize("in_dim, out_dim, width, depth", [(1, 1, 5, 1), (2, 1, 12, 3), (3, 2, 7, 6)])
def test_shapes_and_counts(in_dim, out_dim, width, depth):
    net = _net(in_dim=in_dim, out_dim=out_dim, width=width, depth=depth)
    assert len(net.linears) == depth + 1
    sizes = [(lin.in_features, lin.out_features) for lin in net.linears]
    assert sizes == [(in_dim, width)] + [(width, width)] * (depth - 1) + [(width, out_dim)]
    n_params = sum(p.numel() for p in net.parameters())
    assert n_params == in_dim * width + width + (depth - 1) * (width * width + width) + width * out_dim + out_dim
    y = net(torch.zeros(9, in_dim, dtype=F64))
    assert y.shape == (9, out_dim) and y.dtype == F64
    assert all(p.dtype == F64 for p in net.parameters())
    assert _net(dtype=torch.float32)(torch.zeros(3, 2)).dtype == torch.float32


def test_forward_is_the_composition():
    net = _net(activation="tanh", init={"c_w": 1.5, "c_b": 0.1}, input_bounds=([0.0, -2.0], [1.0, 2.0]))
    x = torch.tensor([[0.3, 1.0], [1.0, -2.0]], dtype=F64)
    h = (x - torch.tensor([0.5, 0.0], dtype=F64)) * torch.tensor([2.0, 0.5], dtype=F64)
    for lin in net.linears[:-1]:
        h = torch.tanh(h @ lin.weight.T + lin.bias)
    want = h @ net.linears[-1].weight.T + net.linears[-1].bias
    torch.testing.assert_close(net(x), want, rtol=1e-14, atol=1e-14)


def test_activation_params_pass_through():
    net = _net(activation_params={"p": 3})
    assert isinstance(net.activation, MRePU) and net.activation.p == 3
    inst = MRePU(1)
    assert _net(activation=inst).activation is inst


def test_input_normalisation_maps_the_box_to_unit_cube():
    lo, hi = [-1.0, 0.0, 2.0], [1.0, 0.5, 10.0]
    net = _net(in_dim=3, input_bounds=(lo, hi))
    corners = torch.tensor([lo, hi, [(a + b) / 2 for a, b in zip(lo, hi)]], dtype=F64)
    z = net.normalise(corners)
    torch.testing.assert_close(z, torch.tensor([[-1.0] * 3, [1.0] * 3, [0.0] * 3], dtype=F64), rtol=0, atol=1e-15)
    g = torch.Generator().manual_seed(0)
    inside = torch.tensor(lo, dtype=F64) + torch.rand(100, 3, generator=g, dtype=F64) * torch.tensor(
        [b - a for a, b in zip(lo, hi)], dtype=F64)
    assert net.normalise(inside).abs().max() <= 1.0
    plain = _net(in_dim=3)
    torch.testing.assert_close(plain.normalise(inside), inside, rtol=0, atol=0)
    # the map is a buffer (moves with .to(), saved in the state dict), not a trained parameter
    assert "input_shift" in net.state_dict() and "input_scale" in net.state_dict()
    assert all(p.shape != (3,) or p is not net.input_scale for p in net.parameters())
    assert len(list(net.parameters())) == 2 * len(net.linears)


def _stats(t: torch.Tensor) -> tuple[float, float]:
    return t.mean().item(), t.var(unbiased=False).item()


def test_variance_form_init_statistics():
    width, c_w, c_b = 600, 2.0, 0.5
    net = MLP(3, 1, width=width, depth=2, activation="tanh", init={"c_w": c_w, "c_b": c_b}, generator=5, dtype=F64)
    w = net.linears[1].weight  # 600 x 600 = 360000 draws: relative std of the variance estimate ~0.24 %
    mean, var = _stats(w)
    assert abs(mean) < 4 * math.sqrt(c_w / width / w.numel())
    assert var == pytest.approx(c_w / width, rel=0.02)
    first = net.linears[0].weight  # fan_in = 3
    assert first.var(unbiased=False).item() == pytest.approx(c_w / 3, rel=0.15)
    biases = torch.cat([net.linears[0].bias, net.linears[1].bias])  # 1200 draws, relative std ~4 %
    assert biases.var(unbiased=False).item() == pytest.approx(c_b, rel=0.2)


def test_lecun_and_glorot_statistics():
    width = 600
    lecun = MLP(2, 1, width=width, depth=2, activation="tanh", init="lecun_normal", generator=1, dtype=F64)
    assert lecun.linears[1].weight.var(unbiased=False).item() == pytest.approx(1.0 / width, rel=0.02)
    assert all(torch.all(lin.bias == 0) for lin in lecun.linears)
    glorot = MLP(2, 1, width=width, depth=2, activation="tanh", init="glorot_normal", generator=1, dtype=F64)
    assert glorot.linears[1].weight.std(unbiased=False).item() == pytest.approx(math.sqrt(2.0 / (2 * width)), rel=0.01)
    assert glorot.linears[2].weight.std(unbiased=False).item() == pytest.approx(math.sqrt(2.0 / (width + 1)), rel=0.15)
    assert all(torch.all(lin.bias == 0) for lin in glorot.linears)


def test_layer_variances():
    act = MRePU()
    fan = [(2, 8), (8, 8), (8, 1)]
    assert layer_variances({"c_w": 2.0, "c_b": 0.1}, act, fan) == [(0.1, 2.0)] * 3
    assert layer_variances({}, act, fan) == [(0.0, 1.0)] * 3
    assert layer_variances("lecun_normal", act, fan) == [(0.0, 1.0)] * 3
    assert layer_variances("glorot_normal", act, fan) == [None] * 3
    assert INITS == ("critical", "glorot_normal", "lecun_normal")


def test_reproducible_from_seed_and_independent_of_global_rng():
    state = torch.random.get_rng_state()
    a, b = _net(generator=11), _net(generator=11)
    c = _net(generator=torch.Generator().manual_seed(11))
    d = _net(generator=12)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global generator was not used
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb) and torch.equal(pa, pc)
    assert not torch.equal(a.linears[0].weight, d.linears[0].weight)
    # a seed gives the same numbers whatever the parameter dtype
    f32 = _net(generator=11, dtype=torch.float32)
    torch.testing.assert_close(f32.linears[1].weight, a.linears[1].weight.float(), rtol=0, atol=0)
    before = [p.clone() for p in a.parameters()]
    a.reset_parameters(11)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), before))
    a.reset_parameters(99)
    assert not torch.equal(a.linears[0].weight, before[0])


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"width": 0}, "width: got 0"),
        ({"depth": 0}, "depth: got 0"),
        ({"width": 2.5}, "width: got 2.5"),
        ({"depth": True}, "depth: got True"),
        ({"in_dim": 0}, "in_dim: got 0"),
        ({"out_dim": -1}, "out_dim: got -1"),
        ({"input_bounds": ([0.0], [1.0])}, "input_bounds"),
        ({"input_bounds": ([0.0, 1.0], [1.0, 1.0])}, "input_bounds"),
        ({"input_bounds": ([0.0, 2.0], [1.0, 1.0])}, "input_bounds"),
        ({"input_bounds": ([0.0, -math.inf], [1.0, 1.0])}, "input_bounds"),
        ({"input_bounds": ([0.0, float("nan")], [1.0, 1.0])}, "input_bounds"),
    ],
)
def test_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        _net(**kw)


@pytest.mark.parametrize(
    "init, match",
    [
        ("xavier", "network|init: got 'xavier', must be one of critical, glorot_normal, lecun_normal"),
        ({"c_w": 0.0}, "c_w > 0"),
        ({"c_w": 1.0, "c_b": -0.1}, "c_b >= 0"),
        ({"c_w": "big"}, "must be numbers"),
        ({"c_w": True}, "must be numbers"),
        ({"c_w": 1.0, "gain": 2.0}, "only the keys c_w and c_b"),
        ({"c_w": math.inf}, "finite"),
    ],
)
def test_bad_init_is_config_error(init, match):
    with pytest.raises(ConfigError, match=match) as info:
        _net(init=init)
    assert info.value.field == "init"


def test_kink_crossings_counts_the_neurons_whose_pre_activation_straddles_a_kink():
    net = MLP(1, 1, width=3, depth=2, activation="mrepu", init="glorot_normal", dtype=F64)
    with torch.no_grad():  # on x in [-2, 2], layer 1: z = x crosses -1; x + 5 in [3, 7]; 0.1 x - 3 wholly left of -1
        net.linears[0].weight.copy_(torch.tensor([[1.0], [1.0], [0.1]], dtype=F64))
        net.linears[0].bias.copy_(torch.tensor([0.0, 5.0, -3.0], dtype=F64))
        net.linears[1].weight.zero_()
        net.linears[1].bias.fill_(0.5)  # layer 2: z = 0.5 at every point
    x = torch.linspace(-2, 2, 401, dtype=F64)[:, None]
    k = kink_crossings(net, x)
    assert k.crossing == (1, 0) and k.width == (3, 3) and k.total == 1
    assert k.beyond == pytest.approx((100 + 401) / (2 * 3 * 401))  # neuron 1 at x < -1, neuron 3 everywhere
    assert k.closest == pytest.approx(0.0, abs=1e-12)  # x = -1 is a grid point
    with torch.no_grad():
        net.linears[0].bias[0] = 1.5  # z = x + 1.5 >= -0.5: no neuron straddles the kink any more
    k = kink_crossings(net, x)
    assert k.total == 0 and k.closest == pytest.approx(0.5)
    smooth = kink_crossings(MLP(1, 1, width=3, depth=2, activation="tanh", dtype=F64), x)
    assert smooth.total == 0 and smooth.beyond == 0.0 and smooth.closest == math.inf
    wrapped = torch.nn.Module()
    wrapped.net = net  # e.g. the hard-constraint output transform holds its MLP as .net
    assert kink_crossings(wrapped, x) == k
    with pytest.raises(TypeError, match="pinn_mrepu MLP"):
        kink_crossings(torch.nn.Linear(1, 1), x)
