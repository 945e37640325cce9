"""Hard-constraint output transform: exact conditions, and engine-independent fields (Leibniz rule)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pinn_mrepu import PINNSolver
from pinn_mrepu.validation import load_config
from pinn_mrepu.derivatives import autograd_fields, compute_fields, parse_field
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.config.expressions import parse_expression
from pinn_mrepu.nn import MLP
from pinn_mrepu.derivatives.transforms import OutputTransform, transformed_fields

HC = ["network.output_transform={base: '-sin(pi*x)', factor: 't*(1-x**2)'}", "network.init=lecun_normal",
      "network.width=8", "network.depth=2", "train.device=cpu"]


def test_transform_satisfies_initial_and_boundary_conditions_exactly():
    solver = PINNSolver(load_config("problems/burgers.yaml", HC))
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 20)
    t = rng.uniform(0, 1, 20)
    np.testing.assert_allclose(solver.predict(np.stack([x, 0 * x], 1)).ravel(), -np.sin(np.pi * x), atol=1e-15)
    for end in (-1.0, 1.0):
        np.testing.assert_allclose(solver.predict(np.stack([end + 0 * t, t], 1)).ravel(), 0.0, atol=1e-15)


def test_leibniz_fields_equal_autograd_of_the_wrapped_model():
    torch.manual_seed(0)
    variables = ("x", "t")
    net = MLP(2, width=16, depth=3, activation="tanh", init="lecun_normal", dtype=torch.float64)
    base = parse_expression("-sin(pi*x)+x*t**2", variables=variables)
    factor = parse_expression("t*(1-x**2)*exp(x)", variables=variables)
    model = OutputTransform(net, base, factor)
    pts = torch.rand(64, 2, dtype=torch.float64) * 2 - 1
    names = ["u", "u_x", "u_t", "u_xx", "u_xt", "u_tt", "x"]
    specs = [parse_field(n, variables) for n in names]
    ref = autograd_fields(model, pts, specs)
    got = transformed_fields(model, pts, specs, variables=variables,
                             net_fields=lambda m, p, s: autograd_fields(m, p, s))
    for n in names:
        torch.testing.assert_close(got[n], ref[n], rtol=1e-12, atol=1e-12)


def test_taylor_engine_through_the_transform_matches_autograd():
    variables = ("x", "t")
    net = MLP(2, width=8, depth=2, activation="mrepu", init="lecun_normal", dtype=torch.float64)
    model = OutputTransform(net, parse_expression("-sin(pi*x)", variables=variables),
                            parse_expression("t*(1-x**2)", variables=variables))
    pts = torch.rand(32, 2, dtype=torch.float64)
    names = ["u", "u_x", "u_t", "u_xx"]
    a = compute_fields(model, pts, names, variables=variables, engine="autograd")
    b = compute_fields(model, pts, names, variables=variables, engine="taylor")
    for n in names:
        torch.testing.assert_close(b[n], a[n], rtol=1e-10, atol=1e-12)


def test_fields_through_the_transform_are_the_same_under_no_grad():
    """Regression: the expressions' derivatives need autograd; under torch.no_grad() they silently became zero."""
    variables = ("x", "t")
    net = MLP(2, width=8, depth=2, activation="tanh", init="lecun_normal", dtype=torch.float64)
    model = OutputTransform(net, parse_expression("-sin(pi*x)", variables=variables),
                            parse_expression("t*(1-x**2)", variables=variables))
    pts = torch.rand(16, 2, dtype=torch.float64)
    names = ["u", "u_x", "u_t", "u_xx"]
    for engine in ("autograd", "taylor"):
        ref = compute_fields(model, pts, names, variables=variables, engine=engine, create_graph=False)
        with torch.no_grad():
            got = compute_fields(model, pts, names, variables=variables, engine=engine, create_graph=False)
        for n in names:
            torch.testing.assert_close(got[n], ref[n], rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("spec", ["{base: 0}", "{base: 0, factor: 1, extra: 2}", "{base: 'foo(x)', factor: 1}"])
def test_bad_transform_is_a_config_error(spec):
    with pytest.raises(ConfigError, match="network.output_transform"):
        load_config("problems/burgers.yaml", [f"network.output_transform={spec}", "network.init=lecun_normal"])
