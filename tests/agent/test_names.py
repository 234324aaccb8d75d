"""The proxy's name lookups: one resolver call per name and minute, shared by concurrent
askers, in threads of their own, failures never kept."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any

import pytest

from abhaya.agent.names import NAME_FAILED, NameCache


class Resolver:
    """A resolver that answers from a table, counts calls, and can be made slow or broken."""

    def __init__(self, table: dict[str, list[str]], delay: float = 0.0) -> None:
        self.table = table
        self.delay = delay
        self.calls: list[str] = []
        self.threads: set[str] = set()
        self.broken = False

    def __call__(self, host: str, port: object, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.calls.append(host)
        self.threads.add(threading.current_thread().name)
        time.sleep(self.delay)
        if self.broken or host not in self.table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, 0))
            for address in self.table[host]
        ]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_answer_is_kept_until_it_expires() -> None:
    resolver, clock = Resolver({"site.example": ["192.0.2.7", "192.0.2.8"]}), Clock()
    names = NameCache(resolver, ttl=60, clock=clock)

    async def run() -> None:
        first = await names.resolve("site.example")
        assert first.addresses == ("192.0.2.7", "192.0.2.8") and not first.error
        clock.now += 59
        assert (await names.resolve("Site.Example.")).addresses == first.addresses
        assert resolver.calls == ["site.example"]
        clock.now += 2
        assert names.cached("site.example") is None
        await names.resolve("site.example")
        assert resolver.calls == ["site.example", "site.example"]

    asyncio.run(run())
    assert names.lookups == 2
    names.close()


def test_concurrent_askers_share_one_lookup() -> None:
    resolver = Resolver({"many.example": ["192.0.2.9"]}, delay=0.2)
    names = NameCache(resolver)

    async def run() -> list[tuple[str, ...]]:
        answers = await asyncio.gather(*(names.resolve("many.example") for _ in range(20)))
        return [a.addresses for a in answers]

    assert asyncio.run(run()) == [("192.0.2.9",)] * 20
    assert resolver.calls == ["many.example"]
    names.close()


def test_one_asker_giving_up_does_not_cancel_the_others() -> None:
    resolver = Resolver({"slow.example": ["192.0.2.10"]}, delay=0.3)
    names = NameCache(resolver)

    async def run() -> tuple[str, ...]:
        first = asyncio.ensure_future(names.resolve("slow.example"))
        second = asyncio.ensure_future(names.resolve("slow.example"))
        await asyncio.sleep(0.05)
        first.cancel()
        return (await second).addresses

    assert asyncio.run(run()) == ("192.0.2.10",)
    names.close()


def test_failures_are_answered_in_words_and_not_kept() -> None:
    resolver = Resolver({"flaky.example": ["192.0.2.11"]})
    resolver.broken = True
    names = NameCache(resolver)

    async def run() -> None:
        failed = await names.resolve("flaky.example")
        assert failed.error.startswith(NAME_FAILED) and "flaky.example" in failed.error
        assert failed.addresses == ()
        resolver.broken = False
        assert (await names.resolve("flaky.example")).addresses == ("192.0.2.11",)

    asyncio.run(run())
    assert len(resolver.calls) == 2
    names.close()


@pytest.mark.parametrize(
    ("spelling", "address"),
    [
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("::1", "::1"),
    ],
)
def test_numeric_spellings_are_read_without_a_lookup(spelling: str, address: str) -> None:
    resolver = Resolver({})
    names = NameCache(resolver)
    assert asyncio.run(names.resolve(spelling)).addresses == (address,)
    assert resolver.calls == []
    names.close()


def test_the_cache_is_bounded_oldest_out_first() -> None:
    resolver = Resolver({f"h{i}.example": [f"192.0.2.{i}"] for i in range(10)})
    names = NameCache(resolver, size=4)

    async def run() -> None:
        for i in range(10):
            await names.resolve(f"h{i}.example")

    asyncio.run(run())
    kept = [i for i in range(10) if names.cached(f"h{i}.example") is not None]
    assert kept == [6, 7, 8, 9]
    names.close()


def test_lookups_run_in_their_own_threads_so_a_slow_resolver_holds_up_nothing_else() -> None:
    """Forty names waiting out a slow resolver leave the loop's default pool (attribution and
    every other hand-off) free."""
    resolver = Resolver({f"p{i}.example": ["192.0.2.1"] for i in range(40)}, delay=1.0)
    names = NameCache(resolver, workers=8)

    async def run() -> float:
        lookups = [asyncio.ensure_future(names.resolve(f"p{i}.example")) for i in range(40)]
        await asyncio.sleep(0.05)
        started = time.monotonic()
        await asyncio.to_thread(lambda: None)  # the default pool, as attribution uses it
        waited = time.monotonic() - started
        for lookup in lookups:
            lookup.cancel()
        return waited

    assert asyncio.run(run()) < 2.0  # in the shared pool: about 7 s (40 x 1 s over 6 threads)
    assert resolver.threads and all(t.startswith("abhaya-names") for t in resolver.threads)
    names.close()
