"""Pausing protection for a bounded time, kept in the store so a restart stays bounded.

While paused, the policy addon lets through what it would block or warn about, except the
zero-tolerance csam category, which never pauses.  The pause ends by itself when the clock
passes its end; nothing needs to run at that moment.  The end time is written to the settings
table before it takes effect, so a restart during a pause resumes the same bounded pause and
never an open-ended one.
"""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime

from abhaya.agent.store import Store
from abhaya.agent.store import settings as stored

PAUSED_UNTIL_KEY = "protection.paused_until"
MAX_MINUTES = 240


class PauseSwitch:
    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        with contextlib.closing(store.connect(read_only=True)) as conn:
            self._until: datetime | None = stored.get_time(conn, PAUSED_UNTIL_KEY)

    def paused_until(self, now: datetime) -> datetime | None:
        """When the pause ends, or None when protection is on now."""
        until = self._until
        return until if until is not None and now < until else None

    def pause(self, until: datetime) -> None:
        self._write(until)

    def resume(self) -> None:
        self._write(None)

    def _write(self, until: datetime | None) -> None:
        with self._lock, contextlib.closing(self._store.connect()) as conn:
            with stored.transaction(conn):
                stored.put(conn, {PAUSED_UNTIL_KEY: until})
            self._until = until
