"""One-off (session 21): relabel the flat-loss stops in sweep ledgers as ``flat`` instead of ``converged``.

Until session 21 a quasi-Newton phase that ended because the loss had stopped changing at the dtype's resolution
(``flat_steps`` iterations) was reported as ``converged`` — also for ReLU, dead RePU and kinked MRePU networks
stuck at rel L2 0.5.  The trainer now reports such a stop as ``flat`` (``<optimizer> stopped after k of n
iterations: the loss changed by less than ...``) and keeps ``converged`` for a met ``tolerance_grad`` /
``tolerance_change``.  This rewrites the ledger entries written before the change to the new wording: the
``message`` and the phase's ``(converged)`` in ``phase_steps``.  Only the labels change; the numbers, the config
hashes and the curves are untouched, and an entry that is not a flat-loss stop is left as it is.

    python benchmarks/relabel_flat_stops.py results/study/*/      # then REPORT=1 bash benchmarks/converged_study.sh
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from pinn_mrepu.storage import atomic_write
from pinn_mrepu.sweeps.ledger import LEDGER

FLAT = re.compile(r"(\w+) converged after (\d+) of (\d+) iterations: (the loss changed by less than)")


def relabel(record: dict) -> bool:
    """Rewrite one ledger record's labels in place; True when it was a flat-loss stop labelled converged."""
    message = str(record.get("message") or "")
    stops = FLAT.findall(message)
    if not stops:
        return False
    record["message"] = FLAT.sub(r"\1 stopped after \2 of \3 iterations: \4", message)
    steps = str(record.get("phase_steps") or "")
    for optimizer, k, _, _ in stops:
        steps = steps.replace(f"{optimizer} {k} (converged)", f"{optimizer} {k} (flat)")
    record["phase_steps"] = steps
    return True


def relabel_ledger(path: Path) -> tuple[int, int]:
    """(entries, relabelled) of one ledger; rewrites it atomically when anything changed."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out, changed = [], 0
    for line in lines:
        entry = json.loads(line)
        if relabel(entry["record"]):
            changed += 1
        out.append(json.dumps(entry))
    if changed:
        atomic_write(path, "\n".join(out) + "\n")
    return len(lines), changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sweeps", nargs="+", type=Path, help="sweep folders holding a ledger.jsonl")
    args = parser.parse_args(argv)
    for sweep in args.sweeps:
        ledger = sweep / LEDGER
        if not ledger.is_file():
            print(f"{sweep}: no {LEDGER}", file=sys.stderr)
            return 2
        n, changed = relabel_ledger(ledger)
        print(f"{ledger}: {changed} of {n} entries relabelled (flat-loss stops)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
