"""Config loading: every bad input is a one-line ConfigError naming the field and the value; overrides; round trip."""

from __future__ import annotations

import copy

import pytest
import yaml

from pinn_mrepu.config import Config, ProblemConfig, apply_overrides, read_yaml
from pinn_mrepu.validation import config_from_dict, load_config
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.physics.problem import build_problem

PROBLEMS = ["burgers", "heat", "poisson1d", "poisson2d"]
_BASE: dict[str, dict] = {}


def base(name: str, problems_dir) -> dict:
    """The problem file as a dict, with glorot init (independent of the critical-init machinery)."""
    if name not in _BASE:
        data = read_yaml(problems_dir / f"{name}.yaml")
        data["network"]["init"] = "glorot_normal"
        _BASE[name] = data
    return copy.deepcopy(_BASE[name])


def _set(path: str, value):
    def mutate(d):
        *keys, last = path.split(".")
        node = d
        for k in keys:
            node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
        node[last] = value
    return mutate


def _del(path: str):
    def mutate(d):
        *keys, last = path.split(".")
        node = d
        for k in keys:
            node = node[k]
        del node[last]
    return mutate


def _cond_value(text):
    return _set("problem.conditions.boundary.value", text)


# (problem file, mutation, field that must be named, fragments of the message: the value and/or the hint)
BAD = [
    ("poisson1d", _set("netwrk", {"width": 3}), "netwrk", ["unknown key", "did you mean 'network'"]),
    ("poisson1d", _set("network.widht", 3), "network.widht", ["did you mean 'width'", "3"]),
    ("poisson1d", _set("train.phases.0.stesp", 3), "train.phases.0.stesp", ["did you mean 'steps'"]),
    ("poisson1d", _set("network.width", "abc"), "network.width", ["'abc'", "integer"]),
    ("poisson1d", _set("network.width", 2.5), "network.width", ["2.5", "integer"]),
    ("poisson1d", _set("network.width", True), "network.width", ["True"]),
    ("poisson1d", _set("network.width", 0), "network.width", ["got 0", ">= 1"]),
    ("poisson1d", _set("network.depth", -1), "network.depth", ["got -1", ">= 1"]),
    ("burgers", _set("problem.params.nu", -0.1), "problem.params.nu", ["-0.1", "nonnegative"]),
    ("burgers", _set("problem.params", {}), "problem.params.nu", ["None", "requires"]),
    ("burgers", _set("problem.params.nu", "small"), "problem.params.nu", ["'small'"]),
    ("heat", _set("problem.params.beta", 1.0), "problem.params.beta", ["1.0", "alpha"]),
    ("heat", _set("problem.params.alpha", 0.0), "problem.params.alpha", ["0.0", "positive"]),
    ("poisson1d", _set("problem.space.x", [1, 1]), "problem.space.x", ["[1, 1]", "lower < upper"]),
    ("poisson1d", _set("problem.space.x", [1, 0]), "problem.space.x", ["[1, 0]", "lower < upper"]),
    ("poisson1d", _set("problem.space.x", [0, "a"]), "problem.space.x", ["[0, 'a']"]),
    ("poisson1d", _set("problem.space.x", [0, 1, 2]), "problem.space.x", ["[0, 1, 2]"]),
    ("burgers", _del("problem.time"), "problem.time", ["None", "time dependent"]),
    ("heat", _set("problem.time", [1, 1]), "problem.time", ["[1, 1]"]),
    ("poisson1d", _set("problem.time", [0, 1]), "problem.time", ["[0, 1]", "steady"]),
    ("poisson1d", _set("problem.pde", "wave"), "problem.pde", ["'wave'", "burgers, heat, poisson"]),
    ("poisson1d", _set("network.activation", "swish"), "network.activation", ["'swish'", "mrepu", "tanh"]),
    ("poisson1d", _set("network.activation_params", {"p": 1.5}), "network.activation_params.p", ["1.5"]),
    ("poisson1d", _set("network.activation_params", {"q": 2}), "network.activation_params.q", ["2"]),
    ("poisson1d", _set("train.points.sampler", "random"), "train.points.sampler", ["'random'", "sobol"]),
    ("poisson1d", _set("network.init", "xavier"), "network.init", ["'xavier'", "glorot_normal"]),
    ("poisson1d", _set("network.init", {"c_w": -1}), "network.init", ["-1"]),
    ("poisson1d", _set("network.init", {"c_w": True}), "network.init", ["True"]),
    ("poisson1d", _cond_value("__import__('os')"), "problem.conditions.boundary.value", ["__import__"]),
    ("poisson1d", _cond_value("x.real"), "problem.conditions.boundary.value", ["x.real", "attribute"]),
    ("poisson1d", _cond_value("sinn(x)"), "problem.conditions.boundary.value", ["sinn", "did you mean 'sin'"]),
    ("poisson1d", _set("problem.source", "sin(pi*y)"), "problem.source", ["sin(pi*y)", "'y'"]),
    ("poisson1d", _set("problem.exact", "t*x"), "problem.exact", ["t*x", "'t'"]),
    ("heat", _set("problem.conditions.initial.value", "sin(pi*x"), "problem.conditions.initial.value",
     ["sin(pi*x", "syntax"]),
    ("poisson2d", _set("problem.conditions.boundary.faces", ["x_min", "z_max"]),
     "problem.conditions.boundary.faces", ["z_max", "x_min, x_max, y_min, y_max"]),
    ("poisson1d", _set("problem.conditions.boundary.faces", []), "problem.conditions.boundary.faces", ["[]"]),
    ("poisson1d", _set("problem.conditions.boundary.type", "robin"), "problem.conditions.boundary.type",
     ["'robin'", "dirichlet"]),
    ("poisson1d", _set("problem.conditions.start", {"type": "initial", "value": 0}),
     "problem.conditions.start.type", ["'initial'", "steady"]),
    ("poisson1d", _set("problem.conditions.boundary.colour", 1), "problem.conditions.boundary.colour",
     ["unknown key"]),
    ("poisson1d", _set("problem.conditions", {}), "problem.conditions", ["{}"]),
    ("poisson1d", _set("problem.space", {"u": [0, 1]}), "problem.space", ["'u'"]),
    ("poisson1d", _set("problem.exact", {"reference": "burgers"}), "problem.exact.reference", ["'burgers'"]),
    ("heat", _set("problem.params.alpha", "hot"), "problem.params.alpha", ["'hot'"]),
    ("poisson1d", _set("problem.params", {"k": "abc"}), "problem.params.k", ["'abc'", "poisson"]),  # has a source
    ("poisson1d", _set("train.weights.residul", 1.0), "train.weights.residul", ["did you mean 'residual'"]),
    ("poisson1d", _set("train.weights.initial", 1.0), "train.weights.initial", ["residual, boundary"]),
    ("poisson1d", _set("train.weights.boundary", -1.0), "train.weights.boundary", ["-1.0", ">= 0"]),
    ("poisson1d", _set("train.phases.0.lr", 0), "train.phases.0.lr", ["got 0", "> 0"]),
    ("poisson1d", _set("train.phases.0.decay_rate", 1.5), "train.phases.0.decay_rate", ["1.5", "<= 1"]),
    ("poisson1d", _set("train.dtype", "float16"), "train.dtype", ["'float16'", "float64"]),
    ("poisson1d", _set("train.points.interior", 0), "train.points.interior", ["got 0"]),
    ("poisson1d", _set("train.seed", -3), "train.seed", ["-3"]),
    ("heat", _set("evaluate.grid", [101]), "evaluate.grid", ["[101]", "2 integers"]),
    ("poisson1d", _set("evaluate.grid", [1]), "evaluate.grid", ["[1]", ">= 2"]),
    ("poisson1d", _set("problem", 5), "problem", ["5", "mapping"]),
    ("poisson1d", _set("name", 3), "name", ["3", "string"]),
]


