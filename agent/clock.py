"""The agent's one source of "now": aware UTC.

Every part that needs the time takes a clock (a callable) so tests can move it; this is the
default they are given.  Times are kept in UTC and shown in the policy's time zone.
"""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
