"""Activations: closed-form derivatives against autograd, exact values, gradcheck, registry errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinn_mrepu.activations import (
    ACTIVATIONS,
    Activation,
    MRePU,
    activation_names,
    get_activation,
)
from pinn_mrepu.errors import ConfigError

CASES = [("mrepu", {"p": 1}), ("mrepu", {"p": 2}), ("mrepu", {"p": 3}), ("mrepu", {"p": 4}), ("mrepu", {"p": 5}),
         ("repu", {"p": 1}), ("repu", {"p": 2}), ("repu", {"p": 3}), ("repu", {"p": 4}), ("repu", {"p": 5}),
         ("tanh", {}), ("relu", {}), ("gelu", {}), ("silu", {}), ("sin", {})]
ORDER = 4  # the highest closed-form derivative, sigma''''
IDS = [f"{n}{p.get('p', '')}" for n, p in CASES]
KINK_EPS = (1e-3, 1e-6)


def _points(act: Activation) -> torch.Tensor:
    """Many points in [-3, 3] plus points within 1e-3 and 1e-6 of each kink, never on a kink."""
    z = torch.linspace(-3.0, 3.0, 241, dtype=torch.float64)
    z = z[torch.stack([(z - k).abs() > 1e-9 for k in act.kinks] or [torch.ones_like(z, dtype=torch.bool)]).all(0)]
    near = [k + s * e for k in act.kinks for e in KINK_EPS for s in (-1.0, 1.0)]
    return torch.cat([z, torch.tensor(near, dtype=torch.float64)])


def _autograd_derivatives(act: Activation, z: torch.Tensor, order: int = ORDER) -> list[torch.Tensor]:
    z = z.detach().clone().requires_grad_(True)
    y = act(z)
    out, g = [y.detach()], y
    for _ in range(order):
        if not g.requires_grad:  # the previous derivative is piecewise constant
            g = torch.zeros_like(z)
        else:
            (g,) = torch.autograd.grad(g.sum(), z, create_graph=True, allow_unused=True)
            g = torch.zeros_like(z) if g is None else g
        out.append(g.detach())
    return out


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_closed_form_derivatives_match_autograd(name, params):
    act = get_activation(name, **params)
    z = _points(act)
    closed = act.derivatives(z, ORDER)
    auto = _autograd_derivatives(act, z)
    assert len(closed) == ORDER + 1
    for n in range(ORDER + 1):
        assert closed[n].shape == z.shape and closed[n].dtype == torch.float64
        scale = 1.0 + auto[n].abs()
        err = ((closed[n] - auto[n]).abs() / scale).max().item()
        assert err <= 1e-12, f"{name} {params} derivative {n}: relative error {err:.2e}"


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_derivatives_api_is_consistent(name, params):
    act = get_activation(name, **params)
    z = _points(act)
    full = act.derivatives(z, ORDER)
    for order in range(ORDER + 1):
        part = act.derivatives(z, order)
        assert len(part) == order + 1
        for n in range(order + 1):
            torch.testing.assert_close(part[n], full[n], rtol=0, atol=0)
    for n in range(ORDER + 1):
        torch.testing.assert_close(act.derivative(z, n), full[n], rtol=0, atol=0)
    torch.testing.assert_close(act(z), full[0], rtol=0, atol=0)
    z32 = z.float()
    assert all(d.dtype == torch.float32 for d in act.derivatives(z32, ORDER))


@pytest.mark.parametrize("name, params", CASES, ids=IDS)
def test_gradcheck_away_from_kinks(name, params):
    act = get_activation(name, **params)
    z = torch.linspace(-2.7, 2.9, 23, dtype=torch.float64)
    z = z[torch.stack([(z - k).abs() > 0.05 for k in act.kinks] or [torch.ones_like(z, dtype=torch.bool)]).all(0)]
    z.requires_grad_(True)
    assert torch.autograd.gradcheck(act, (z,))
    # second derivatives are continuous away from the kinks for all of them (relu's is zero there)
    assert torch.autograd.gradgradcheck(act, (z,))


@pytest.mark.parametrize("p", [1, 2, 3, 4, 5])
def test_mrepu_exact_values(p):
    act = MRePU(p)
    z = torch.tensor([0.0, -1.0, 1.0, -2.0, -5.0], dtype=torch.float64)
    d = act.derivatives(z, ORDER)
    assert d[0][0].item() == 0.0  # sigma(0) = 0
    assert d[1][0].item() == 1.0  # sigma'(0) = 1
    assert d[2][0].item() == 2 * p  # sigma''(0) = 2p
    assert d[0][1].item() == 0.0  # sigma(-1) = 0
    assert d[0][2].item() == 2.0**p  # sigma(1) = 2^p
    assert d[4][0].item() == math.perm(p + 1, 4) - math.perm(p, 4)  # sigma''''(0) = (p+1)_4 - (p)_4
    for n in range(ORDER + 1):  # identically zero left of the kink
        assert torch.all(d[n][3:] == 0.0)


@pytest.mark.parametrize("p", [1, 2, 3, 4, 5])
def test_mrepu_derivative_formulas(p):
    """sigma' = (z+1)^(p-1)((p+1)z+1), sigma'' = p(z+1)^(p-2)((p+1)z+2) for z > -1, zero for z < -1."""
    act = MRePU(p)
    right = np.linspace(-0.999, 3.0, 101)
    left = np.linspace(-4.0, -1.001, 31)
    d = act.derivatives(torch.tensor(right, dtype=torch.float64), ORDER)
    s = right + 1.0
    np.testing.assert_allclose(d[0].numpy(), right * s**p, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(d[1].numpy(), s ** (p - 1) * ((p + 1) * right + 1), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(d[2].numpy(), p * s ** (p - 2) * ((p + 1) * right + 2), rtol=1e-12, atol=1e-13)
    third = p * (p - 1) * s ** (p - 3) * ((p + 1) * s - (p - 2)) if p > 1 else np.zeros_like(right)
    np.testing.assert_allclose(d[3].numpy(), third, rtol=1e-12, atol=1e-12)
    # sigma'''' = p(p-1)(p-2) s^(p-4) ((p+1)s - (p-3)) for p >= 4; the step 24 H(s) for p = 3; 0 for p <= 2
    fourth = (p * (p - 1) * (p - 2) * s ** (p - 4) * ((p + 1) * s - (p - 3)) if p > 3 else
              np.full_like(right, 24.0) if p == 3 else np.zeros_like(right))
    np.testing.assert_allclose(d[4].numpy(), fourth, rtol=1e-12, atol=1e-12)
    dl = act.derivatives(torch.tensor(left, dtype=torch.float64), ORDER)
    for n in range(ORDER + 1):
        assert np.all(dl[n].numpy() == 0.0)


def test_mrepu2_smoothness_class_at_the_kink():
    """MRePU_2 is C^1 at z = -1: sigma, sigma' continuous (-> 0), sigma'' jumps from 0 to p((p+1)(-1)+2) = -2."""
    act = MRePU(2)
    eps = 1e-9
    d = act.derivatives(torch.tensor([-1.0 - eps, -1.0 + eps], dtype=torch.float64), 3)
    assert abs(d[0][1].item()) < 1e-15 and abs(d[1][1].item()) < 1e-8
    assert d[2][0].item() == 0.0
    assert d[2][1].item() == pytest.approx(-2.0, abs=1e-7)
    # MRePU_3 is C^2: sigma'' is continuous at the kink
    d3 = MRePU(3).derivatives(torch.tensor([-1.0 - eps, -1.0 + eps], dtype=torch.float64), ORDER)
    assert abs(d3[2][1].item() - d3[2][0].item()) < 1e-7
    assert d3[4][0].item() == 0.0 and d3[4][1].item() == 24.0  # sigma'''' = 24 H(z + 1): a step
    # MRePU_4 is C^3: sigma''' continuous, sigma'''' jumps from 0 to (5)_4 s - (4)_4 -> -24
    d4 = MRePU(4).derivatives(torch.tensor([-1.0 - eps, -1.0 + eps], dtype=torch.float64), ORDER)
    assert abs(d4[3][1].item() - d4[3][0].item()) < 1e-7
    assert d4[4][0].item() == 0.0 and d4[4][1].item() == pytest.approx(-24.0, abs=1e-6)


@pytest.mark.parametrize("p", [1, 2, 3, 4, 5])
def test_repu_values(p):
    act = get_activation("repu", p=p)
    z = torch.tensor([-2.0, -0.5, 0.5, 2.0], dtype=torch.float64)
    d = act.derivatives(z, ORDER)
    np.testing.assert_array_equal(d[0][:2].numpy(), 0.0)
    assert d[0][3].item() == 2.0**p
    assert d[1][3].item() == p * 2.0 ** (p - 1)
    assert d[2][3].item() == (p * (p - 1) * 2.0 ** (p - 2) if p >= 2 else 0.0)
    assert d[3][3].item() == (math.perm(p, 3) * 2.0 ** (p - 3) if p >= 3 else 0.0)
    assert d[4][3].item() == (math.perm(p, 4) * 2.0 ** (p - 4) if p >= 4 else 0.0)
    assert torch.all(d[4][:2] == 0.0)
    assert d[0][2].item() == pytest.approx(0.5**p, rel=1e-15)


def test_smooth_activation_values():
    z = torch.tensor([0.0, 1.0], dtype=torch.float64)
    t = get_activation("tanh").derivatives(z, ORDER)
    assert [t[n][0].item() for n in range(5)] == [0.0, 1.0, 0.0, -2.0, 0.0]
    th = math.tanh(1.0)
    assert t[4][1].item() == pytest.approx(8 * th * (1 - th**2) * (2 - 3 * th**2), rel=1e-14)
    g = get_activation("gelu").derivatives(z, ORDER)
    assert g[0][0].item() == 0.0 and g[1][0].item() == 0.5
    assert g[2][0].item() == pytest.approx(2.0 / math.sqrt(2.0 * math.pi), rel=1e-15)
    assert g[0][1].item() == pytest.approx(0.5 * (1 + math.erf(1 / math.sqrt(2))), rel=1e-15)
    assert g[4][0].item() == pytest.approx(-4.0 / math.sqrt(2.0 * math.pi), rel=1e-15)  # phi (-z^4 + 7z^2 - 4)
    assert g[4][1].item() == pytest.approx(2.0 * math.exp(-0.5) / math.sqrt(2.0 * math.pi), rel=1e-14)
    s = get_activation("silu").derivatives(z, ORDER)
    assert [s[n][0].item() for n in range(3)] == [0.0, 0.5, 0.5]
    assert s[3][0].item() == 0.0 and s[4][0].item() == -0.5  # 3 s''(0) = 0, 4 s'''(0) = 4 (-1/8)
    sn = get_activation("sin").derivatives(z, ORDER)
    assert sn[4][1].item() == math.sin(1.0) and sn[3][1].item() == -math.cos(1.0)
    assert s[0][1].item() == pytest.approx(1.0 / (1.0 + math.exp(-1.0)), rel=1e-15)
    r = get_activation("relu").derivatives(torch.tensor([-1.0, 2.0], dtype=torch.float64), ORDER)
    assert r[0].tolist() == [0.0, 2.0] and r[1].tolist() == [0.0, 1.0] and r[2].tolist() == [0.0, 0.0]
    assert len(r) == 5 and r[3].tolist() == r[4].tolist() == [0.0, 0.0]


def test_registry_and_params():
    assert set(ACTIVATIONS) == {"mrepu", "repu", "tanh", "relu", "gelu", "silu", "sin"}
    assert activation_names() == sorted(ACTIVATIONS)
    assert get_activation("mrepu").p == 2  # default p = 2
    assert get_activation("mrepu", p=3).params == {"p": 3}
    two = get_activation("repu", p=2.0)
    assert two.p == 2 and isinstance(two.p, int)
    assert get_activation("tanh").params == {}
    inst = MRePU(3)
    assert get_activation(inst) is inst
    with pytest.raises(ConfigError, match="activation_params"):
        get_activation(inst, p=2)


def test_unknown_name_lists_valid_names():
    with pytest.raises(ConfigError) as info:
        get_activation("swish")
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert msg.startswith("activation: got 'swish'")
    for name in ACTIVATIONS:
        assert name in msg


@pytest.mark.parametrize("name", ["mrepu", "repu"])
@pytest.mark.parametrize("p", [0, -1, 1.5, True, "2", None])
def test_bad_power_is_config_error(name, p):
    with pytest.raises(ConfigError) as info:
        get_activation(name, p=p)
    assert isinstance(info.value, ValueError)
    assert info.value.field == "activation_params.p"
    assert repr(p) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("name, key", [("tanh", "p"), ("sin", "omega"), ("mrepu", "q")])
def test_unknown_param_is_config_error(name, key):
    with pytest.raises(ConfigError) as info:
        get_activation(name, **{key: 2})
    assert info.value.field == f"activation_params.{key}"
    assert name in str(info.value)
