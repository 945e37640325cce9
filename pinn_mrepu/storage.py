"""Files of a run folder, written atomically: config.yaml, metrics.json, history.csv, model.pt and checkpoints.

A run folder holds

- ``config.yaml``: the fully resolved configuration;
- ``model.pt``: model weights plus the complete trainer state (optimiser, points, counters, history), so a
  folder is both a saved model and a resumable checkpoint;
- ``metrics.json``: accuracy, status and provenance (device, dtype, seed, torch version, ...);
- ``history.csv``: step, phase, total loss, each loss term, elapsed seconds;
- figures (see :mod:`pinn_mrepu.runs.plots`).

Every file is written to a temporary name in the same folder and moved into place with ``os.replace``, so an
interrupted write never leaves a truncated file; a failed write raises ``OSError`` naming the target file.  A
run folder is marked by :data:`RUN_MARKER`, written when a run starts (and with ``metrics.json``): only a marked
folder that holds nothing but run files is ever replaced (:func:`replaceable`).  ``model.pt`` holds only tensors
and plain containers and is read with ``torch.load(weights_only=True)`` (:func:`load_state`): no code runs from
it.  The lowest layer: it imports nothing of the package.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import os
import pickle
import platform
import re
import tempfile
import warnings
import zipfile
from pathlib import Path

import torch
import yaml

__all__ = [
    "RUN_MARKER",
    "atomic_write",
    "check_layout",
    "cpu_model",
    "fingerprint",
    "foreign_entries",
    "is_run_folder",
    "load_state",
    "mark_run_folder",
    "save_state",
    "write_config",
    "write_history",
    "write_metrics",
]

#: The file that marks a folder as a run folder written by this package.
RUN_MARKER = ".pinn_mrepu_run"
MODEL_FORMAT = "pinn_mrepu.model/1"
_RUN_FILE = re.compile(r"(config\.yaml|metrics\.json|history\.csv|model\.pt|error\.txt|loss\.png|residual\.png|solution(_\w+)?\.png|"
                       + re.escape(RUN_MARKER) + ")")


def cpu_model() -> str:
    """The CPU's model name (from /proc/cpuinfo where available), for provenance in metrics and benchmarks."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux: /proc/self/status)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: read it by setting and restoring it
    os.umask(mask)
    return mask


def atomic_write(path: str | Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically (temporary file + ``os.replace``), with the permissions a plain
    ``open(path, "w")`` would give (0666 minus the umask; ``mkstemp`` alone would make it 0600).

    Raises:
        OSError: the write failed (no space, read-only, not a folder ...); ``filename`` is ``path``.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, str(path)) from None
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o666 & ~_umask())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise type(exc)(exc.errno, exc.strerror, str(path)) from None
        raise


def mark_run_folder(directory: str | Path) -> None:
    """Write :data:`RUN_MARKER` into ``directory`` (a run of this package lives here)."""
    atomic_write(Path(directory) / RUN_MARKER, json.dumps({"format": "pinn_mrepu run folder", "version": 1}) + "\n")


