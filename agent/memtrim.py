"""Giving the memory of a large decoded image back to the operating system.

glibc raises its mmap threshold (up to 32 MiB) each time a large mmapped block is freed; after
the first big image, Pillow's pixel buffers (blocks of up to 16 MiB) come from the worker
threads' heap arenas instead, and stay in the agent's RSS once the image is gone: four
24.5-megapixel images left it ~70 MiB larger for good, and 1,000 hostile images 66 MiB
(bench/imagehostile).  `give_back` asks glibc to return free memory (`malloc_trim(0)`, every
arena); it costs about a millisecond, so the image screen calls it only after a large decode.
Elsewhere (musl, macOS, Windows) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


_TRIM = _malloc_trim()


def give_back() -> None:
    """Return the process's free heap memory to the system, where libc can."""
    if _TRIM is not None:
        _TRIM(0)
