"""Hardening battery, bad input: YAML files, expressions and ``--set``/flags.

Every case must end in exit status 2 with exactly one ``error: <field>: got ...`` line on stderr, no traceback,
nothing on stdout and nothing written, within seconds (they all fail at load time, before training).
"""

from __future__ import annotations

import time

import pytest
from hardening_support import TINY, assert_bad_input


@pytest.fixture(autouse=True)
def _cwd(tmp_path, monkeypatch, restore_signals):
    monkeypatch.chdir(tmp_path)  # a stray default results/ folder would show up in the snapshot


def _edit(*pairs: tuple[str, str]) -> str:
    text = TINY
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new)
    return text


DEEP = "x" + "[" * 100_000 + "]" * 100_000

#: (id, file text (bytes for raw), field)
YAML_CASES = [
    ("duplicate-key", _edit(("width: 4, depth: 2,", "width: 4, width: 5, depth: 2,")), "network.width"),
    ("duplicate-section", TINY + "network: {width: 8}\n", "network"),
    ("duplicate-top-key", TINY + "name: other\n", "name"),
    ("alias-bomb", TINY + "\n".join(
        ['bomb0: &b0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]']
        + [f"bomb{i}: &b{i} [" + ", ".join([f"*b{i - 1}"] * 9) + "]" for i in range(1, 9)]) + "\n", "bomb"),
    ("alias-bomb-as-value", _edit(("name: tiny\n", "name: tiny\nx0: &x0 [a, a, a, a, a, a, a, a, a, a]\n"
                                   + "".join(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]\n" for i in range(1, 7))
                                   + "evaluate_: *x6\n")), "x"),
    ("recursive-alias", TINY + "loop: &l [1, *l]\n", "loop"),
    ("nested-100000", TINY + "deep: " + DEEP[1:] + "\n", "problem file"),
    ("nested-30", TINY + "deep: " + "[" * 30 + "]" * 30 + "\n", "deep"),
    ("int-24-digits", _edit(("  device: cpu\n", "  device: cpu\n  seed: 100000000000000000000000\n")), "train.seed"),
    ("int-5000-digits", _edit(("  device: cpu\n", "  device: cpu\n  seed: " + "9" * 5000 + "\n")), "train.seed"),
    ("non-utf8", TINY.encode() + b"# \xff\xfe\n", "problem file"),
    ("nul-byte", TINY + "bad: \x00\n", "problem file"),
    ("empty-file", "", "problem file"),
    ("comment-only", "# nothing\n", "problem file"),
    ("scalar-file", "42\n", "problem file"),
    ("unclosed-flow", TINY + "x: [1, 2\n", "problem file"),
    ("bad-indent", TINY + "  - stray\n", "problem file"),
    ("bad-date", TINY + "when: 2020-13-45\n", "problem file"),
    ("unknown-top-key", TINY + "netwrk: {}\n", "netwrk"),
    ("unknown-nested-key", _edit(("depth: 2,", "depth: 2, dpth: 3,")), "network.dpth"),
    ("section-not-mapping", _edit(("evaluate: {grid: [11], residual_points: 16, monitor_points: 8}", "evaluate: 3")),
     "evaluate"),
    ("name-escape", _edit(("name: tiny", "name: ../../../../escape")), "name"),
    ("name-nul", _edit(("name: tiny", 'name: "ti\\0ny"')), "name"),
    ("name-300", _edit(("name: tiny", "name: " + "n" * 300)), "name"),
    ("name-dot", _edit(("name: tiny", "name: .hidden")), "name"),
    ("name-slash", _edit(("name: tiny", "name: a/b")), "name"),
    ("name-empty", _edit(("name: tiny", 'name: ""')), "name"),
    ("name-number", _edit(("name: tiny", "name: 12")), "name"),
    ("width-string", _edit(("width: 4", "width: four")), "network.width"),
    ("width-bool", _edit(("width: 4", "width: true")), "network.width"),
    ("phases-not-list", _edit(("  phases:\n    - {optimizer: adam, steps: 4}\n    - {optimizer: lbfgs, steps: 2}\n",
                               "  phases: adam\n")), "train.phases"),
]

