"""Equations over derivative fields: parsing, the fields they read, systems, conditions and every bad input."""

from __future__ import annotations

import math

import pytest
import torch

from pinn_mrepu import ConfigError, PINNSolver
from pinn_mrepu.cli.main import main
from pinn_mrepu.nn import smoothness_warnings
from pinn_mrepu.activations import get_activation
from pinn_mrepu.physics import build_problem
from pinn_mrepu.physics.equations import Equation, equation_from_callable
from pinn_mrepu.validation import config_from_dict

WAVE = {
    "name": "wave",
    "problem": {"equations": {"wave": "u_tt - c**2*u_xx"}, "params": {"c": 2.0}, "space": {"x": [0, 1]},
                "time": [0, 0.5],
                "conditions": {"initial": {"type": "initial", "value": "sin(pi*x)"},
                               "velocity": {"type": "initial", "field": "u_t", "value": 0},
                               "wall": {"type": "dirichlet", "value": 0}},
                "exact": "sin(pi*x)*cos(c*pi*t)"},
    "network": {"width": 6, "depth": 2, "activation": "tanh"},
    "train": {"points": {"interior": 64, "boundary": 16, "initial": 16}, "phases": [{"optimizer": "adam", "steps": 3}]},
    "evaluate": {"monitor_every": 0, "residual_points": 64},
}


def _with(**problem):
    data = {**WAVE, "problem": {**WAVE["problem"], **problem}}
    return {k: v for k, v in data.items()}


def test_fields_are_inferred_and_conditions_read_their_fields():
    cfg = config_from_dict(WAVE)
    p = build_problem(cfg.problem, cfg.name)
    assert p.fields == ("u_tt", "u_xx") and p.order == 2 and p.loss_terms == ("wave", "initial", "velocity", "wall")
    assert p.conditions["velocity"].fields(p.domain) == ("u_t",)
    assert cfg.evaluate.grid == [256, 101]  # the default fits two coordinates


def test_equation_residual_values():
    cfg = config_from_dict(WAVE)
    eq = build_problem(cfg.problem, cfg.name).equations["wave"]
    pts = torch.zeros(3, 2, dtype=torch.float64)
    f = {"u_tt": torch.tensor([[1.0], [2.0], [3.0]], dtype=torch.float64),
         "u_xx": torch.tensor([[1.0], [0.5], [0.0]], dtype=torch.float64)}
    assert eq(f, pts).reshape(-1).tolist() == [1 - 4.0, 2 - 2.0, 3.0]


@pytest.mark.parametrize("change, field, words", [
    ({"equations": {"wave": "u_tt - c**2*w_xx"}}, "problem.equations.wave", ["unknown name 'w_xx'"]),
    ({"equations": {"wave": "u_tt - c**2*u_yy"}}, "problem.equations.wave", ["unknown name 'u_yy'"]),
    ({"equations": {"wave": "u_tt - d*u_xx"}}, "problem.equations.wave", ["unknown name 'd'"]),
    ({"equations": {"wave": "u_tt - (c*u_xx"}}, "problem.equations.wave", ["invalid syntax"]),
    ({"equations": {"wave": "u_tt.real"}}, "problem.equations.wave", ["attribute access"]),
    ({"equations": {"wave": "__import__('os')"}}, "problem.equations.wave", ["unknown function"]),
    ({"equations": {"wave": "u_tttxx"}}, "problem.equations.wave", ["order 5", "up to order 4"]),
    ({"equations": {"wave": "sin(x)"}}, "problem.equations.wave", ["must read at least one field"]),
    ({"equations": {}}, "problem.equations", ["must map equation names"]),
    ({"equations": {"bad name": "u_tt"}}, "problem.equations", ["identifiers"]),
    ({"pde": "heat"}, "problem.equations", ["either pde", "not both"]),
    ({"equations": None}, "problem.pde", ["give pde", "or equations"]),
    ({"outputs": ["u", "u"]}, "problem.outputs", ["distinct"]),
    ({"outputs": ["u_1"]}, "problem.outputs", ["ASCII letters"]),
    ({"outputs": ["sin"]}, "problem.outputs", ["function"]),
    ({"outputs": ["u", "x"]}, "problem.space", ["other than t"]),
    ({"params": {"u_x": 1.0}}, "problem.params.u_x", ["taken"]),
    ({"params": {"c": "c0*2"}}, "problem.params.c", ["unknown name 'c0'"]),
    ({"source": "x"}, "problem.source", ["write the source into the equation"]),
    ({"conditions": {"v": {"type": "initial", "field": "u_y"}}}, "problem.conditions.v.field", ["'y' is not a variable"]),
    ({"conditions": {"v": {"type": "dirichlet", "output": "v"}}}, "problem.conditions.v.output", ["one of the outputs: u"]),
    ({"conditions": {"r": {"type": "operator", "faces": ["x_max"]}}}, "problem.conditions.r.residual", ["needs residual"]),
    ({"conditions": {"r": {"type": "operator", "residual": "x - 1"}}}, "problem.conditions.r.residual", ["read at least one"]),
    ({"conditions": {"r": {"type": "operator", "residual": "u_x", "value": 1}}}, "problem.conditions.r.value", ["not used"]),
    ({"conditions": {"p": {"type": "periodic", "value": 1}}}, "problem.conditions.p.value", ["not used"]),
    ({"conditions": {"wave": {"type": "dirichlet"}}}, "problem.conditions.wave", ["share its name"]),
    ({"exact": {"v": "x"}}, "problem.exact", ["every output"]),
    ({"exact": {"reference": "burgers"}}, "problem.params", ["needs the parameter nu"]),
    ({"exact": {"reference": "burgers"}, "params": {"c": 2.0, "nu": 0.01}}, None, None),  # accepted for equations
])
def test_bad_equation_configs_name_the_field(change, field, words):
    if field is None:
        config_from_dict(_with(**change))
        return
    with pytest.raises(ConfigError) as info:
        config_from_dict(_with(**change))
    assert info.value.field == field, str(info.value)
    for w in words:
        assert w in str(info.value), str(info.value)
    assert "\n" not in str(info.value)


