"""Keep freed tensor memory in the process (glibc): an opt-in fix for page-fault-bound CPU training.

PyTorch's CPU tensors come from ``malloc``.  With glibc's defaults a block above the mmap threshold (128 KiB to
start with; it adapts) is mapped fresh from the kernel and returned on ``free``, and the heap top is trimmed
back to the kernel once more than the trim threshold is free.  A PINN step allocates and frees dozens of
0.2-1 MiB tensors, so a process can page-fault its working set back in every step, the kernel zeroing each
page.  Measured on this project's 2-core VM (``python benchmarks/page_faults.py --rounds 3``: Burgers, 3 x 20
tanh, 3 020 points, float32, 1 thread, fresh processes): 633 minor page faults, 2.1 ms of system time and
12.0 ms per Adam step by default, against 1 fault, 0 ms and 8.1 ms with :func:`tune_malloc` (0.67x).  Whether
a process falls into this depends on what it allocated before; the tuning applies to any PyTorch code in it.

This changes process-wide allocator settings, so the library never calls it on import: the ``solve`` /
``pinn-mrepu`` command line calls it at start-up (it owns its process), and API users may call it themselves.
The environment variables ``MALLOC_MMAP_THRESHOLD_`` and ``MALLOC_TRIM_THRESHOLD_`` do the same before a
process starts.  Cost: freed memory stays mapped in the process (its peak resident size is not given back).
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["tune_malloc", "MMAP_THRESHOLD", "TRIM_THRESHOLD"]

_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc mallopt parameter numbers (malloc.h)
MMAP_THRESHOLD = 32 * 1024 * 1024  # the largest value glibc accepts on 64-bit systems
TRIM_THRESHOLD = 2**31 - 1  # mallopt takes a C int: the largest trim threshold it can express


def tune_malloc(mmap_threshold: int = MMAP_THRESHOLD, trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Serve blocks up to ``mmap_threshold`` bytes from the heap and never trim it below ``trim_threshold``.

    Returns:
        ``True`` when glibc accepted both settings; ``False`` where there is no glibc ``mallopt`` (macOS,
        Windows, musl) or it refused a value; nothing is changed then.
    """
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    if not (0 < mmap_threshold <= 2**31 - 1 and 0 < trim_threshold <= 2**31 - 1):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, int(mmap_threshold))) and bool(mallopt(_M_TRIM_THRESHOLD, int(trim_threshold)))