def is_run_folder(directory: str | Path) -> bool:
    """Whether ``directory`` holds a valid :data:`RUN_MARKER`."""
    try:
        data = json.loads((Path(directory) / RUN_MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == "pinn_mrepu run folder"


def foreign_entries(directory: str | Path) -> list[str]:
    """Entries of ``directory`` that are not run files (or their temporary files), sorted."""
    out = []
    for entry in Path(directory).iterdir():
        name = entry.name
        tmp = re.fullmatch(r"\.(.+)\.[^.]+", name)
        ok = _RUN_FILE.fullmatch(name) or (tmp is not None and _RUN_FILE.fullmatch(tmp.group(1)))
        if not ok or entry.is_symlink() or not entry.is_file():
            out.append(name)
    return sorted(out)


def fingerprint(sections: dict) -> str:
    """SHA-256 of the canonical YAML of ``sections`` (e.g. the resolved ``problem`` and ``network``)."""
    text = yaml.safe_dump(yaml.safe_load(yaml.safe_dump(sections)), sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def save_state(path: str | Path, state: dict, *, fingerprint: str | None = None) -> None:
    """``torch.save`` a state mapping atomically, tagged with the format and the problem ``fingerprint``."""
    buf = io.BytesIO()
    torch.save({**state, "format": MODEL_FORMAT, "fingerprint": fingerprint}, buf)
    atomic_write(path, buf.getvalue())


def load_state(path: str | Path, *, map_location=None) -> dict:
    """Read a :func:`save_state` file with ``torch.load(weights_only=True)``: tensors and plain containers only.

    Raises:
        ValueError: not a model file (empty, truncated, random bytes, a pickle of other objects), one line.
        OSError: unreadable.
    """
    try:
        with warnings.catch_warnings():  # e.g. "Detected pickle protocol 4": the refusal below says enough
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location=map_location, weights_only=True)
    except (pickle.UnpicklingError, EOFError, zipfile.BadZipFile, RuntimeError, ValueError, TypeError,
            AttributeError, KeyError, IndexError, ImportError, UnicodeDecodeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, pickle.UnpicklingError):
            first = "it holds objects other than tensors and plain containers; refused without running them"
        raise ValueError(first[:200]) from None
    if not isinstance(state, dict) or state.get("format") != MODEL_FORMAT:
        raise ValueError(f"it is not a {MODEL_FORMAT} file")
    return state


def check_layout(value, reference, where: str = "state") -> str | None:
    """Why ``value`` does not have the layout of ``reference`` (None if it does).

    Mappings need the same keys, lists and tuples the same length, tensors the same dtype, number of dimensions
    and trailing sizes (the leading size, a number of points, may differ) and finite values; a None in
    ``reference`` also accepts a tensor (points added later), a number any finite int or float.
    """
    if isinstance(reference, torch.Tensor) or (reference is None and isinstance(value, torch.Tensor)):
        if not isinstance(value, torch.Tensor):
            return f"{where} must be a tensor"
        if reference is not None and (value.dtype != reference.dtype or value.dim() != reference.dim()
                                      or value.shape[1:] != reference.shape[1:]):
            return f"{where} has shape {tuple(value.shape)} {value.dtype}, expected (*, {tuple(reference.shape[1:])}) {reference.dtype}"
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            return f"{where} holds non-finite values"
        return None
    if isinstance(reference, dict):
        if not isinstance(value, dict) or set(value) != set(reference):
            return f"{where} must be a mapping with the keys {sorted(map(str, reference))}"
        for k in reference:
            if (why := check_layout(value[k], reference[k], f"{where}.{k}")) is not None:
                return why
        return None
    if isinstance(reference, (list, tuple)):
        if not isinstance(value, (list, tuple)) or len(value) != len(reference):
            return f"{where} must be a sequence of {len(reference)} items"
        for i, (v, r) in enumerate(zip(value, reference)):
            if (why := check_layout(v, r, f"{where}.{i}")) is not None:
                return why
        return None
    if isinstance(reference, bool) or reference is None:
        return None if type(value) is type(reference) else f"{where} must be {reference!r}-like"
    if isinstance(reference, (int, float)):
        kinds = int if isinstance(reference, int) else (int, float)
        ok = isinstance(value, kinds) and not isinstance(value, bool) and math.isfinite(value)
        return None if ok else f"{where} must be a finite {'integer' if kinds is int else 'number'}"
    if isinstance(reference, str):
        return None if isinstance(value, str) else f"{where} must be a string"
    return None


def write_config(directory: Path, config) -> None:
    atomic_write(directory / "config.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))


def _json_safe(value):
    """Non-finite floats become None (JSON has no NaN/Infinity); containers are copied."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


def write_metrics(directory: str | Path, metrics: dict) -> None:
    """``metrics.json`` (strict JSON: a NaN or infinite value is written as ``null``); marks the run folder."""
    text = json.dumps(_json_safe(metrics), indent=2, sort_keys=False, allow_nan=False, default=str)
    atomic_write(Path(directory) / "metrics.json", text + "\n")
    if not (Path(directory) / RUN_MARKER).exists():
        mark_run_folder(directory)


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