def test_system_outputs_and_output_transform_refused_for_systems():
    data = _with(outputs=["u", "v"], equations={"a": "u_tt - v_xx", "b": "v - u"},
                 exact={"u": "sin(pi*x)", "v": "sin(pi*x)"})
    solver = PINNSolver(data)
    assert solver.model.out_dim == 2 and solver.problem.outputs == ("u", "v")
    assert solver.predict(torch.zeros(5, 2, dtype=torch.float64)).shape == (5, 2)
    m = solver.evaluate()
    assert set(m["per_output"]) == {"u", "v"} and math.isfinite(m["rel_l2"])
    assert solver.loss.residual(solver.model, torch.zeros(4, 2, dtype=torch.float64), create_graph=False).shape == (4, 2)
    bad = {**data, "network": {**data["network"], "output_transform": {"base": "0", "factor": "t"}}}
    with pytest.raises(ConfigError, match="single-output"):
        config_from_dict(bad)


def test_python_residuals():
    ok = equation_from_callable(lambda f, x: f["u_t"] + f["u"] * f["u_x"], variables=("x", "t"), outputs=("u",),
                                field="equations.b")
    assert ok.fields == ("u_t", "u", "u_x")
    with pytest.raises(ConfigError, match="'w' .*|output"):
        equation_from_callable(lambda f, x: f["w_x"], variables=("x", "t"), outputs=("u",), field="equations.b")
    with pytest.raises(ConfigError, match="shape"):
        equation_from_callable(lambda f, x: f["u"].sum(), variables=("x", "t"), outputs=("u",), field="equations.b")
    with pytest.raises(ConfigError, match="raised ZeroDivisionError"):
        equation_from_callable(lambda f, x: 1 / 0, variables=("x", "t"), outputs=("u",), field="equations.b")
    with pytest.raises(ConfigError, match="reads u_x, which its fields= list omits"):
        equation_from_callable(lambda f, x: f["u"] + f["u_x"], variables=("x",), outputs=("u",), field="e",
                               fields=("u",))
    data = {**WAVE, "problem": {**WAVE["problem"], "equations": None}}
    with pytest.raises(ConfigError, match="give pde"):
        PINNSolver(data)
    solver = PINNSolver(data, equations={"wave": Equation(lambda f, x: f["u_tt"] - 4 * f["u_xx"], ("u_tt", "u_xx"))})
    assert solver.problem.loss_terms[0] == "wave"
    with pytest.raises(ConfigError, match="must be absent"):
        PINNSolver(WAVE, equations={"wave": lambda f, x: f["u"]})


@pytest.mark.parametrize("act, params, depth, order, expect", [
    ("relu", {}, 4, 2, "vanish identically"),
    ("repu", {"p": 2}, 1, 3, "vanish identically"),
    ("repu", {"p": 2}, 2, 3, "only C^1"),      # degree 4 after two layers: not identically zero, but kinked
    ("mrepu", {"p": 2}, 4, 2, "only C^1"),
    ("mrepu", {"p": 3}, 4, 2, None),
    ("tanh", {}, 4, 4, None),
])
def test_smoothness_warnings(act, params, depth, order, expect):
    warnings = smoothness_warnings(get_activation(act, **params), depth, order)
    if expect is None:
        assert warnings == []
    else:
        assert len(warnings) == 1 and expect in warnings[0]


def test_cli_prints_the_warning_and_records_it(tmp_path, capsys):
    import json

    import yaml

    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(WAVE))
    assert main(["solve", str(path), "--activation", "relu", "--out", str(tmp_path / "run"), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "vanish identically" in err
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["warnings"] and metrics["equations"] == {"wave": "u_tt - c**2*u_xx"} and metrics["outputs"] == ["u"]
