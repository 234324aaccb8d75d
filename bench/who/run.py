"""Benchmark: what attributing one client connection costs, against baselines in the same run.

Opens real loopback connections to a listening socket in this process (plus --background idle
connections, so the socket table is not empty) and times, per connection, median of --repeats:

- baseline ``getpeername``: one ``socket.getpeername()`` call, what mitmproxy already does;
- baseline empty hook: ``await asyncio.to_thread(lambda: None)``, the thread hand-off alone;
- the Linux lookup (``ProcNetTable.peer``), called directly: through netlink sock_diag (the
  default) and, with sock_diag turned off, by reading /proc/net/tcp (the fallback);
- the hook's whole cost: ``ConnectionOwners.attach`` (thread hand-off + lookup + bookkeeping);
- psutil's connection table (``PsutilTable.peer``), the fallback for other systems;
- the process search (``ProcNetTable.process``): first for a process not seen before (a scan
  of /proc/*/fd), then for one the table has seen (its recent holders are searched first).

Run from the repository root:  .venv/bin/python bench/who/run.py
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import socket
import statistics
import sys
import time
from collections.abc import Callable

from abhaya.agent.who.base import Address
from abhaya.agent.who.linux import ProcNetTable
from abhaya.agent.who.owners import ConnectionOwners
from abhaya.agent.who.portable import PsutilTable


def _median_us(samples: list[float]) -> float:
    return statistics.median(samples) * 1e6


def _time(call: Callable[[], object], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


async def _time_async(make: Callable[[], object], repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        await make()  # type: ignore[misc]
        samples.append(time.perf_counter() - start)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=300)
    parser.add_argument("--background", type=int, default=200)
    args = parser.parse_args()

    server = socket.create_server(("127.0.0.1", 0), backlog=4096)
    proxy: Address = server.getsockname()
    idle = []
    for _ in range(args.background):
        idle.append(socket.create_connection(proxy))
        idle.append(server.accept()[0])
    client = socket.create_connection(proxy)
    accepted, _ = server.accept()
    ends: tuple[Address, Address] = (client.getsockname(), proxy)

    linux = ProcNetTable()
    proc_only = ProcNetTable(netlink=False)
    owners = ConnectionOwners(linux)
    portable = PsutilTable()
    peer = linux.peer(*ends)
    assert peer is not None and peer.uid == os.getuid(), "the lookup did not find the socket"

    rows: list[tuple[str, list[float]]] = []
    rows.append(("baseline: socket.getpeername()", _time(accepted.getpeername, args.repeats)))

    async def hooks() -> tuple[list[float], list[float]]:
        empty = await _time_async(lambda: asyncio.to_thread(lambda: None), args.repeats)
        attach = await _time_async(lambda: owners.attach("c", *ends), args.repeats)
        return empty, attach

    empty, attach = asyncio.run(hooks())
    rows.append(("baseline: empty hook (asyncio.to_thread)", empty))
    rows.append(
        (
            "sock_diag lookup (ProcNetTable.peer), direct",
            _time(lambda: linux.peer(*ends), args.repeats),
        )
    )
    rows.append(
        (
            "/proc/net/tcp lookup (netlink=False), direct",
            _time(lambda: proc_only.peer(*ends), args.repeats),
        )
    )
    rows.append(("client_connected: ConnectionOwners.attach", attach))
    rows.append(
        (
            "psutil lookup (PsutilTable.peer), direct",
            _time(lambda: portable.peer(*ends), max(20, args.repeats // 10)),
        )
    )
    cold = []
    for _ in range(max(20, args.repeats // 10)):
        fresh = ProcNetTable()
        cold.extend(_time(lambda fresh=fresh: fresh.process(peer), 1))
    rows.append(("process search, first time (scan /proc/*/fd)", cold))
    linux.process(peer)
    rows.append(
        ("process search, holder seen before", _time(lambda: linux.process(peer), args.repeats))
    )

    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"Linux {platform.release()}, Python {sys.version.split()[0]}"
    )
    processes = len([name for name in os.listdir("/proc") if name.isdigit()])
    print(
        f"# {args.background} idle loopback connections open ({2 * args.background + 3} "
        f"sockets of this process), {processes} processes"
    )
    print("| measure (per connection) | median µs | p90 µs |")
    print("|---|---:|---:|")
    for name, samples in rows:
        p90 = statistics.quantiles(samples, n=10)[-1] * 1e6
        print(f"| {name} | {_median_us(samples):.1f} | {p90:.1f} |")
    for sock in (client, accepted, server, *idle):
        sock.close()


if __name__ == "__main__":
    main()
