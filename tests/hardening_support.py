"""Shared pieces of the hardening battery (tests/test_hardening_*.py): a tiny problem file and the assertions."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from pinn_mrepu.cli import main

#: A tiny, fast Poisson problem (tanh: no smoothness warnings on stderr).
TINY = """\
name: tiny
problem:
  pde: poisson
  space: {x: [-1, 1]}
  source: "pi**2*sin(pi*x)"
  conditions:
    boundary: {type: dirichlet, faces: boundary, value: 0}
  exact: "sin(pi*x)"
network: {width: 4, depth: 2, activation: tanh, init: lecun_normal}
train:
  device: cpu
  points: {interior: 16, boundary: 2}
  phases:
    - {optimizer: adam, steps: 4}
    - {optimizer: lbfgs, steps: 2}
  checkpoint_every: 2
evaluate: {grid: [11], residual_points: 16, monitor_points: 8}
"""


def snapshot(root: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``root`` (folders as ``"dir"``)."""
    out = {}
    for p in sorted(root.rglob("*")):
        out[str(p.relative_to(root))] = "dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def run_cli(capsys, argv: list[str]) -> tuple[int, str, str]:
    """``pinn-mrepu ARGV --quiet`` in this process: exit status, stdout, stderr."""
    code = main([*argv, "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_error_line(err: str, field: str) -> None:
    """Exactly one stderr line, ``error: <field>: got ...``, no traceback (``field`` may be followed by a deeper
    key or index, e.g. ``bomb`` matches ``bomb4.1.0``)."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert re.match(rf"error: {re.escape(field)}([.\w]*\.)?[\w]*: got ", lines[0]) or lines[0].startswith(
        f"error: {field}: got "), err
    assert "Traceback" not in err and len(lines[0]) < 700, err


def assert_bad_input(capsys, root: Path, argv: list[str], field: str, *, code: int = 2) -> str:
    """Run ``argv``; exit ``code``, one error line naming ``field``, nothing on stdout, nothing written under
    ``root``.  Returns the error line."""
    before = snapshot(root)
    status, out, err = run_cli(capsys, argv)
    assert status == code, err
    assert_one_error_line(err, field)
    assert out == ""
    assert snapshot(root) == before, "files were written or changed"
    return err
