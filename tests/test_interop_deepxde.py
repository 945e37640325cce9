"""pinn_mrepu inside DeepXDE's FNN (PyTorch backend): MRePU values and derivatives, critical init, a small solve."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch

from deepxde_support import load_deepxde  # noqa: E402

dde = load_deepxde()

from pinn_mrepu.activations import GELU, MRePU  # noqa: E402
from pinn_mrepu.criticality import critical_init  # noqa: E402
from pinn_mrepu.derivatives import compute_fields  # noqa: E402
from pinn_mrepu.interop.deepxde import (  # noqa: E402
    apply_critical_init,
    critical_initializer,
    fnn,
    mrepu,
    require_deepxde,
)
from pinn_mrepu.nn import MLP  # noqa: E402


def _fnn(sizes, act, init="zeros"):
    """dde.nn.FNN without touching the global RNG (torch.nn.Linear's default init draws from it)."""
    with torch.random.fork_rng(devices=[]):
        return dde.nn.FNN(list(sizes), act, init)


@pytest.mark.parametrize("p", [1, 2, 3])
def test_mrepu_is_accepted_and_evaluated_by_fnn(p):
    act = mrepu(p=p)
    assert dde.nn.activations.get(act) is act
    z = torch.linspace(-3.0, 3.0, 601, dtype=torch.float64)
    expected = z * torch.clamp(z + 1.0, min=0.0) ** p
    torch.testing.assert_close(act(z), expected, rtol=0, atol=1e-15)
    # the same network through DeepXDE's FNN and through pinn_mrepu's MLP: identical outputs
    net = _fnn([3, 16, 16, 2], act)
    assert isinstance(net.activation, MRePU) and net.activation.p == p
    apply_critical_init(net, act, seed=7)
    mlp = MLP(3, 2, width=16, depth=2, activation="mrepu", activation_params={"p": p}, init="critical", generator=7)
    x = torch.rand(64, 3, generator=torch.Generator().manual_seed(1)) * 2 - 1
    torch.testing.assert_close(net(x), mlp(x), rtol=1e-6, atol=1e-6)


def test_deepxde_derivatives_through_mrepu_match_pinn_mrepu():
    """dde.grad (autograd through MRePU) agrees with pinn_mrepu's Taylor engine (closed-form derivatives)."""
    act = mrepu(p=2)
    net = _fnn([2, 12, 12, 1], act)
    apply_critical_init(net, act, seed=3)
    mlp = MLP(2, 1, width=12, depth=2, activation="mrepu", init="critical", generator=3)
    x = (torch.rand(50, 2, generator=torch.Generator().manual_seed(2)) * 2 - 1).requires_grad_()
    y = net(x)
    dde_fields = {"u_x": dde.grad.jacobian(y, x, i=0, j=0), "u_t": dde.grad.jacobian(y, x, i=0, j=1),
                  "u_xx": dde.grad.hessian(y, x, i=0, j=0)}
    dde.grad.clear()
    ours = compute_fields(mlp, x.detach(), list(dde_fields), variables=("x", "t"), engine="taylor")
    for name, value in dde_fields.items():
        torch.testing.assert_close(value, ours[name], rtol=1e-4, atol=1e-5, msg=name)


def test_critical_init_sets_the_documented_variances():
    """Large widths: Var(W) * fan_in ~ c_w and Var(b) ~ c_b per layer, means ~ 0 (4-sigma sampling tolerances)."""
    width = 1024
    for act in (mrepu(p=2), GELU()):
        net = _fnn([4, width, width, 1], act)
        used = apply_critical_init(net, act, seed=0)
        assert used == critical_init(act).layer_variances(3, width=width)
        for lin, (c_b, c_w) in zip(net.linears, used):
            w = lin.weight.detach().double()
            n = w.numel()
            assert abs(float(w.mean())) < 4 * math.sqrt(c_w / lin.in_features / n)
            assert float(w.var()) * lin.in_features == pytest.approx(c_w, rel=4 * math.sqrt(2 / n))
            b = lin.bias.detach().double()
            if c_b == 0.0:
                assert torch.count_nonzero(b) == 0
            elif b.numel() > 1:
                assert float(b.pow(2).mean()) == pytest.approx(c_b, rel=4 * math.sqrt(2 / b.numel()))
    # the MRePU first layer is damped (k_star_zero class with a1 > 0), later layers get C_W = 1, biases 0
    mr = critical_init(mrepu(p=2)).layer_variances(3)
    assert mr[0][1] < 1.0 and mr[1] == mr[2] == (0.0, 1.0)


def test_critical_init_is_reproducible_and_uses_no_global_rng():
    act = mrepu()
    a, b, c = (_fnn([2, 8, 8, 1], act) for _ in range(3))
    state = torch.get_rng_state()
    apply_critical_init(a, seed=5)  # activation taken from the network
    apply_critical_init(b, act, generator=torch.Generator().manual_seed(5))
    apply_critical_init(c, act, seed=6)
    assert torch.equal(torch.get_rng_state(), state)
    for pa, pb, pc in zip(a.parameters(), b.parameters(), c.parameters()):
        assert torch.equal(pa, pb)
        assert not torch.equal(pa, pc) or torch.count_nonzero(pa) == 0
    with pytest.raises(ValueError, match="either generator or seed"):
        apply_critical_init(a, act, seed=1, generator=torch.Generator())
    with pytest.raises(ValueError, match="activation"):
        apply_critical_init(_fnn([2, 4, 1], "tanh"))  # a deepxde string activation: say which one


def test_critical_initializer_as_fnn_kernel_initializer():
    act = mrepu(p=3)
    sizes = [2, 256, 256, 1]
    init = critical_initializer(act, len(sizes) - 1, seed=0)
    net = _fnn(sizes, act, init)
    assert init.calls == 3
    for lin, (c_b, c_w) in zip(net.linears, critical_init(act).layer_variances(3)):
        assert c_b == 0.0 and torch.count_nonzero(lin.bias) == 0
        w = lin.weight.detach().double()
        assert float(w.var()) * lin.in_features == pytest.approx(c_w, rel=4 * math.sqrt(2 / w.numel()))
    with pytest.raises(RuntimeError, match="built for 3 linear layers"):
        init(torch.empty(4, 4))
    with pytest.raises(ValueError, match="apply_critical_init"):
        critical_initializer(GELU(), 3)  # its critical c_b > 0, which FNN would zero


def test_missing_deepxde_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "deepxde", None)  # makes `import deepxde` fail like a missing package
    with pytest.raises(ImportError, match=r"pip install pinn_mrepu\[deepxde\]"):
        require_deepxde()
    with pytest.raises(ImportError, match=r"pip install pinn_mrepu\[deepxde\]"):
        fnn([1, 4, 1])


