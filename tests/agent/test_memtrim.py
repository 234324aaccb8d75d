"""The agent gives freed memory back to the system: on real memory that glibc holds."""

from __future__ import annotations

import asyncio
import contextlib

from abhaya.agent.memtrim import give_back, give_back_every
from tests.agent.heldmemory import glibc_only, returned_mib


@glibc_only
def test_give_back_returns_what_glibc_held() -> None:
    assert returned_mib(give_back) > 50


@glibc_only
def test_the_periodic_trim_returns_it_without_being_asked() -> None:
    async def run_for_a_while() -> None:
        trimmer = asyncio.create_task(give_back_every(0.05))
        await asyncio.sleep(0.5)
        trimmer.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await trimmer

    assert returned_mib(lambda: asyncio.run(run_for_a_while())) > 50
