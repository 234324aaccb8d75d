"""The agent's long-lived objects are frozen out of the garbage collector's full passes, and
garbage is still collected: new garbage always, replaced frozen garbage at the next settle."""

from __future__ import annotations

import gc
import os
import weakref
from collections.abc import Iterator

import pytest

from abhaya.agent.heap import settle


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _cycle() -> tuple[weakref.ref[Node], Node]:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first), first


@pytest.fixture(autouse=True)
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()  # leave the test process as it was


def test_what_survives_is_frozen_and_skipped_by_full_collections() -> None:
    kept = [{"n": i} for i in range(20_000)]
    settle()
    assert gc.get_freeze_count() >= len(kept)
    tracked = len(gc.get_objects())
    assert tracked < gc.get_freeze_count()  # a full pass now walks only what came after
    assert kept[-1]["n"] == 19_999


def test_new_garbage_is_still_collected() -> None:
    settle()
    ref, node = _cycle()
    del node
    gc.collect()
    assert ref() is None


def test_frozen_garbage_is_collected_at_the_next_settle() -> None:
    ref, node = _cycle()
    settle()
    del node
    gc.collect()
    assert ref() is not None  # frozen: full passes skip it ...
    settle()
    assert ref() is None  # ... until the next settle thaws and collects it


def _rss_mib() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="glibc's malloc_trim: Linux")
def test_freed_heap_memory_goes_back_to_the_system() -> None:
    # 100 KB blocks come from malloc's heap (below its mmap threshold); the last one stays
    # alive, so the freed ones sit below it and glibc keeps them until asked to trim.
    blocks = [b"x" * 100_000 for _ in range(1_000)]
    pinned = blocks.pop()
    before = _rss_mib()
    del blocks
    held = _rss_mib()
    settle()
    after = _rss_mib()
    assert held - after > 50, (before, held, after)
    assert pinned[-1:] == b"x"
