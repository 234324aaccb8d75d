"""Freed memory that glibc keeps, made on purpose, for the tests of giving it back."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")


def returned_mib(trim: Callable[[], object]) -> float:
    """MiB of RSS that `trim` gave back out of ~100 MB freed but held by glibc just before it.

    The freed memory is 100 KB blocks from malloc's heap (below its mmap threshold); the last
    block stays alive through the call, above the freed ones, so the heap cannot shrink until
    someone asks glibc to trim."""
    blocks = [b"x" * 100_000 for _ in range(1_000)]
    pinned = blocks.pop()
    del blocks
    held = _rss_mib()
    trim()
    returned = held - _rss_mib()
    assert pinned[-1:] == b"x"
    return returned


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")
