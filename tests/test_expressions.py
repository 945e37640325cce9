"""Tests of pinn_mrepu.config.expressions: safe parsing and torch evaluation of configuration expressions."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pinn_mrepu.errors import ConfigError
from pinn_mrepu.config.expressions import Expression, parse_expression

XT = ("x", "t")
RNG = np.random.default_rng(0)
PTS_XT = RNG.uniform(0.1, 0.9, size=(17, 2))
PTS_XY = RNG.uniform(0.1, 0.9, size=(13, 2))


def _eval(text, variables, pts, params=None):
    expr = parse_expression(text, variables=variables, params=params)
    out = expr(torch.tensor(pts, dtype=torch.float64))
    assert out.shape == (pts.shape[0], 1)
    return out[:, 0].numpy()


@pytest.mark.parametrize(
    "text, variables, params, reference",
    [
        ("-sin(pi*x)", XT, None, lambda x, t: -np.sin(np.pi * x)),
        ("exp(-pi**2*alpha*t)*sin(pi*x)", XT, {"alpha": 0.3},
         lambda x, t: np.exp(-np.pi**2 * 0.3 * t) * np.sin(np.pi * x)),
        ("2*pi**2*sin(pi*x)*sin(pi*y)", ("x", "y"), None,
         lambda x, y: 2 * np.pi**2 * np.sin(np.pi * x) * np.sin(np.pi * y)),
        ("-x/(1+t) - +t**0.5 + e", XT, None, lambda x, t: -x / (1 + t) - t**0.5 + np.e),
        ("nu*x**2 - (x - t)**3", XT, {"nu": 0.01}, lambda x, t: 0.01 * x**2 - (x - t) ** 3),
        ("1.5e-1 * x", XT, None, lambda x, t: 0.15 * x),
    ],
)
def test_values_match_numpy(text, variables, params, reference):
    pts = PTS_XY if variables == ("x", "y") else PTS_XT
    got = _eval(text, variables, pts, params)
    np.testing.assert_allclose(got, reference(pts[:, 0], pts[:, 1]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "name, ref",
    [("sin", np.sin), ("cos", np.cos), ("tan", np.tan), ("exp", np.exp), ("log", np.log), ("sqrt", np.sqrt),
     ("tanh", np.tanh), ("sinh", np.sinh), ("cosh", np.cosh), ("abs", np.abs)],
)
def test_each_function(name, ref):
    x = PTS_XT[:, 0] - 0.5 if name == "abs" else PTS_XT[:, 0]
    pts = np.stack([x, PTS_XT[:, 1]], axis=1)
    np.testing.assert_allclose(_eval(f"{name}(x)", XT, pts), ref(x), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("value", [0, 1.5, -2, "0", "3.25", "-pi", "2*alpha"])
def test_constants_broadcast(value):
    expr = parse_expression(value, variables=XT, params={"alpha": 2.0})
    assert expr.is_constant
    pts = torch.rand(7, 2, dtype=torch.float32)
    out = expr(pts)
    assert out.shape == (7, 1) and out.dtype == torch.float32
    expected = {"-pi": -math.pi, "2*alpha": 4.0}.get(value) if isinstance(value, str) else None
    expected = float(value) if expected is None else expected
    torch.testing.assert_close(out, torch.full((7, 1), expected, dtype=torch.float32))
    out[0, 0] = 99.0  # a real tensor, not a stride-0 view
    assert expr.numpy(np.zeros((3, 2))).shape == (3,)


def test_numbers_keep_text_and_names():
    assert parse_expression(0, variables=XT).text == "0"
    expr = parse_expression("nu*sin(x)", variables=XT, params={"nu": 0.1, "alpha": 1.0})
    assert expr.text == "nu*sin(x)" and expr.variables == XT
    assert expr.names_used == frozenset({"nu", "x"}) and not expr.is_constant
    assert isinstance(expr, Expression)


def test_autograd_derivatives_match_closed_form():
    expr = parse_expression("sin(pi*x)*exp(-t)", variables=XT)
    pts = torch.tensor(PTS_XT, dtype=torch.float64, requires_grad=True)
    u = expr(pts)
    (grad,) = torch.autograd.grad(u.sum(), pts, create_graph=True)
    x, t = PTS_XT[:, 0], PTS_XT[:, 1]
    np.testing.assert_allclose(grad[:, 0].detach().numpy(), np.pi * np.cos(np.pi * x) * np.exp(-t), rtol=1e-12)
    np.testing.assert_allclose(grad[:, 1].detach().numpy(), -np.sin(np.pi * x) * np.exp(-t), rtol=1e-12)
    (grad2,) = torch.autograd.grad(grad[:, 0].sum(), pts)
    np.testing.assert_allclose(grad2[:, 0].numpy(), -np.pi**2 * np.sin(np.pi * x) * np.exp(-t), rtol=1e-12)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtype_preserved(dtype):
    expr = parse_expression("x**2 + exp(-t)", variables=XT)
    pts = torch.tensor(PTS_XT, dtype=dtype)
    out = expr(pts)
    assert out.dtype == dtype and out.device == pts.device
    np.testing.assert_allclose(out[:, 0].double().numpy(), PTS_XT[:, 0] ** 2 + np.exp(-PTS_XT[:, 1]),
                               rtol=1e-6 if dtype == torch.float32 else 1e-12)


def test_numpy_matches_torch_and_negative_base_power():
    expr = parse_expression("(x - 1)**2 - (x - 1)**3", variables=XT)
    got = expr.numpy(PTS_XT)
    assert got.shape == (len(PTS_XT),) and got.dtype == np.float64
    x = PTS_XT[:, 0]
    np.testing.assert_allclose(got, (x - 1) ** 2 - (x - 1) ** 3, rtol=1e-12)


def test_redundant_parentheses_are_fine():
    expr = parse_expression("(" * 50 + "x" + ")" * 50, variables=XT)
    np.testing.assert_allclose(expr.numpy(PTS_XT), PTS_XT[:, 0])


def test_bad_points_shape():
    expr = parse_expression("x", variables=XT)
    with pytest.raises(ValueError):
        expr(torch.zeros(4, 3))


FORBIDDEN = [
    "__import__('os').system('ls')", "x.real", "().__class__", "lambda: 1", "[x for x in y]", "x[0]",
    "x if t else 1", "x < 1", "x and t", "not x", "~x", "x // 2", "x % 2", "foo(x)", "sin(x, t)", "sin(x=1)",
    "sin()", "sin(*x)", "open('f')", "'abc'", "True", "None", "1j", "", "   ", "x +", "y", "sin", "f'{x}'",
    "(y := 1)", "{1: 2}", "(x, t)", "sin(x)(t)", "x\n+1", "1e999", "9" * 400, "-" * 600 + "x",
    "(" * 250 + "x" + ")" * 250, "x" + "+x" * 300, None, [1, 2], {"a": 1}, True, float("nan"), "x" + "+x" * 1000,
]


@pytest.mark.parametrize("text", FORBIDDEN, ids=lambda v: repr(v)[:30])
def test_forbidden_inputs_raise_config_error(text):
    with pytest.raises(ConfigError) as info:
        parse_expression(text, variables=XT, field="conditions.initial.value")
    err = info.value
    assert not isinstance(err, (SyntaxError, KeyError))
    message = str(err)
    assert message.startswith("conditions.initial.value: got ")
    assert "\n" not in message and len(message) < 600
    assert err.field == "conditions.initial.value"


@pytest.mark.parametrize(
    "text, fragment",
    [("x.real", "'attribute access' is not allowed"), ("sinn(x)", "did you mean 'sin'"),
     ("alpah*x", "did you mean 'alpha'"), ("y", "unknown name 'y'"), ("x**2 +", "invalid syntax"),
     ("sin(x, t)", "exactly one positional argument"), ("x < 1", "'comparison' is not allowed"),
     ("x // 2", "'//'"), ("True", "boolean literal"), ("'abc'", "str literal"), ("x" * 1001, "at most 1000"),
     (None, "None is not allowed"), ("-" * 300 + "x", "nested more than")],
)
def test_error_messages_explain(text, fragment):
    with pytest.raises(ConfigError) as info:
        parse_expression(text, variables=XT, params={"alpha": 1.0}, field="source")
    assert fragment in str(info.value)
    assert "must be an expression over x, t" in str(info.value)


@pytest.mark.parametrize("params", [{"nu": "0.1"}, {"nu": True}, {"nu": float("inf")}, {"x": 1.0}])
def test_bad_params(params):
    with pytest.raises(ConfigError):
        parse_expression("x", variables=XT, params=params)
