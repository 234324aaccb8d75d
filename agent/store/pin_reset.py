"""`abhaya reset-pin`: the administrator's way back when the security settings are refused.

When `security.json` is damaged, or missing while a PIN was set, no PIN can be checked or set
through the control API (see `security`).  Whoever can run this - the agent's own OS user (root
for a system service), with the data dir and the database key at hand - is trusted to reset it:
the child's account has neither.  It clears the PIN and its lock-out (keeping the pause end
only when the old file can still be trusted; otherwise protection is simply on), clears the "PIN
set" marker, and records in the event history and as an alert that it happened, so a parent
sees it.  Set a new PIN right after (`abhaya set-pin`): until then anyone can set one.

The CLI calls `reset_pin(data_dir)` and prints the message it returns; it raises StoreError
when the database key cannot be found (nothing is changed then).  Best run with the agent
stopped; a running agent reads the settings afresh on each PIN check and sees the reset too.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from abhaya.agent.clock import utc_now
from abhaya.agent.store import driver
from abhaya.agent.store.alerts import Alert, AlertSeverity, insert_alert
from abhaya.agent.store.db import DB_FILE_NAME, open_connection
from abhaya.agent.store.events import Event, EventKind, insert_events
from abhaya.agent.store.keys import load_or_create_key
from abhaya.agent.store.security import PIN_HASH_KEY, SecuritySettings, SecuritySettingsError

log = logging.getLogger(__name__)

KEPT_ON_RESET = ("protection.paused_until",)


def reset_pin(data_dir: Path, *, now: Callable[[], datetime] = utc_now) -> str:
    """Clear the parent PIN of the agent whose data is in `data_dir`; returns what was done."""
    key = load_or_create_key(data_dir, may_create=False)
    security = SecuritySettings(data_dir, key)
    try:
        old = security.read()
    except SecuritySettingsError as error:
        log.warning("resetting security settings that were refused: %s", error)
        old = {}
    had_pin = PIN_HASH_KEY in old or security.problem() is not None
    security.replace_all({name: old[name] for name in KEPT_ON_RESET if name in old})
    message = (
        "The parent PIN was reset by an administrator (abhaya reset-pin); set a new one now"
        if had_pin
        else "No parent PIN was set; the security settings were rewritten (abhaya reset-pin)"
    )
    moment = now()
    path = data_dir / DB_FILE_NAME
    if not path.exists():
        return f"{message}. (There is no event history yet to record it in.)"
    try:
        with (
            contextlib.closing(open_connection(path, key)) as conn,
            driver.transaction(conn),
        ):
            insert_events(conn, [Event(time=moment, kind=EventKind.PROTECTION, detail=message)])
            insert_alert(conn, Alert(moment, "pin_reset", AlertSeverity.WARNING, message))
    except driver.Error as error:
        log.error("the PIN reset could not be recorded in the event history: %s", error)
        return f"{message}. (It could not be recorded in the event history: {error}.)"
    return f"{message}."