#: (id, file text, field): expressions and numbers that are non-finite on the domain, caught at load time.
EXPRESSION_CASES = [
    ("source-log-negative", _edit(('"pi**2*sin(pi*x)"', '"log(x)"')), "problem.source"),
    ("source-exp-1000", _edit(('"pi**2*sin(pi*x)"', '"exp(1000)"')), "problem.source"),
    ("source-sqrt-negative", _edit(('"pi**2*sin(pi*x)"', '"sqrt(-1)"')), "problem.source"),
    ("source-pole-on-grid", _edit(('"pi**2*sin(pi*x)"', '"1/(x-1)"')), "problem.source"),
    ("source-power-tower", _edit(('"pi**2*sin(pi*x)"', '"10**10**10"')), "problem.source"),
    ("source-forbidden", _edit(('"pi**2*sin(pi*x)"', "\"__import__('os')\"")), "problem.source"),
    ("source-syntax", _edit(('"pi**2*sin(pi*x)"', '"sin(pi*x"')), "problem.source"),
    ("source-unknown-name", _edit(('"pi**2*sin(pi*x)"', '"foo(x)"')), "problem.source"),
    ("source-too-long", _edit(('"pi**2*sin(pi*x)"', '"' + "+".join(["x"] * 2000) + '"')), "problem.source"),
    ("boundary-pole", _edit(("value: 0}", 'value: "1/(x+1)"}')), "problem.conditions.boundary.value"),
    ("boundary-inf", _edit(("value: 0}", "value: .inf}")), "problem.conditions.boundary.value"),
    ("exact-power-tower", _edit(('exact: "sin(pi*x)"', 'exact: "10**10**10"')), "problem.exact"),
    ("exact-sqrt-negative", _edit(('exact: "sin(pi*x)"', 'exact: "sqrt(-1)"')), "problem.exact"),
    ("exact-nan-everywhere", _edit(('exact: "sin(pi*x)"', 'exact: "sqrt(-1 - x**2)"')), "problem.exact"),
    ("exact-float32-overflow", _edit(('exact: "sin(pi*x)"', 'exact: "exp(100)"'), ("device: cpu", "device: cpu\n  dtype: float32")),
     "problem.exact"),
    ("transform-base-log", _edit(("init: lecun_normal}", "init: lecun_normal, output_transform: {base: 'log(x+1)', factor: '1-x**2'}}")),
     "network.output_transform.base"),
    ("transform-factor-pole", _edit(("init: lecun_normal}", "init: lecun_normal, output_transform: {base: '0', factor: '1/x'}}")),
     "network.output_transform.factor"),
    ("domain-overflow", _edit(("{x: [-1, 1]}", "{x: [-1e308, 1e308]}")), "problem.space.x"),
    ("domain-subnormal", _edit(("{x: [-1, 1]}", "{x: [0, 1e-320]}")), "problem.space.x"),
    ("domain-inverted", _edit(("{x: [-1, 1]}", "{x: [1, -1]}")), "problem.space.x"),
    ("domain-inf", _edit(("{x: [-1, 1]}", "{x: [-.inf, 1]}")), "problem.space.x"),
    ("weight-inf", _edit(("  device: cpu\n", "  device: cpu\n  weights: {residual: .inf}\n")), "train.weights.residual"),
    ("weight-nan", _edit(("  device: cpu\n", "  device: cpu\n  weights: {residual: .nan}\n")), "train.weights.residual"),
    ("weight-negative", _edit(("  device: cpu\n", "  device: cpu\n  weights: {boundary: -1}\n")), "train.weights.boundary"),
    ("time-limit-inf", _edit(("  device: cpu\n", "  device: cpu\n  time_limit_s: .inf\n")), "train.time_limit_s"),
]


