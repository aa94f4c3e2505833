"""Hand memory freed by Python back to the system.

glibc keeps freed heap memory for reuse, so a process that once held a large batch (an
index commit, a merge, a 10,000-article bulk request) stays that large for good.
`malloc_trim(0)` returns the free pages at the top and in the middle of the heap. It costs a
few milliseconds, so it runs after such work, not per request. Elsewhere than glibc it does
nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable
from typing import Any


def _trimmer() -> Callable[[int], Any] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    trim: Callable[[int], Any] | None = getattr(ctypes.CDLL(name), "malloc_trim", None)
    return trim


_TRIM = _trimmer()


def release(*, collect: bool = True) -> None:
    """Give the heap's free pages back to the system, after a garbage collection unless
    `collect` is False (a full collection takes tens of milliseconds in a large process)."""
    if collect:
        gc.collect()
    if _TRIM is not None:
        _TRIM(0)
