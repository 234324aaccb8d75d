"""Name lookups for the proxy's destination check: each name asked of the resolver once a
minute at most, in threads of its own.

The destination check resolves a tunnel's name when the CONNECT arrives (so a tunnel to this
machine is answered 403 before it opens) and again when the server connection is about to be
dialled (the check that cannot be bypassed).  Uncached, that was two lookups per tunnel on the
page's critical path, and they ran in the event loop's default thread pool, where a slow
resolver (forty lookups of a new page waiting out a 5 s retry) also held up connection
attribution and every other hand-off to a thread.  Here:

- an answer is kept for `ttl` seconds (getaddrinfo reports no TTL; a minute is short enough
  for a site that moves, and the pinned address stays the checked one across both checks);
- concurrent lookups of one name share one resolver call;
- lookups run in a small pool of their own, so a slow resolver delays only lookups;
- failures are not kept: the next request asks again.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

NAME_FAILED = "abhaya could not resolve"
"""Start of the error for a name that did not resolve (the destination check's `server.error`)."""
TTL = 60.0
SIZE = 4096
WORKERS = 8
"""Threads for lookups: enough for the dozens of new names of a page at once; each mostly waits."""

Lookup = Callable[..., list[tuple[Any, ...]]]
"""`socket.getaddrinfo`'s shape (tests pass a slow or failing one)."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """Where a name leads: the addresses in the resolver's order, or why it led nowhere."""

    addresses: tuple[str, ...] = ()
    error: str = ""


def numeric(host: str) -> tuple[str, ...] | None:
    """The address a numeric spelling (`127.1`, `0x7f000001`, `::1` ...) stands for, as the
    C library reads it, without a lookup; None for a name."""
    try:
        infos = socket.getaddrinfo(host, 0, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError):
        return None
    return tuple(dict.fromkeys(str(info[4][0]) for info in infos))


class NameCache:
    """Resolves names for the proxy: cached, shared between concurrent askers, off the loop."""

    def __init__(
        self,
        lookup: Lookup = socket.getaddrinfo,
        *,
        ttl: float = TTL,
        size: int = SIZE,
        workers: int = WORKERS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._size = size
        self._clock = clock
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="abhaya-names")
        self._known: OrderedDict[str, tuple[float, tuple[str, ...]]] = OrderedDict()
        """Name -> (when it expires, its addresses), oldest first."""
        self._asking: dict[str, asyncio.Future[Resolved]] = {}
        """Lookups under way, by name: later askers wait for the same one."""
        self.lookups = 0
        """Resolver calls made (for tests and benchmarks: how many answers were not cached)."""

    def cached(self, host: str) -> Resolved | None:
        """The answer for `host` if it is numeric or known and fresh; None when a lookup is due."""
        addresses = numeric(host)
        if addresses is not None:
            return Resolved(addresses)
        key = host.lower().rstrip(".")
        entry = self._known.get(key)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del self._known[key]
            return None
        return Resolved(entry[1])

    async def resolve(self, host: str) -> Resolved:
        """Every address `host` leads to; an error in words when it leads nowhere."""
        answer = self.cached(host)
        if answer is not None:
            return answer
        key = host.lower().rstrip(".")
        asking = self._asking.get(key)
        if asking is None:
            # A task of its own: one asker giving up (its connection closed) must not cancel
            # the lookup the others wait for.
            asking = asyncio.ensure_future(self._ask(host, key))
            self._asking[key] = asking
            asking.add_done_callback(lambda _: self._asking.pop(key, None))
        return await asyncio.shield(asking)

    async def _ask(self, host: str, key: str) -> Resolved:
        self.lookups += 1
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.run_in_executor(
                self._pool, lambda: self._lookup(host, None, type=socket.SOCK_STREAM)
            )
        except (OSError, UnicodeError) as error:
            return Resolved(error=f"{NAME_FAILED} {host!r}: {error}")
        addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
        if not addresses:
            return Resolved(error=f"{NAME_FAILED} {host!r}: no address")
        self._known[key] = (self._clock() + self._ttl, addresses)
        self._known.move_to_end(key)
        while len(self._known) > self._size:
            self._known.popitem(last=False)
        return Resolved(addresses)

    def close(self) -> None:
        """Let the lookup threads go (a lookup still running finishes in the background)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
