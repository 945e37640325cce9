"""Hardening battery, faults: corrupted or tampered run folders (``solve --resume``) and output-directory faults.

Run folders: every case ends in exit status 2 with one ``error:`` line naming the file or flag, no traceback,
no code run from ``model.pt`` and the folder left byte-for-byte as it was.  Output directories: ``--overwrite``
never deletes a folder this package did not write, and I/O faults (full disk, read-only) are one line naming
the path.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import random
import shutil
import types

import pytest
import torch
from hardening_support import (
    TINY,
    assert_bad_input,
    assert_one_error_line,
    run_cli,
)

from pinn_mrepu import PINNSolver, storage
from pinn_mrepu.errors import ConfigError
from pinn_mrepu.runs import run_to_folder
from pinn_mrepu.validation import load_config

PWNED = "pwned-by-model-pt"


class _Payload:
    """Unpickling it would create the file PWNED (through os.system)."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return os.system, (f"touch {self.path}",)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A finished and an interrupted tiny run folder (built once)."""
    root = tmp_path_factory.mktemp("runs")
    (root / "tiny.yaml").write_text(TINY)
    config = lambda: load_config(root / "tiny.yaml")
    run_to_folder(config(), root / "done", figures=False)
    polls = iter(range(100))
    run_to_folder(config(), root / "cut", figures=False, should_stop=lambda: next(polls) >= 3)
    assert json.loads((root / "cut" / "metrics.json").read_text())["status"] == "interrupted"
    return root


@pytest.fixture(autouse=True)
def _cwd(tmp_path, monkeypatch, restore_signals):
    monkeypatch.chdir(tmp_path)


def _state(d):
    return torch.load(d / "model.pt", weights_only=True)


def _save(d, state):
    torch.save(state, d / "model.pt")


def _edit_state(fn):
    def edit(d):
        state = _state(d)
        fn(state)
        _save(d, state)
    return edit


def _other_fingerprint(state):
    other = load_config_text(TINY.replace('"pi**2*sin(pi*x)"', '"1 + x"').replace('"sin(pi*x)"', '"0"'))
    state["fingerprint"] = PINNSolver(other).fingerprint


def load_config_text(text):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "p.yaml").write_text(text)
        return load_config(Path(d) / "p.yaml")


def _wider_weights(state):
    state["model"] = {k: torch.zeros(*(s + 1 for s in v.shape), dtype=v.dtype) for k, v in state["model"].items()}


def _nan_weights(state):
    k = next(iter(state["model"]))
    state["model"][k] = torch.full_like(state["model"][k], float("nan"))


def _history_phase(state):
    state["history"] = [{"step": 1, "phase": "foo", "loss": 1.0}]


def _bad_interior(state):
    state["points"]["interior"] = torch.zeros(4, 3, dtype=torch.float64)


def _inf_interior(state):
    state["points"]["interior"] = torch.full_like(state["points"]["interior"], float("inf"))


def _write(name, data):
    def edit(d):
        p = d / name
        p.write_bytes(data) if isinstance(data, bytes) else p.write_text(data)
    return edit


