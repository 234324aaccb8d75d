"""Pausing protection for a bounded time, kept with the security settings so a restart stays
bounded.

While paused, the policy addon lets through what it would block or warn about, except the
zero-tolerance csam category, which never pauses.  The pause ends by itself when the clock
passes its end; nothing needs to run at that moment.  The end time is written to the store's
sealed security settings (apart from the event database, see `store.security`) before it takes
effect, so a restart during a pause resumes the same bounded pause and never an open-ended one.
Settings that are damaged or refused read as "not paused": protection stays on.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime

from abhaya.agent.store import Store
from abhaya.agent.store import settings as stored
from abhaya.agent.store.security import SecuritySettingsError

log = logging.getLogger(__name__)

PAUSED_UNTIL_KEY = "protection.paused_until"
MAX_MINUTES = 240


class PauseSwitch:
    def __init__(self, store: Store) -> None:
        self._security = store.security
        self._lock = threading.Lock()
        self._until: datetime | None = None
        try:
            text = self._security.read().get(PAUSED_UNTIL_KEY)
            self._until = stored.parse_time(PAUSED_UNTIL_KEY, text)
        except (SecuritySettingsError, stored.SettingError) as error:
            log.error("the pause end cannot be read, protection stays on: %s", error)

    def paused_until(self, now: datetime) -> datetime | None:
        """When the pause ends, or None when protection is on now."""
        until = self._until
        return until if until is not None and now < until else None

    def pause(self, until: datetime) -> None:
        self._write(until)

    def resume(self) -> None:
        self._write(None)

    def _write(self, until: datetime | None) -> None:
        """Store first, then take effect; raises SecuritySettingsError or OSError if it cannot
        be stored (a pause that a restart would not remember is not started)."""
        with self._lock:
            self._security.update({PAUSED_UNTIL_KEY: until})
            self._until = until
