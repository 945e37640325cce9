"""Shared fixtures for the test suite."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def problems_dir() -> Path:
    """The repository's ``problems/`` folder (absolute, so tests do not depend on the working directory)."""
    return ROOT / "problems"


@pytest.fixture
def restore_signals():
    """Put back the SIGINT/SIGTERM handlers after a test that runs the CLI in-process (it installs its own)."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Tests use tiny networks: one intra-op thread is as fast and immune to oversubscription on shared CPUs."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