def test_wrong_backend_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(dde.backend, "backend_name", "jax")
    with pytest.raises(RuntimeError, match="DDE_BACKEND=pytorch"):
        require_deepxde()


def test_small_deepxde_model_with_mrepu_and_critical_init_trains():
    """1D Poisson -u'' = pi^2 sin(pi x) on [-1, 1], u(+-1) = 0 (u = sin(pi x)): 200 Adam steps."""

    def pde(x, u):
        return -dde.grad.hessian(u, x) - math.pi**2 * torch.sin(math.pi * x)

    geom = dde.geometry.Interval(-1, 1)
    bc = dde.icbc.DirichletBC(geom, lambda x: 0, lambda _, on_boundary: on_boundary)
    data = dde.data.PDE(geom, pde, bc, num_domain=32, num_boundary=2)
    with torch.random.fork_rng(devices=[]):
        net = fnn([1, 16, 16, 1], "mrepu", p=2, seed=0)
        assert isinstance(net.activation, MRePU)
        model = dde.Model(data, net)
        model.compile("adam", lr=1e-3, verbose=0)
        history, _ = model.train(iterations=200, display_every=200, verbose=0)
    losses = [float(np.sum(loss)) for loss in history.loss_train]
    assert all(math.isfinite(v) for v in losses)
    assert losses[0] / losses[-1] > 20.0, losses
    x = np.linspace(-1, 1, 101)[:, None]
    err = np.linalg.norm(model.predict(x) - np.sin(np.pi * x)) / np.linalg.norm(np.sin(np.pi * x))
    assert err < 0.5