def _truncate(d):
    data = (d / "model.pt").read_bytes()
    (d / "model.pt").write_bytes(data[: len(data) // 2])


def _pickle_payload(d):
    torch.save({"model": _Payload(d.parent / PWNED)}, d / "model.pt")


def _raw_pickle_payload(d):
    (d / "model.pt").write_bytes(pickle.dumps({"model": _Payload(d.parent / PWNED)}))


def _unlink(name):
    def edit(d):
        (d / name).unlink()
    return edit


def _model_dir(d):
    (d / "model.pt").unlink()
    (d / "model.pt").mkdir()


#: (id, folder (done|cut), edit(folder), extra argv, field)
FOLDER_CASES = [
    ("model-empty", "cut", _write("model.pt", b""), [], "model.pt"),
    ("model-truncated", "cut", _truncate, [], "model.pt"),
    ("model-random-bytes", "cut", _write("model.pt", random.Random(0).randbytes(4096)), [], "model.pt"),
    ("model-text", "cut", _write("model.pt", "not a model\n"), [], "model.pt"),
    ("model-pickle-payload", "cut", _pickle_payload, [], "model.pt"),
    ("model-raw-pickle-payload", "cut", _raw_pickle_payload, [], "model.pt"),
    ("model-plain-dict", "cut", lambda d: _save(d, {"weights": torch.zeros(3)}), [], "model.pt"),
    ("model-no-fingerprint", "cut", _edit_state(lambda s: s.pop("fingerprint")), [], "model.pt"),
    ("model-other-problem", "cut", _edit_state(_other_fingerprint), [], "model.pt"),
    ("model-wrong-architecture", "cut", _edit_state(_wider_weights), [], "model.pt"),
    ("model-nan-weights", "cut", _edit_state(_nan_weights), [], "model.pt"),
    ("state-history-phase-foo", "cut", _edit_state(_history_phase), [], "model.pt"),
    ("state-extra-key-phase-foo", "cut", _edit_state(lambda s: s.update(phase="foo")), [], "model.pt"),
    ("state-missing-key", "cut", _edit_state(lambda s: s.pop("round")), [], "model.pt"),
    ("state-phase-index-type", "cut", _edit_state(lambda s: s.update(phase_index="foo")), [], "model.pt"),
    ("state-phase-index-range", "cut", _edit_state(lambda s: s.update(phase_index=99)), [], "model.pt"),
    ("state-phase-step-negative", "cut", _edit_state(lambda s: s.update(phase_step=-1)), [], "model.pt"),
    ("state-elapsed-nan", "cut", _edit_state(lambda s: s.update(elapsed=float("nan"))), [], "model.pt"),
    ("state-summaries", "done", _edit_state(lambda s: s.update(summaries=[{"optimizer": "bfgs"}] * 2)), [], "model.pt"),
    ("state-points-shape", "cut", _edit_state(_bad_interior), [], "model.pt"),
    ("state-points-inf", "cut", _edit_state(_inf_interior), [], "model.pt"),
    ("state-optimizer-garbage", "cut", _edit_state(lambda s: s.update(optimizer={"x": 1})), [], "model.pt"),
    ("model-missing", "cut", _unlink("model.pt"), [], "run folder"),
    ("model-is-folder", "cut", _model_dir, [], "run folder"),
    ("config-missing", "cut", _unlink("config.yaml"), [], "run folder"),
    ("config-invalid-yaml", "cut", _write("config.yaml", "network: [unclosed\n"), [], "config.yaml"),
    ("config-non-utf8", "cut", _write("config.yaml", b"name: \xff\xfe\n"), [], "config.yaml"),
    ("config-empty", "cut", _write("config.yaml", ""), [], "config.yaml"),
    ("config-unknown-key", "cut", lambda d: (d / "config.yaml").write_text((d / "config.yaml").read_text() + "bogus: 1\n"),
     [], "bogus"),
    ("config-other-network", "cut", lambda d: (d / "config.yaml").write_text(
        (d / "config.yaml").read_text().replace("width: 4", "width: 5")), [], "model.pt"),
    ("resume-overwrite", "cut", lambda d: None, ["--overwrite"], "--overwrite"),
    ("resume-out", "cut", lambda d: None, ["--out", "elsewhere"], "--out"),
]


@pytest.mark.parametrize("source, edit, extra, field", [c[1:] for c in FOLDER_CASES], ids=[c[0] for c in FOLDER_CASES])
def test_bad_run_folder(runs, tmp_path, capsys, source, edit, extra, field):
    run = tmp_path / "run"
    shutil.copytree(runs / source, run)
    edit(run)
    assert_bad_input(capsys, tmp_path, ["solve", "--resume", str(run), *extra], field)
    assert not (tmp_path / PWNED).exists()


@pytest.mark.parametrize("target", ["missing", "file"])
def test_resume_needs_a_folder(tmp_path, capsys, target):
    path = tmp_path / "x"
    if target == "file":
        path.write_text("x")
    assert_bad_input(capsys, tmp_path, ["solve", "--resume", str(path)], "run folder")


def test_the_untampered_folder_resumes(runs, tmp_path, capsys):
    """Control: the folder the cases above corrupt resumes fine, so each refusal is the corruption's doing."""
    shutil.copytree(runs / "cut", tmp_path / "run")
    code, _out, err = run_cli(capsys, ["solve", "--resume", str(tmp_path / "run")])
    assert code == 0, err
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["status"] == "done"


def test_solver_load_never_runs_a_pickle_payload(runs, tmp_path):
    shutil.copytree(runs / "done", tmp_path / "run")
    _pickle_payload(tmp_path / "run")
    with pytest.raises(ConfigError, match="refused without running them"):
        PINNSolver.load(tmp_path / "run")
    assert not (tmp_path / PWNED).exists()


# ------------------------------------------------------------------------------------------- output folders
def _problem(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY)
    return str(tmp_path / "tiny.yaml")


def _user_folder(tmp_path):
    d = tmp_path / "mine"
    d.mkdir()
    (d / "thesis.tex").write_text("years of work")
    return d


def _marked_with_user_file(tmp_path, runs):
    d = tmp_path / "mine"
    shutil.copytree(runs / "done", d)
    (d / "notes.txt").write_text("mine")
    return d


def _marked_with_subfolder(tmp_path, runs):
    d = tmp_path / "mine"
    shutil.copytree(runs / "done", d)
    (d / "data").mkdir()
    (d / "data" / "x.csv").write_text("1\n")
    return d


def _symlink_to_user_folder(tmp_path, runs):
    target = _user_folder(tmp_path)
    (tmp_path / "link").symlink_to(target, target_is_directory=True)
    return tmp_path / "link"


def _a_file(tmp_path, runs):
    (tmp_path / "out.txt").write_text("x")
    return tmp_path / "out.txt"


def _under_a_file(tmp_path, runs):
    return _a_file(tmp_path, runs) / "run"


def _cwd_with_files(tmp_path, runs):
    (tmp_path / "important.txt").write_text("keep")
    return "."


#: (id, make --out, extra flags, field)
OUT_CASES = [
    ("user-folder", lambda t, r: _user_folder(t), [], "--out"),
    ("user-folder-overwrite", lambda t, r: _user_folder(t), ["--overwrite"], "--out"),
    ("dot-overwrite", _cwd_with_files, ["--overwrite"], "--out"),
    ("run-folder-with-user-file-overwrite", _marked_with_user_file, ["--overwrite"], "--out"),
    ("run-folder-with-subfolder-overwrite", _marked_with_subfolder, ["--overwrite"], "--out"),
    ("symlink-to-user-folder-overwrite", _symlink_to_user_folder, ["--overwrite"], "--out"),
    ("out-is-a-file", _a_file, [], "--out"),
    ("out-is-a-file-overwrite", _a_file, ["--overwrite"], "--out"),
    ("out-under-a-file", _under_a_file, [], "--out"),
]


@pytest.mark.parametrize("make, extra, field", [c[1:] for c in OUT_CASES], ids=[c[0] for c in OUT_CASES])
def test_bad_output_folder(runs, tmp_path, capsys, make, extra, field):
    problem = _problem(tmp_path)
    out = make(tmp_path, runs)
    assert_bad_input(capsys, tmp_path, ["solve", problem, "--out", str(out), *extra], field)


def _failing_mkstemp(monkeypatch, code, after=0):
    real, calls = storage.tempfile.mkstemp, []

    def mkstemp(*args, **kw):
        calls.append(1)
        if len(calls) > after:
            raise OSError(code, os.strerror(code))
        return real(*args, **kw)

    monkeypatch.setattr(storage, "tempfile", types.SimpleNamespace(mkstemp=mkstemp))


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS, errno.EACCES], ids=["full-disk", "read-only", "no-permission"])
def test_write_fault_before_training_leaves_nothing(tmp_path, capsys, monkeypatch, code):
    problem = _problem(tmp_path)
    _failing_mkstemp(monkeypatch, code)
    err = assert_bad_input(capsys, tmp_path, ["solve", problem, "--out", str(tmp_path / "run")], "--out")
    assert os.strerror(code) in err and str(tmp_path / "run" / storage.RUN_MARKER) in err


