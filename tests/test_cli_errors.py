"""``solve`` on bad input: exit status 2, one ``error:`` line naming the field, no traceback, nothing written."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from pinn_mrepu import cli
from pinn_mrepu.cli import main, solve_main

QUIET = ["--quiet"]


def _bad_file(tmp_path, text="network: {width: 0}\n"):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def _run_in_process(capsys, argv):
    code = main(["solve", *argv, *QUIET])
    out, err = capsys.readouterr()
    return code, out, err


def _assert_one_error_line(err, field):
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: "), err
    assert f"error: {field}: got " in lines[0], err
    assert "Traceback" not in err


def test_entry_points_exist():
    assert callable(solve_main) and callable(main)
    assert cli.EXIT_BAD_INPUT == 2


@pytest.mark.parametrize(
    "make_argv, field",
    [
        (lambda tmp, probs: [str(_bad_file(tmp))], "network.width"),
        (lambda tmp, probs: [str(_bad_file(tmp, "key: [unclosed\n"))], "problem file"),
        (lambda tmp, probs: [str(_bad_file(tmp, "- a\n- b\n"))], "problem file"),
        (lambda tmp, probs: [str(tmp / "missing.yaml")], "problem file"),
        (lambda tmp, probs: [str(probs / "poisson1d.yaml"), "--set", "network.depth"], "--set"),
        (lambda tmp, probs: [str(probs / "poisson1d.yaml"), "--set", "network.dpth=3"], "network.dpth"),
        (lambda tmp, probs: [str(probs / "poisson1d.yaml"), "--set", "problem.source=__import__('os')"],
         "problem.source"),
        (lambda tmp, probs: [str(probs / "burgers.yaml"), "--activation", "swish"], "network.activation"),
        (lambda tmp, probs: [], "problem"),
        (lambda tmp, probs: [str(probs / "poisson1d.yaml"), "--resume", str(tmp)], "--resume"),
    ],
    ids=["bad-width", "not-yaml", "list", "missing", "set-no-equals", "set-unknown-key", "set-bad-expr",
         "bad-activation", "no-problem", "resume-with-problem"],
)
def test_bad_input_in_process(tmp_path, problems_dir, capsys, make_argv, field):
    out_dir = tmp_path / "run"
    code, out, err = _run_in_process(capsys, [*make_argv(tmp_path, problems_dir), "--out", str(out_dir)])
    assert code == 2
    _assert_one_error_line(err, field)
    assert out == ""
    assert not out_dir.exists()


def test_solve_main_reports_bad_input(tmp_path, capsys):
    code = solve_main([str(_bad_file(tmp_path)), "--quiet", "--out", str(tmp_path / "run")])
    assert code == 2
    _assert_one_error_line(capsys.readouterr().err, "network.width")


def test_existing_out_folder_is_refused_untouched(tmp_path, problems_dir, capsys, restore_signals):
    out_dir = tmp_path / "run"
    out_dir.mkdir()
    (out_dir / "metrics.json").write_text('{"rel_l2": 0.1}')
    code, _out, err = _run_in_process(capsys, [str(problems_dir / "poisson1d.yaml"), "--set", "network.width=4",
                                              "--set", "network.init=lecun_normal", "--set",
                                              "train.points.interior=8", "--out", str(out_dir)])
    assert code == 2
    _assert_one_error_line(err, "--out")
    assert "--overwrite" in err
    assert sorted(p.name for p in out_dir.iterdir()) == ["metrics.json"]
    assert (out_dir / "metrics.json").read_text() == '{"rel_l2": 0.1}'


def test_real_process_bad_override(tmp_path, problems_dir):
    """A real ``python -m pinn_mrepu solve`` process: exit status 2, one stderr line, no traceback, no folder."""
    out_dir = tmp_path / "run"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(
        [sys.executable, "-m", "pinn_mrepu", "solve", str(problems_dir / "poisson1d.yaml"), "--set",
         "network.depth=0", "--out", str(out_dir), "--quiet"],
        check=False, capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == "error: network.depth: got 0, must be an integer >= 1\n"
    assert proc.stdout == ""
    assert not out_dir.exists()
