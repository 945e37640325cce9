"""Import DeepXDE for the tests on its PyTorch backend, without letting it change torch's default device."""

from __future__ import annotations

import os

import pytest
import torch


def load_deepxde():
    """DeepXDE with the PyTorch backend, or skip the calling test module when it is missing or on another one."""
    os.environ.setdefault("DDE_BACKEND", "pytorch")  # before deepxde is first imported
    device = torch.get_default_device()
    dde = pytest.importorskip("deepxde")
    if torch.get_default_device() != device:  # deepxde makes CUDA the process-wide default when a GPU is present
        torch.set_default_device(None if device.type == "cpu" else device)  # None: no device mode at all
    if dde.backend.backend_name != "pytorch":
        pytest.skip("deepxde is loaded with a backend other than pytorch (DDE_BACKEND)", allow_module_level=True)
    return dde
