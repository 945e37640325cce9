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