def _write(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return path


@pytest.mark.parametrize("text, field", [c[1:] for c in YAML_CASES + EXPRESSION_CASES],
                         ids=[c[0] for c in YAML_CASES + EXPRESSION_CASES])
def test_bad_problem_file(tmp_path, capsys, text, field):
    path = _write(tmp_path, text)
    t0 = time.perf_counter()
    assert_bad_input(capsys, tmp_path, ["solve", str(path), "--out", str(tmp_path / "run")], field)
    assert time.perf_counter() - t0 < 20


def test_file_is_a_folder_or_missing(tmp_path, capsys):
    (tmp_path / "dir.yaml").mkdir()
    assert_bad_input(capsys, tmp_path, ["solve", str(tmp_path / "dir.yaml")], "problem file")
    assert_bad_input(capsys, tmp_path, ["solve", str(tmp_path / "nope.yaml")], "problem file")


def test_oversized_file(tmp_path, capsys):
    path = _write(tmp_path, TINY + "# " + "x" * (5 * 2**20) + "\n")
    assert_bad_input(capsys, tmp_path, ["solve", str(path)], "problem file")


#: (id, argv after the problem file, field): --set values and flags.
SET_CASES = [
    ("depth-power-text", ["--set", "network.depth=10**21"], "network.depth"),
    ("depth-huge-int", ["--set", "network.depth=1000000000000000000000"], "network.depth"),
    ("depth-10000", ["--set", "network.depth=10000"], "network.depth"),
    ("depth-zero", ["--set", "network.depth=0"], "network.depth"),
    ("width-1e9-float", ["--set", "network.width=1e9"], "network.width"),
    ("width-1e9", ["--set", "network.width=1000000000"], "network.width"),
    ("parameters", ["--set", "network.width=4096", "--set", "network.depth=100"], "network.width"),
    ("memory-estimate", ["--set", "network.width=2000", "--set", "train.points.interior=1000000"],
     "train.points.interior"),
    ("interior-1e9", ["--set", "train.points.interior=1000000000"], "train.points.interior"),
    ("boundary-1e9", ["--set", "train.points.boundary=1000000000"], "train.points.boundary"),
    ("grid-2e9", ["--set", "evaluate.grid=[2000000000]"], "evaluate.grid"),
    ("grid-wrong-length", ["--set", "evaluate.grid=[11, 11]"], "evaluate.grid"),
    ("residual-points-1e9", ["--set", "evaluate.residual_points=1000000000"], "evaluate.residual_points"),
    ("monitor-points-1e9", ["--set", "evaluate.monitor_points=1000000000"], "evaluate.monitor_points"),
    ("refine-candidates-1e9", ["--set", "train.refine.every=1", "--set", "train.refine.candidates=1000000000"],
     "train.refine.candidates"),
    ("refine-add-over-candidates", ["--set", "train.refine.every=1", "--set", "train.refine.candidates=10",
                                    "--set", "train.refine.add=50"], "train.refine.add"),
    ("resample-candidates-1e9", ["--set", "train.resample.candidates=1000000000"], "train.resample.candidates"),
    ("resample-exponent", ["--set", "train.resample.exponent=1e9"], "train.resample.exponent"),
    ("seed-2-40", ["--set", "train.seed=1099511627776"], "train.seed"),
    ("seed-negative", ["--set", "train.seed=-1"], "train.seed"),
    ("seed-float", ["--set", "train.seed=0.5"], "train.seed"),
    ("set-no-equals", ["--set", "network.depth"], "--set"),
    ("set-empty-key", ["--set", "=3"], "--set"),
    ("set-empty-part", ["--set", "network..depth=3"], "--set"),
    ("set-unknown", ["--set", "network.dpth=3"], "network.dpth"),
    ("set-duplicate-key", ["--set", "network={width: 4, width: 5}"], "network.width"),
    ("set-deep", ["--set", "network.init=" + "[" * 40 + "]" * 40], "network.init"),
    ("set-alias-bomb", ["--set", "name=[&a [x, x, x, x, x, x, x, x, x, x], " + ", ".join(
        f"&a{i} [" + ", ".join([f"*{'a' if i == 1 else f'a{i - 1}'}"] * 10) + "]" for i in range(1, 6)) + "]"], "name"),
    ("set-phase-out-of-range", ["--set", "train.phases.9.lr=1"], "train.phases.9"),
    ("set-phase-unknown-name", ["--set", "train.phases.bfgs.steps=3"], "train.phases.bfgs"),
    ("set-into-scalar", ["--set", "name.x=1"], "name"),
    ("set-name-escape", ["--set", "name=../escape"], "name"),
    ("set-weight-inf", ["--set", "train.weights.residual=.inf"], "train.weights.residual"),
    ("set-source-nonfinite", ["--set", "problem.source=log(x)"], "problem.source"),
    ("set-long-value", ["--set", "network.activation=" + "x" * 100_000], "network.activation"),
    ("power-1000", ["--activation", "mrepu", "--set", "network.activation_params={p: 1000}"],
     "network.activation_params.p"),
    ("power-1e17", ["--activation", "mrepu", "--set", "network.activation_params={p: 100000000000000000}"],
     "network.activation_params.p"),
    ("activation-empty", ["--activation", ""], "network.activation"),
    ("activation-unknown", ["--activation", "swish"], "network.activation"),
    ("resume-with-problem", ["--resume", "."], "--resume"),
]


@pytest.mark.parametrize("extra, field", [c[1:] for c in SET_CASES], ids=[c[0] for c in SET_CASES])
def test_bad_override_or_flag(tmp_path, capsys, extra, field):
    path = _write(tmp_path, TINY)
    err = assert_bad_input(capsys, tmp_path, ["solve", str(path), *extra, "--out", str(tmp_path / "run")], field)
    assert len(err) < 700


def test_messages_never_echo_an_unbounded_value(tmp_path, capsys):
    path = _write(tmp_path, _edit(("name: tiny", "name: " + "y" * 1_000_000)))
    err = assert_bad_input(capsys, tmp_path, ["solve", str(path)], "name")
    assert "..." in err and len(err) < 400


def test_a_good_file_with_aliases_and_merge_keys_still_loads(tmp_path):
    from pinn_mrepu.validation import load_config

    text = _edit(("  phases:\n    - {optimizer: adam, steps: 4}\n",
                  "  phases:\n    - &adam {optimizer: adam, steps: 4}\n    - {<<: *adam, steps: 3}\n"))
    config = load_config(_write(tmp_path, text))
    assert [p.optimizer for p in config.train.phases] == ["adam", "adam", "lbfgs"]


def test_default_name_from_an_unusual_file_stem_is_made_a_label(tmp_path):
    from pinn_mrepu.validation import load_config

    path = tmp_path / "my problem (1).yaml"
    path.write_text(TINY.replace("name: tiny\n", ""))
    assert load_config(path).name == "my-problem--1-"


COUNT = len(YAML_CASES) + len(EXPRESSION_CASES) + len(SET_CASES) + 4  # + folder/missing (2), oversized, unbounded
