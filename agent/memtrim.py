"""Giving the memory of a large decoded image back to the operating system.

glibc raises its mmap threshold (up to 32 MiB) each time a large mmapped block is freed; after
the first big image, Pillow's pixel buffers (blocks of up to 16 MiB) come from the worker
threads' heap arenas instead, and stay in the agent's RSS once the image is gone: four
24.5-megapixel images left it ~70 MiB larger for good, and 1,000 hostile images 66 MiB
(bench/imagehostile).  `give_back` asks glibc to return free memory (`malloc_trim(0)`, every
arena); it costs about a millisecond, so the image screen calls it only after a large decode.
Elsewhere (musl, macOS, Windows) it does nothing.

The same holds for everything else the agent frees: mitmproxy's megabyte messages and bodies,
the models' activations, a replaced policy.  So the agent also trims at known quiet moments
(after loading, `heap.settle`; a second after a burst of images or chat messages) and, for the
rest, every `PERIODIC_S` seconds (`give_back_every`): 0.1-3 ms each time, off the event loop.
"""

from __future__ import annotations

import asyncio
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
PERIODIC_S = 30.0


def give_back() -> None:
    """Return the process's free heap memory to the system, where libc can."""
    if _TRIM is not None:
        _TRIM(0)


async def give_back_every(seconds: float = PERIODIC_S) -> None:
    """Give freed memory back every `seconds`, on a worker thread, until cancelled."""
    while True:
        await asyncio.sleep(seconds)
        await asyncio.to_thread(give_back)
