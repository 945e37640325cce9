"""What a user meets first on the command line: --version, --help, progress lines outside a terminal,
--threads, and the interrupt message."""

from __future__ import annotations

import re

import pytest
import torch

from pinn_mrepu import __version__
from pinn_mrepu.cli.main import build_parser, main

TINY = ["--set", "network.width=4", "--set", "network.depth=1", "--set", "train.points.interior=32",
        "--set", "train.phases=[{optimizer: adam, steps: 30}, {optimizer: lbfgs, steps: 5}]",
        "--set", "evaluate.residual_points=32"]


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"pinn-mrepu {__version__}"


@pytest.mark.parametrize("command, words", [
    ("solve", ["activations: gelu, mrepu, relu, repu, silu, sin, tanh", "Exit status: 0 done", "README.md",
               "--threads", "--log-every", "--quiet"]),
    ("compare", ["1 some run raised an exception", "--tune", "--tune-seeds", "--run-figures", "--no-figures"]),
])
def test_help_lists_activations_exit_codes_and_docs(command, words, capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for w in words:
        assert w in text, w


def test_progress_lines_outside_a_terminal(problems_dir, tmp_path, capsys):
    """capsys is not a TTY: solve prints periodic progress lines (here every step: --log-every 1e-9)."""
    rc = main(["solve", str(problems_dir / "poisson1d.yaml"), *TINY, "--log-every", "1e-9", "--out",
               str(tmp_path / "r"), "--threads", "1"])
    out = capsys.readouterr().out
    lines = [ln for ln in out.splitlines() if ln.startswith("[")]
    assert rc == 0 and len(lines) >= 4, out
    assert re.match(r"\[\s*[\d.]+ s\] phase 1/2 adam step \d+/30  loss [\d.e+-]+", lines[0]), lines[0]
    assert any("phase 2/2 lbfgs" in ln for ln in lines) and torch.get_num_threads() == 1


def test_quiet_prints_no_progress_lines(problems_dir, tmp_path, capsys):
    assert main(["solve", str(problems_dir / "poisson1d.yaml"), *TINY, "--quiet", "--out", str(tmp_path / "r")]) == 0
    assert not [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("[")]


@pytest.mark.parametrize("flag, value", [("--threads", "0"), ("--log-every", "0")])
def test_bad_flags_are_one_line(flag, value, problems_dir, tmp_path, capsys):
    rc = main(["solve", str(problems_dir / "poisson1d.yaml"), flag, value, "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2 and len(err) == 1 and flag in err[0] and not (tmp_path / "r").exists()


def test_load_keeps_the_last_result(problems_dir, tmp_path):
    from pinn_mrepu import PINNSolver

    assert main(["solve", str(problems_dir / "poisson1d.yaml"), *TINY, "--quiet", "--out", str(tmp_path / "r")]) == 0
    loaded = PINNSolver.load(tmp_path / "r")
    assert loaded.result is not None and loaded.result.status == "done"
    assert [p["optimizer"] for p in loaded.result.phases] == ["adam", "lbfgs"] and loaded.result.steps == 35
    assert loaded.result.history == loaded.trainer.history and len(loaded.result.history) > 0
    # the API's save/load round trip keeps it too
    solver = PINNSolver.from_yaml(problems_dir / "poisson1d.yaml", [TINY[i + 1] for i in range(0, len(TINY), 2)])
    first = solver.train()
    solver.save(tmp_path / "api")
    again = PINNSolver.load(tmp_path / "api").result
    assert (again.status, again.steps, again.message) == (first.status, first.steps, first.message)


def test_resume_extends_a_finished_run_by_a_new_phase(problems_dir, tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["solve", str(problems_dir / "poisson1d.yaml"), *TINY, "--quiet", "--out", str(run)]) == 0
    before = (run / "metrics.json").read_text()
    more = "train.phases=[{optimizer: adam, steps: 30}, {optimizer: lbfgs, steps: 5}, {optimizer: lbfgs, steps: 7}]"
    assert main(["solve", "--resume", str(run), "--set", more, "--quiet"]) == 0
    import json

    m = json.loads((run / "metrics.json").read_text())
    assert m["steps"] == 42 and [p["optimizer"] for p in m["phases"]] == ["adam", "lbfgs", "lbfgs"]
    assert json.loads(before)["steps"] == 35
    capsys.readouterr()


@pytest.mark.parametrize("item, words", [
    ("network.width=9", "changes what was trained"),
    ("train.phases.0.steps=50", "is finished; add a phase"),
    ("train.phases.1.steps=2", "finished"),
    ("train.phases=[{optimizer: adam, steps: 30}]", "may only be added at the end"),
    ("train.phases.1={optimizer: lbfgs, steps: 9, history_size: 3}", "only its steps may grow"),
])
def test_resume_refuses_changes_beyond_the_budget(item, words, problems_dir, tmp_path, capsys):
    run = tmp_path / "r"
    assert main(["solve", str(problems_dir / "poisson1d.yaml"), *TINY, "--quiet", "--out", str(run)]) == 0
    capsys.readouterr()
    config = (run / "config.yaml").read_text()
    assert main(["solve", "--resume", str(run), "--set", item, "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and words in err[0], err
    assert (run / "config.yaml").read_text() == config


def test_run_files_honour_the_umask(problems_dir, tmp_path):
    import os
    import stat

    old = os.umask(0o022)
    try:
        assert main(["solve", str(problems_dir / "poisson1d.yaml"), *TINY, "--quiet", "--out", str(tmp_path / "r")]) == 0
    finally:
        os.umask(old)
    for name in ("config.yaml", "metrics.json", "model.pt", "history.csv"):
        assert stat.S_IMODE((tmp_path / "r" / name).stat().st_mode) == 0o644, name