def _ids():
    return [f"{i:02d}-{field}" for i, (_, _, field, _) in enumerate(BAD)]


@pytest.mark.parametrize("problem, mutate, field, fragments", BAD, ids=_ids())
def test_bad_input_is_one_line_config_error(problems_dir, problem, mutate, field, fragments):
    data = base(problem, problems_dir)
    mutate(data)
    with pytest.raises(ConfigError) as info:
        config_from_dict(data)
    msg = str(info.value)
    assert isinstance(info.value, ValueError)
    assert "\n" not in msg
    assert msg.startswith(f"{field}: got "), msg
    assert info.value.field == field
    for fragment in fragments:
        assert fragment in msg, f"{fragment!r} not in {msg!r}"


def test_enough_bad_input_cases():
    assert len(BAD) >= 25


# ----------------------------------------------------------------------------------------------- files, overrides


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert msg.startswith("problem file: got ") and str(path) in msg and "\n" not in msg


def test_non_yaml_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("key: [unclosed\nother: 1\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    msg = str(info.value)
    assert msg.startswith("problem file: got ") and "valid YAML" in msg and str(path) in msg and "\n" not in msg


@pytest.mark.parametrize("text", ["- 1\n- 2\n", "just a string\n", ""])
def test_top_level_not_a_mapping(tmp_path, text):
    path = tmp_path / "list.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "mapping at the top level" in str(info.value) and "\n" not in str(info.value)


def test_binary_file(tmp_path):
    path = tmp_path / "model.yaml"
    path.write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(ConfigError, match="problem file"):
        load_config(path)


@pytest.mark.parametrize("item", ["network.depth", "=7", "network..depth=7", "network.depth.=3"])
def test_malformed_override(problems_dir, item):
    with pytest.raises(ConfigError) as info:
        load_config(problems_dir / "poisson1d.yaml", ["network.init=glorot_normal", item])
    msg = str(info.value)
    assert msg.startswith("--set: got ") and repr(item) in msg and "KEY=VALUE" in msg


def test_override_into_a_non_mapping(problems_dir):
    with pytest.raises(ConfigError) as info:
        load_config(problems_dir / "poisson1d.yaml", ["network.width.x=3"])
    assert info.value.field == "network.width" and "network.width.x=3" in str(info.value)


def test_override_with_bad_value_names_the_field(problems_dir):
    with pytest.raises(ConfigError, match=r"^network\.depth: got 0, must be an integer >= 1$"):
        load_config(problems_dir / "poisson1d.yaml", ["network.init=glorot_normal", "network.depth=0"])


def test_overrides_apply(problems_dir):
    cfg = load_config(problems_dir / "poisson1d.yaml",
                      ["network.init=glorot_normal", "network.depth=7", "train.phases.adam.steps=5", "train.phases.adam.lr=2e-3",
                       "problem.conditions.boundary.value=x**3", "evaluate.grid=[11]"])
    assert cfg.network.depth == 7 and cfg.train.phases[0].steps == 5 and cfg.train.phases[0].lr == 2e-3
    assert cfg.problem.conditions["boundary"]["value"] == "x**3" and cfg.evaluate.grid == [11]
    assert cfg.network.width == 20 and cfg.name == "poisson1d"  # untouched values and name from the file stem
    assert cfg.network.init == "glorot_normal"


def test_switching_activation_resets_its_params(tmp_path, problems_dir):
    data = base("poisson1d", problems_dir)
    data["network"].update(activation="mrepu", activation_params={"p": 3})
    path = tmp_path / "p3.yaml"
    path.write_text(yaml.safe_dump(data))
    assert load_config(path).network.activation_params == {"p": 3}
    cfg = load_config(path, ["network.activation=tanh"])
    assert cfg.network.activation == "tanh" and cfg.network.activation_params == {}
    cfg = load_config(path, ["network.activation=repu", "network.activation_params.p=1"])
    assert cfg.network.activation == "repu" and cfg.network.activation_params == {"p": 1}
    # without the reset the file's p would be an error for tanh
    with pytest.raises(ConfigError, match=r"network\.activation_params\.p"):
        config_from_dict({**data, "network": {**data["network"], "activation": "tanh"}})


def test_apply_overrides_does_not_mutate_its_input():
    data = {"network": {"depth": 3}}
    out = apply_overrides(data, ["network.depth=5", "train.phases.adam.steps=1"])
    assert data == {"network": {"depth": 3}}
    assert out == {"network": {"depth": 5}, "train": {"phases": [{"optimizer": "adam", "steps": 1},
                                                                 {"optimizer": "lbfgs", "steps": 1000}]}}


# ----------------------------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("name", PROBLEMS)
def test_round_trip(problems_dir, name):
    cfg = load_config(problems_dir / f"{name}.yaml", ["network.init=glorot_normal"])
    assert isinstance(cfg, Config) and isinstance(cfg.problem, ProblemConfig)
    again = config_from_dict(cfg.to_dict())
    assert again == cfg
    # through YAML text as well (what a run folder's config.yaml holds)
    assert config_from_dict(yaml.safe_load(yaml.safe_dump(cfg.to_dict()))) == cfg
    build_problem(again.problem, again.name)


def test_defaults_fill_missing_sections(problems_dir):
    data = base("poisson1d", problems_dir)
    for section in ("train", "evaluate"):
        data.pop(section)
    data["evaluate"] = {"grid": [51]}
    cfg = config_from_dict(data)
    assert cfg.train.dtype == "float64" and cfg.train.points.sampler == "sobol" and cfg.train.phases[0].lr == 1e-3
    assert cfg.evaluate.grid == [51]


def test_files_load_as_written(problems_dir):
    cfg = load_config(problems_dir / "burgers.yaml", ["network.init=glorot_normal"])
    assert cfg.name == "burgers" and cfg.problem.pde == "burgers" and cfg.problem.time == [0, 1]
    assert cfg.network.width == 20 and cfg.network.depth == 4 and cfg.network.activation == "tanh"
    assert cfg.network.output_transform == {"base": "-sin(pi*x)", "factor": "t*(1-x**2)"}
    assert cfg.train.points.interior == 8000 and cfg.evaluate.grid == [256, 101]
    assert (cfg.train.resample.every, cfg.train.resample.method) == (500, "rad")
    assert [(p.optimizer, p.steps) for p in cfg.train.phases] == [("adam", 1000), ("ssbroyden", 7000)]
    assert cfg.train.phases[0].decay_rate == 1.0 and isinstance(cfg.train.phases[0].lr, float)


def test_exponent_floats_without_a_dot(tmp_path, problems_dir):
    """YAML 1.1 (PyYAML) would read 1e-3 as a string; the loader reads it as the number users mean."""
    data = base("poisson1d", problems_dir)
    path = tmp_path / "lr.yaml"
    path.write_text(yaml.safe_dump(data).replace("lr: 0.001", "lr: 1e-3"))
    assert "lr: 1e-3" in path.read_text()
    assert load_config(path).train.phases[0].lr == 1e-3
    assert load_config(path, ["train.phases.adam.lr=5E-4"]).train.phases[0].lr == 5e-4
    with pytest.raises(ConfigError, match=r"^train\.phases\.0\.lr: got '1e-3'"):  # quoted: still a string
        load_config(path, ["train.phases.adam.lr='1e-3'"])
