"""Freed memory that glibc keeps, made on purpose, for the tests of giving it back."""

from __future__ import annotations

import sys

import pytest

glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")


def rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def free_but_held() -> bytes:
    """Free ~100 MB that glibc keeps: 100 KB blocks come from malloc's heap (below its mmap
    threshold), and the last one, returned to keep it alive, sits above the freed ones, so the
    heap cannot shrink until someone asks glibc to trim."""
    blocks = [b"x" * 100_000 for _ in range(1_000)]
    return blocks.pop()