def test_full_disk_during_training_is_one_line_and_keeps_the_folder(tmp_path, capsys, monkeypatch):
    problem = _problem(tmp_path)
    _failing_mkstemp(monkeypatch, errno.ENOSPC, after=2)  # the marker and config.yaml, then the first checkpoint
    code, _out, err = run_cli(capsys, ["solve", problem, "--out", str(tmp_path / "run")])
    assert code == 2
    assert_one_error_line(err, "--out")
    assert "model.pt" in err and "No space left" in err
    assert (tmp_path / "run" / "config.yaml").is_file()


@pytest.mark.parametrize("make", [lambda t: _user_folder(t), lambda t: _a_file(t, None)], ids=["user-folder", "file"])
def test_compare_refuses_a_foreign_out(tmp_path, capsys, make):
    problem = _problem(tmp_path)
    out = make(tmp_path)
    assert_bad_input(capsys, tmp_path, ["compare", problem, "--depths", "2", "--seeds", "0", "--activations", "tanh",
                                        "--out", str(out)], "--out")


def test_compare_full_disk_is_one_line(tmp_path, capsys, monkeypatch):
    problem = _problem(tmp_path)
    _failing_mkstemp(monkeypatch, errno.ENOSPC)
    assert_bad_input(capsys, tmp_path, ["compare", problem, "--depths", "2", "--seeds", "0", "--activations", "tanh",
                                        "--out", str(tmp_path / "sweep")], "file")


# ------------------------------------------------------------------------------------------- what still works
def test_overwrite_replaces_a_run_folder_of_this_package(runs, tmp_path, capsys):
    shutil.copytree(runs / "done", tmp_path / "run")
    before = (tmp_path / "run" / "model.pt").read_bytes()
    code, _out, err = run_cli(capsys, ["solve", _problem(tmp_path), "--out", str(tmp_path / "run"), "--overwrite",
                                      "--set", "train.seed=1"])
    assert code == 0, err
    assert (tmp_path / "run" / "model.pt").read_bytes() != before
    assert storage.is_run_folder(tmp_path / "run")


def test_metrics_json_is_strict_json_with_null_and_a_reason(tmp_path):
    text = TINY.replace('  exact: "sin(pi*x)"\n', "")
    (tmp_path / "noexact.yaml").write_text(text)
    run_to_folder(load_config(tmp_path / "noexact.yaml"), tmp_path / "run", figures=False)

    def no_constants(name):
        raise AssertionError(f"metrics.json holds {name}")

    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text(), parse_constant=no_constants)
    assert metrics["rel_l2"] is None and metrics["max_abs_error"] is None
    assert "no exact solution" in metrics["null_metrics"]["rel_l2"]


COUNT = len(FOLDER_CASES) + 2 + len(OUT_CASES) + 3 + 1 + 2 + 1  # + resume targets, write faults, mid-run, compare
