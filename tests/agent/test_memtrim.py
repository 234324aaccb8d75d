"""The agent gives freed memory back to the system: on real memory that glibc holds."""

from __future__ import annotations

import asyncio
import contextlib

from abhaya.agent.memtrim import give_back, give_back_every
from tests.agent.heldmemory import free_but_held, glibc_only, rss_mib


@glibc_only
def test_give_back_returns_what_glibc_held() -> None:
    pinned = free_but_held()
    held = rss_mib()
    give_back()
    assert held - rss_mib() > 50
    assert pinned[-1:] == b"x"


@glibc_only
def test_the_periodic_trim_returns_it_without_being_asked() -> None:
    async def run_for_a_while() -> float:
        pinned = free_but_held()
        held = rss_mib()
        trimmer = asyncio.create_task(give_back_every(0.05))
        await asyncio.sleep(0.5)
        trimmer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await trimmer
        assert pinned[-1:] == b"x"
        return held - rss_mib()

    assert asyncio.run(run_for_a_while()) > 50
