"""Keeps the policy in force current: polls the policy file and its lists, reloads on change.

A reload that is refused (an invalid file) leaves the running policy in force and is recorded
for the parent.  An unexpected error (a bug, a file system that misbehaves) must not stop the
watching for good, as it once did silently: it is logged, recorded as an event, and the watcher
carries on after a pause that doubles with each failure in a row (up to MAX_BACKOFF_S), so a
persistent fault is reported about once a minute, not in a loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable

from abhaya.agent.policy_state import PolicyState
from abhaya.agent.store import Event, EventKind, EventWriter

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 60.0


class PolicyWatcher:
    def __init__(
        self,
        policy: PolicyState,
        events: EventWriter,
        clock: Callable[[], dt.datetime],
        interval: float,
    ) -> None:
        self._policy = policy
        self._events = events
        self._clock = clock
        self._interval = interval
        self.failures = 0
        """Failures in a row (0 once a check succeeds again)."""

    async def run(self) -> None:
        """Watch until cancelled; never returns on an error (see the module docstring)."""
        while True:
            await asyncio.sleep(self._pause())
            try:
                if self._policy.changed_on_disk():
                    await self.reload()
            except Exception as error:  # noqa: BLE001 - reported, then watching goes on
                self.failures += 1
                log.exception("the policy watcher failed (%d in a row)", self.failures)
                self._record(
                    "watcher_error",
                    f"checking the policy for changes failed ({type(error).__name__}: {error}); "
                    "the policy in force stays and the watcher keeps trying",
                )
            else:
                self.failures = 0

    async def reload(self) -> bool:
        """Reload in a worker thread (big lists take a while); True when the new policy applies.

        Raises only what the reload itself did not expect; `run` and the SIGHUP handler turn
        that into a recorded failure.
        """
        result = await asyncio.to_thread(self._policy.reload)
        if result.applied:
            log.info("%s", result.message)
            self._record("policy_reloaded", result.message)
        else:
            log.error("%s", result.message)
            self._record("policy_refused", result.message)
        return result.applied

    async def reload_now(self) -> None:
        """SIGHUP: one reload whose unexpected failure is recorded, never left unretrieved."""
        try:
            await self.reload()
        except Exception as error:  # noqa: BLE001 - reported; the policy in force stays
            log.exception("reloading the policy failed")
            self._record("watcher_error", f"reloading the policy failed: {error}")

    def _pause(self) -> float:
        if not self.failures:
            return self._interval
        return min(MAX_BACKOFF_S, self._interval * 2.0 ** min(self.failures, 16))

    def _record(self, action: str, detail: str) -> None:
        self._events.submit(
            Event(time=self._clock(), kind=EventKind.PROTECTION, action=action, detail=detail)
        )
