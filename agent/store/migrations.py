"""Numbered schema migrations, recorded in the database header (`PRAGMA user_version`).

Each migration is a numbered tuple of SQL statements applied in one transaction together with
the new `user_version`, so a crash (or SIGKILL) mid-upgrade leaves the previous version intact
and the next start simply applies it again.  Migrations are only ever appended: a released
number never changes meaning, because databases on children's machines were built from it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from abhaya.agent.store import driver
from abhaya.agent.store.errors import StoreError


class MigrationError(StoreError):
    """The schema cannot be brought to the version this code needs."""


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "events, alerts and settings",
        (
            # AUTOINCREMENT: ids are never reused after retention deletes the newest rows, so an
            # id reported as committed always names the same event.
            """CREATE TABLE events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time_us INTEGER NOT NULL,
                profile TEXT NOT NULL DEFAULT '',
                kind TEXT NOT NULL,
                category TEXT NOT NULL DEFAULT '',
                action TEXT NOT NULL DEFAULT '',
                domain TEXT NOT NULL DEFAULT '',
                url TEXT NOT NULL DEFAULT '',
                rule TEXT NOT NULL DEFAULT '',
                app TEXT NOT NULL DEFAULT '',
                detail TEXT NOT NULL DEFAULT ''
            )""",
            """CREATE TABLE alerts (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time_us INTEGER NOT NULL,
                kind TEXT NOT NULL,
                severity TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
                message TEXT NOT NULL,
                acknowledged INTEGER NOT NULL DEFAULT 0 CHECK (acknowledged IN (0, 1))
            )""",
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID",
            "CREATE INDEX alerts_time ON alerts (time_us)",
        ),
    ),
    Migration(
        2,
        "access requests from children",
        (
            """CREATE TABLE access_requests (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                time_us INTEGER NOT NULL,
                profile TEXT NOT NULL,
                domain TEXT NOT NULL,
                url TEXT NOT NULL DEFAULT '',
                reason TEXT NOT NULL DEFAULT '',
                status TEXT NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'approved', 'denied')),
                decided_at_us INTEGER,
                expires_at_us INTEGER
            )""",
            "CREATE INDEX access_requests_status_time ON access_requests (status, time_us)",
        ),
    ),
    Migration(
        3,
        "indexes for the console's time-range and category queries",
        (
            # Newest-first paging walks this backwards; the rowid (id) rides along in the index,
            # so ORDER BY time_us DESC, id DESC needs no sort.
            "CREATE INDEX events_time ON events (time_us)",
            # Per-category-per-day counts read only this index (covering), never the table.
            "CREATE INDEX events_time_category ON events (time_us, category)",
            # Filtered pages: equality on category or kind, then newest first.
            "CREATE INDEX events_category_time ON events (category, time_us)",
            "CREATE INDEX events_kind_time ON events (kind, time_us)",
        ),
    ),
    Migration(
        4,
        "per-category counts in 15-minute buckets, kept by triggers",
        (
            # Counting a million index entries for a 90-day chart takes most of a second; these
            # buckets (about 100 rows per category per day) take milliseconds.  15 minutes
            # divides every UTC offset in use (+05:30, +05:45), so local days come out exact.
            # Triggers keep the counts in the same transaction as the events they count.
            """CREATE TABLE category_buckets (
                bucket INTEGER NOT NULL,
                category TEXT NOT NULL,
                count INTEGER NOT NULL,
                PRIMARY KEY (bucket, category)
            ) WITHOUT ROWID""",
            """CREATE TRIGGER events_count_insert AFTER INSERT ON events
            WHEN NEW.category != '' BEGIN
                INSERT INTO category_buckets (bucket, category, count)
                VALUES (NEW.time_us / 900000000, NEW.category, 1)
                ON CONFLICT (bucket, category) DO UPDATE SET count = count + 1;
            END""",
            """CREATE TRIGGER events_count_delete AFTER DELETE ON events
            WHEN OLD.category != '' BEGIN
                UPDATE category_buckets SET count = count - 1
                WHERE bucket = OLD.time_us / 900000000 AND category = OLD.category;
                DELETE FROM category_buckets
                WHERE bucket = OLD.time_us / 900000000 AND category = OLD.category
                    AND count <= 0;
            END""",
            """CREATE TRIGGER events_count_update AFTER UPDATE OF time_us, category ON events
            BEGIN
                UPDATE category_buckets SET count = count - 1
                WHERE OLD.category != '' AND bucket = OLD.time_us / 900000000
                    AND category = OLD.category;
                DELETE FROM category_buckets
                WHERE bucket = OLD.time_us / 900000000 AND category = OLD.category
                    AND count <= 0;
                INSERT INTO category_buckets (bucket, category, count)
                SELECT NEW.time_us / 900000000, NEW.category, 1 WHERE NEW.category != ''
                ON CONFLICT (bucket, category) DO UPDATE SET count = count + 1;
            END""",
            """INSERT INTO category_buckets (bucket, category, count)
            SELECT time_us / 900000000, category, count(*) FROM events
            WHERE category != '' GROUP BY 1, 2""",
        ),
    ),
    Migration(
        5,
        "why a verdict was made, which OS user and process made the request, approval scope",
        (
            # `category` says what a page is (adult, gambling, ...); `reason` says why the agent
            # acted (list, keyword, schedule, pause, error, ...).  The console filters on both.
            "ALTER TABLE events ADD COLUMN reason TEXT NOT NULL DEFAULT ''",
            # Which child: the OS account and the process behind the proxied connection.
            "ALTER TABLE events ADD COLUMN os_user TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE events ADD COLUMN process TEXT NOT NULL DEFAULT ''",
            "CREATE INDEX events_reason_time ON events (reason, time_us)",
            # An approval covers the exact host or the whole site (registrable domain).  Rows
            # made before this migration were host approvals, which the default keeps.
            "ALTER TABLE access_requests ADD COLUMN scope TEXT NOT NULL DEFAULT 'host' "
            "CHECK (scope IN ('host', 'site'))",
        ),
    ),
    Migration(
        6,
        "chat threads, and the evidence behind an alert",
        (
            # Which child an alert is about, and what a parent needs to judge it (for a chat
            # alert: the site, the thread, the labels and the messages that raised it, as
            # JSON).  Rows made before this migration had neither.
            "ALTER TABLE alerts ADD COLUMN profile TEXT NOT NULL DEFAULT ''",
            "ALTER TABLE alerts ADD COLUMN detail TEXT NOT NULL DEFAULT ''",
            # One row per chat thread: the conversation tracker's state and the last flagged
            # messages, so a restart loses no evidence.  Bounded per row by the tracker; rows
            # untouched for the retention period go (`chat_threads_updated`).
            """CREATE TABLE chat_threads (
                profile TEXT NOT NULL,
                site TEXT NOT NULL,
                thread TEXT NOT NULL,
                state TEXT NOT NULL,
                updated_us INTEGER NOT NULL,
                PRIMARY KEY (profile, site, thread)
            ) WITHOUT ROWID""",
            "CREATE INDEX chat_threads_updated ON chat_threads (updated_us)",
        ),
    ),
    Migration(
        7,
        "an index for the console's filter by child",
        (
            # Filtered pages by profile: equality on the profile, then newest first.  Without
            # it a page of a child with few events walks the whole time index.
            "CREATE INDEX events_profile_time ON events (profile, time_us)",
        ),
    ),
)

BUCKET_US = 900_000_000
"""Width of a `category_buckets` bucket: 15 minutes in microseconds."""

LATEST_VERSION = MIGRATIONS[-1].version


def schema_version(conn: sqlite3.Connection) -> int:
    """The number of the last migration applied (0 for a new database)."""
    row = conn.execute("PRAGMA user_version").fetchone()
    return int(row[0])


def migrate(
    conn: sqlite3.Connection,
    *,
    target: int = LATEST_VERSION,
    migrations: tuple[Migration, ...] = MIGRATIONS,
) -> int:
    """Apply every migration above the current version up to `target`; returns the new version.

    `conn` must be in autocommit mode (isolation_level=None): each migration opens its own
    BEGIN IMMEDIATE transaction, so concurrent openers serialise instead of both upgrading.
    A database newer than this code is refused rather than guessed at.
    """
    numbers = [migration.version for migration in migrations]
    if numbers != list(range(1, len(migrations) + 1)):
        raise MigrationError(f"migrations must be numbered 1..n without gaps, got {numbers}")
    current = schema_version(conn)
    if current > len(migrations):
        raise MigrationError(
            f"database schema version {current} is newer than this Abhaya ({len(migrations)})"
        )
    for migration in migrations[current:target]:
        try:
            with driver.transaction(conn):
                # Re-read inside the write lock: another opener may have applied it meanwhile.
                if schema_version(conn) >= migration.version:
                    continue
                for statement in migration.statements:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {migration.version:d}")
        except driver.Error as error:
            raise MigrationError(
                f"migration {migration.version} ({migration.description}) failed: {error}"
            ) from error
    return schema_version(conn)
