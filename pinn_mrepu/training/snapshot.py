"""Copy a nested state (dicts, lists, tuples of tensors and plain values) into the buffers of an earlier copy.

The trainer keeps a rollback snapshot of the last finite state and refreshes it every ``log_every`` steps.  With
the dense quasi-Newton phases that state holds the n x n inverse Hessian (0.58 GB at depth 10, width 30): a fresh
copy each time page-faulted a new 0.58 GB block in from the kernel (the block is above glibc's largest mmap
threshold, so freeing it returns it), twice per snapshot while ``state_dict`` also deep-copied its own copy.
:func:`copy_state` writes into the previous snapshot's tensors instead, so a refresh allocates nothing once the
shapes are settled; the values are the same bit for bit.
"""

from __future__ import annotations

import copy
from typing import Any

import torch

__all__ = ["copy_state"]


def _fits(into: Any, src: torch.Tensor) -> bool:
    return (isinstance(into, torch.Tensor) and into is not src and into.shape == src.shape
            and into.dtype == src.dtype and into.device == src.device and into.layout == torch.strided
            and src.layout == torch.strided)


def copy_state(src: Any, into: Any = None) -> Any:
    """An independent copy of ``src``; a tensor of ``into`` at the same place (key or index) with the same shape,
    dtype and device receives the copy in place and is returned, any other tensor is cloned (detached).

    ``into`` must be owned by the caller (an earlier result of this function): its tensors are overwritten.
    Values other than tensors, dicts, lists and tuples are deep-copied.
    """
    if isinstance(src, torch.Tensor):
        if _fits(into, src):
            with torch.no_grad():
                return into.copy_(src)
        return src.detach().clone()
    if isinstance(src, dict):
        return {k: copy_state(v, into.get(k) if isinstance(into, dict) else None) for k, v in src.items()}
    if isinstance(src, (list, tuple)):
        old = into if isinstance(into, (list, tuple)) and len(into) == len(src) else [None] * len(src)
        items = [copy_state(v, o) for v, o in zip(src, old)]
        return items if isinstance(src, list) else tuple(items)
    return copy.deepcopy(src)
