"""benchmarks/relabel_flat_stops.py: flat-loss stops in a ledger become ``flat``; nothing else changes."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "relabel_flat_stops.py"


def _module():
    spec = importlib.util.spec_from_file_location("_relabel_flat_stops", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _entry(run: str, phase_steps: str, message: str) -> dict:
    record = {"run": run, "rel_l2": 0.4798, "final_loss": 3.2e-2, "phase_steps": phase_steps, "message": message}
    return {"run": run, "config": "abc", "record": record, "curve": [[1, "adam", 0.5, 0.4, 1.0]], "source": "x"}


def test_only_flat_loss_stops_are_relabelled_and_nothing_else_changes(tmp_path):
    flat = _entry("relu-d5-s0", "adam 1000, ssbroyden 33 (converged)",
                  "ssbroyden converged after 33 of 1000 iterations: the loss changed by less than 1.8e-15 (relative,"
                  " the resolution of torch.float64) for 20 iterations")
    dead = _entry("repu-p3-d7-s3", "adam 1000, ssbroyden 2 (converged)",
                  "ssbroyden converged after 2 of 1000 iterations: max|g| = 0.000e+00 <= tolerance_grad")
    stalled = _entry("mrepu-p2-d7-s0", "adam 1000, ssbroyden 57 (stalled)",
                     "ssbroyden stopped after 57 of 1000 iterations: 5 consecutive line-search failures")
    ledger = tmp_path / "ledger.jsonl"
    ledger.write_text("".join(json.dumps(e) + "\n" for e in (flat, dead, stalled)), encoding="utf-8")

    assert _module().relabel_ledger(ledger) == (3, 1)
    new = [json.loads(line) for line in ledger.read_text(encoding="utf-8").splitlines()]
    assert new[0]["record"]["phase_steps"] == "adam 1000, ssbroyden 33 (flat)"
    assert new[0]["record"]["message"].startswith("ssbroyden stopped after 33 of 1000 iterations: the loss changed")
    assert new[1:] == [dead, stalled]  # a met gradient tolerance stays converged; a stall is untouched
    rest = {k: v for k, v in new[0]["record"].items() if k not in ("phase_steps", "message")}
    assert rest == {k: v for k, v in flat["record"].items() if k not in ("phase_steps", "message")}
    assert {k: v for k, v in new[0].items() if k != "record"} == {k: v for k, v in flat.items() if k != "record"}
    assert _module().relabel_ledger(ledger) == (3, 0)  # idempotent: a second pass changes nothing
