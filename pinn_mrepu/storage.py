"""Files of a run folder, written atomically: config.yaml, metrics.json, history.csv, model.pt and checkpoints.

A run folder holds

- ``config.yaml``: the fully resolved configuration;
- ``model.pt``: model weights plus the complete trainer state (optimiser, points, counters, history), so a
  folder is both a saved model and a resumable checkpoint;
- ``metrics.json``: accuracy, status and provenance (device, dtype, seed, torch version, ...);
- ``history.csv``: step, phase, total loss, each loss term, elapsed seconds;
- figures (see :mod:`pinn_mrepu.runs.plots`).

Every file is written to a temporary name in the same folder and moved into place with ``os.replace``, so an
interrupted write never leaves a truncated file.  The lowest layer: it imports nothing of the package.
"""

from __future__ import annotations

import csv
import io
import json
import os
import platform
import tempfile
from pathlib import Path

import torch
import yaml

__all__ = ["cpu_model", "atomic_write", "write_config", "write_metrics", "write_history", "save_state"]


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where available), for provenance in metrics and benchmarks."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically (temporary file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_state(path: str | Path, state: dict) -> None:
    """``torch.save`` a state mapping atomically."""
    buf = io.BytesIO()
    torch.save(state, buf)
    atomic_write(path, buf.getvalue())


def write_config(directory: Path, config) -> None:
    atomic_write(directory / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))


def write_metrics(directory: str | Path, metrics: dict) -> None:
    atomic_write(Path(directory) / "metrics.json", json.dumps(metrics, indent=2, sort_keys=False) + "\n")


def write_history(directory: str | Path, history: list[dict]) -> None:
    """``history.csv`` with columns step, phase, loss, <terms...>, elapsed_s."""
    keys: list[str] = []
    for row in history:
        for k in row:
            if k not in keys:
                keys.append(k)
    front = [k for k in ("step", "phase", "loss") if k in keys]
    cols = front + [k for k in keys if k not in front and k != "elapsed_s"] + (["elapsed_s"] if "elapsed_s" in keys else [])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=cols or ["step", "phase", "loss", "elapsed_s"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(history)
    atomic_write(Path(directory) / "history.csv", buf.getvalue())
