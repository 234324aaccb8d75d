"""The agent's long-lived objects are frozen out of the garbage collector's full passes, and
garbage is still collected: new garbage always, replaced frozen garbage at the next settle."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from abhaya.agent.heap import settle
from tests.agent.heldmemory import glibc_only, returned_mib


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


@glibc_only
def test_freed_heap_memory_goes_back_to_the_system() -> None:
    assert returned_mib(settle) > 50
