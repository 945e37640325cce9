"""The trainer's rollback snapshot: copied into reused buffers (no fresh n x n inverse Hessian per refresh)."""

from __future__ import annotations

import pytest
import torch

from pinn_mrepu import PINNSolver
from pinn_mrepu.optim import DenseQuasiNewton
from pinn_mrepu.runs import resume_folder, run_to_folder
from pinn_mrepu.training.snapshot import copy_state
from pinn_mrepu.training.trainer import Trainer

from test_training import tiny


def test_copy_state_reuses_matching_buffers_and_stays_independent():
    src = {"H": torch.randn(4, 4), "at": {"x": torch.randn(3)}, "pairs": [torch.ones(2), 3],
           "shape": (torch.zeros(1), "a"), "groups": [{"params": [0, 1], "lr": 1e-3}]}
    first = copy_state(src)
    assert first["H"] is not src["H"] and torch.equal(first["H"], src["H"])
    assert isinstance(first["shape"], tuple) and first["groups"] == src["groups"]
    assert first["groups"][0]["params"] is not src["groups"][0]["params"]  # plain values deep-copied
    src["H"].add_(1.0)
    src["at"]["x"].mul_(2.0)
    buffer = first["H"]
    second = copy_state(src, first)
    assert second["H"] is buffer and second["at"]["x"] is first["at"]["x"] and second["pairs"][0] is first["pairs"][0]
    assert torch.equal(buffer, src["H"]) and torch.equal(second["at"]["x"], src["at"]["x"])
    src["H"].zero_()  # the copy does not follow its source
    assert float(buffer.abs().sum()) > 0.0
    grown = copy_state(dict(src, H=torch.randn(5, 5)), second)  # another shape (or dtype): a fresh tensor
    assert grown["H"] is not buffer and grown["H"].shape == (5, 5)
    assert copy_state(torch.ones(2, dtype=torch.float64), torch.ones(2)).dtype == torch.float64
    assert not copy_state(torch.ones(2, requires_grad=True)).requires_grad


def test_dense_state_dict_copies_unless_asked():
    opt = DenseQuasiNewton(3)
    assert opt.state_dict()["H"] is not opt.H and torch.equal(opt.state_dict()["H"], opt.H)
    assert opt.state_dict(copy=False)["H"] is opt.H


def _ssbroyden():
    return tiny("problems/poisson1d.yaml", "train.phases.adam.steps=10", "train.phases.1={optimizer: ssbroyden, steps: 35}")


def test_snapshot_refreshes_reuse_one_inverse_hessian_buffer(monkeypatch):
    seen = []
    original = Trainer._snapshot

    def spy(self):
        state = original(self)
        opt = state["optimizer"]
        if opt is not None and "H" in opt.get("optimizer", {}):
            live = self.runner.optimizer.H
            snap = opt["optimizer"]["H"]
            seen.append((snap.data_ptr(), snap is live or snap.data_ptr() == live.data_ptr(), torch.equal(snap, live)))
        return state

    monkeypatch.setattr(Trainer, "_snapshot", spy)
    result = PINNSolver(_ssbroyden()).train()
    assert result.status == "done" and result.steps_of("ssbroyden") == 35, result.message
    assert len(seen) >= 4  # phase start, steps 20, 30, 40 of the run, and the end
    assert len({ptr for ptr, _, _ in seen}) == 1, "every refresh after the first must reuse the buffer"
    assert not any(aliased for _, aliased, _ in seen) and all(equal for _, _, equal in seen)


@pytest.mark.parametrize("stop_at", [28, 41])  # rolled back to a snapshot refreshed in place, then resumed
def test_rollback_to_a_refreshed_snapshot_resumes_bit_for_bit(tmp_path, stop_at):
    count = {"k": 0}

    def should_stop():
        count["k"] += 1
        return count["k"] > stop_at

    full = run_to_folder(_ssbroyden(), tmp_path / "full", figures=False)
    cut = run_to_folder(_ssbroyden(), tmp_path / "cut", should_stop=should_stop, figures=False)
    assert cut.result.status == "interrupted"
    resumed = resume_folder(tmp_path / "cut", figures=False)
    assert resumed.result.status == "done" and resumed.result.steps_of("ssbroyden") == 35
    for key in ("rel_l2", "max_abs_error", "mean_abs_residual", "final_loss"):
        assert resumed.metrics[key] == full.metrics[key], key
