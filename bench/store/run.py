"""Benchmark the encrypted event store: writer throughput and console queries at 1M events.

Run by hand (never in CI):  /work/venv/bin/python bench/store/run.py [--events 1000000]

Measures, each as the median of several repeats, next to a baseline from the same run:
- events per second through `EventWriter` into SQLCipher (baseline: the same schema, pragmas
  and batch size written with the standard library's unencrypted sqlite3, no thread);
- on a database of N generated events: time to the first page of events (new connection each
  time, so the page cache starts cold), a filtered first page, the per-category-per-day stats,
  top domains, counts today; baseline: the same queries on the same rows in plain sqlite3;
- the time `open_store` takes on that database (quick_check + cipher_integrity_check).
Prints a markdown table.  See README.md.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import keyring
import keyring.backends.fail

from abhaya.agent.store import Event, EventKind, EventWriter, open_store
from abhaya.agent.store.events import INSERT_EVENT, event_row
from abhaya.agent.store.migrations import MIGRATIONS
from abhaya.agent.store.queries import (
    EventFilter,
    category_counts_by_day,
    counts_today,
    events_page,
    top_domains,
)

SEED = 20261130
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
CATEGORIES = ["adult", "gambling", "violence", "self_harm", "games", "social", "anonymizers"]
ACTIONS = ["block", "warn", "rewrite"]


def generated_events(count: int, span: timedelta, rng: random.Random) -> list[Event]:
    """Events spread evenly over `span` before NOW, oldest first, with plausible variety."""
    step = span / count
    domains = [f"site{n}.example" for n in range(5000)]
    apps = ["firefox", "chrome", "steam", "discord", ""]
    events = []
    for n in range(count):
        domain = rng.choice(domains)
        kind = EventKind.VERDICT if rng.random() < 0.98 else EventKind.PIN_FAILED
        events.append(
            Event(
                time=NOW - span + step * n,
                kind=kind,
                profile="child",
                category=rng.choice(CATEGORIES) if kind is EventKind.VERDICT else "",
                action=rng.choice(ACTIONS) if kind is EventKind.VERDICT else "",
                domain=domain,
                url=f"https://{domain}/page/{n % 1000}",
                rule=domain,
                app=rng.choice(apps),
                detail="domain is on a block list",
            )
        )
    return events


def plain_connection(path: Path) -> sqlite3.Connection:
    """Baseline: stdlib sqlite3, same schema and pragmas, no encryption."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = FULL", "secure_delete = ON"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("PRAGMA cache_size = -32768")
    if conn.execute("PRAGMA user_version").fetchone()[0] == 0:
        for migration in MIGRATIONS:
            for statement in migration.statements:
                conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {MIGRATIONS[-1].version}")
    return conn


def bulk_insert(conn: sqlite3.Connection, events: list[Event], batch: int = 500) -> None:
    for start in range(0, len(events), batch):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(INSERT_EVENT, [event_row(e) for e in events[start : start + batch]])
        conn.execute("COMMIT")


def writer_rate(folder: Path, events: list[Event]) -> float:
    store = open_store(folder)
    writer = EventWriter(store.connect, queue_size=len(events) + 1, retention=None)
    writer.start()
    started = time.perf_counter()
    for event in events:
        writer.submit(event)
    if not writer.flush(timeout=600):
        raise RuntimeError("writer did not flush")
    elapsed = time.perf_counter() - started
    writer.close()
    return len(events) / elapsed


def plain_rate(path: Path, events: list[Event]) -> float:
    conn = plain_connection(path)
    started = time.perf_counter()
    bulk_insert(conn, events)
    elapsed = time.perf_counter() - started
    conn.close()
    return len(events) / elapsed


def median_seconds(action: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def fresh(
    connect: Callable[[], sqlite3.Connection], query: Callable[[sqlite3.Connection], object]
) -> Callable[[], None]:
    """A query on a new connection (what one control-API call costs without pooling)."""

    def run() -> None:
        conn = connect()
        try:
            query(conn)
        finally:
            conn.close()

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--write-events", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    keyring.set_keyring(keyring.backends.fail.Keyring())  # key file: keep benchmarks out of it
    rng = random.Random(SEED)
    rows: list[tuple[str, str, str, str]] = []

    with tempfile.TemporaryDirectory(prefix="abhaya-bench-store-") as tmp:
        root = Path(tmp)
        write_events = generated_events(args.write_events, timedelta(days=1), rng)
        writer_rates = [writer_rate(root / f"w{n}", write_events) for n in range(3)]
        plain_rates = [plain_rate(root / f"p{n}.db", write_events) for n in range(3)]
        w, p = statistics.median(writer_rates), statistics.median(plain_rates)
        rows.append(("events/s written", f"{w:,.0f}", f"{p:,.0f}", f"{w / p:.2f}"))

        print(f"building {args.events:,} events ...", file=sys.stderr)
        big = generated_events(args.events, timedelta(days=90), rng)
        store = open_store(root / "big")
        conn = store.connect()
        bulk_insert(conn, big, batch=5000)
        conn.close()
        plain_path = root / "big-plain.db"
        conn = plain_connection(plain_path)
        bulk_insert(conn, big, batch=5000)
        conn.close()
        del big
        size_mb = (store.path.stat().st_size) / 1e6

        checks: list[tuple[str, Callable[[sqlite3.Connection], object]]] = [
            ("first page (50)", lambda c: events_page(c)),
            (
                "first page, category filter",
                lambda c: events_page(c, EventFilter(categories=("gambling",))),
            ),
            (
                "first page, kind filter (2% of rows)",
                lambda c: events_page(c, EventFilter(kinds=(EventKind.PIN_FAILED,))),
            ),
            (
                "page 200 by cursor",
                lambda c: _nth_page(c, 200),
            ),
            (
                "category x day stats, 30 days",
                lambda c: category_counts_by_day(c, NOW - timedelta(days=30), NOW),
            ),
            (
                "category x day stats, all 90 days",
                lambda c: category_counts_by_day(c, NOW - timedelta(days=91), NOW),
            ),
            ("top domains, 7 days", lambda c: top_domains(c, NOW - timedelta(days=7), NOW)),
            ("counts today", lambda c: counts_today(c, NOW)),
        ]
        for name, query in checks:
            enc = median_seconds(fresh(store.connect, query), args.repeats)
            base = median_seconds(fresh(lambda: plain_connection(plain_path), query), args.repeats)
            rows.append(
                (f"{name} ms", f"{enc * 1e3:.1f}", f"{base * 1e3:.1f}", f"{enc / base:.2f}")
            )
        opened = median_seconds(lambda: open_store(root / "big"), 3)
        rows.append(("open_store with integrity checks s", f"{opened:.2f}", "-", "-"))

    print(f"\nSQLCipher {_cipher_version()}, {args.events:,} events ({size_mb:.0f} MB encrypted)")
    print("\n| measure | SQLCipher store | plain sqlite3 baseline | ratio |")
    print("|---|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def _nth_page(conn: sqlite3.Connection, n: int) -> None:
    page = events_page(conn)
    for _ in range(n - 1):
        page = events_page(conn, after=page.next_cursor)


def _cipher_version() -> str:
    from abhaya.agent.store.driver import cipher_version

    return cipher_version()


if __name__ == "__main__":
    main()
