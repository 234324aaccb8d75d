"""Runs API calls off the UI thread and brings their answers back to it by signals.

Each call is a QRunnable on a QThreadPool; its answer or its ClientError is emitted by a relay
object that lives on the UI thread, so the callbacks run there (a queued connection) and may
touch widgets.  The runner also keeps the agent's health for the banner: a call still
unanswered after SLOW_S makes it "slow" at once (the window stays live meanwhile), a call that
cannot reach the agent makes it "unreachable", and any answer makes it "ok" again.  A 401 on a
signed-in call means the session ended: `signed_out` asks the app to sign in again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from abhaya.client.api import ClientError

SLOW_S = 2.5
"""How long a call may take before the banner says the agent is not answering."""
WATCH_INTERVAL_MS = 250

T = TypeVar("T")


class Health(StrEnum):
    OK = "ok"
    SLOW = "slow"
    UNREACHABLE = "unreachable"


class _Relay(QObject):
    """Created on the UI thread; its signals, emitted from a worker, are delivered there."""

    done = Signal(object)
    failed = Signal(object)


class _Call(QRunnable):
    def __init__(self, call: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._call = call
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._call()
        except ClientError as error:
            self._relay.failed.emit(error)
        else:
            self._relay.done.emit(result)


class Runner(QObject):
    health_changed = Signal(str)
    signed_out = Signal()

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = pool if pool is not None else QThreadPool(self)
        self._pool.setMaxThreadCount(max(self._pool.maxThreadCount(), 4))
        self._started: dict[_Relay, float] = {}
        self.health = Health.OK
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_INTERVAL_MS)
        self._watch.timeout.connect(self._check_slow)
        self._watch.start()

    def submit(
        self,
        call: Callable[[], T],
        on_done: Callable[[T], None],
        on_error: Callable[[ClientError], None] | None = None,
        *,
        session: bool = True,
    ) -> None:
        """Run `call` on the pool; `on_done(answer)` or `on_error(error)` runs on the UI thread.

        `session=False` for the sign-in calls, whose 401 is a wrong PIN, not an ended session.
        """
        relay = _Relay(self)
        self._started[relay] = time.monotonic()

        def done(answer: object) -> None:
            self._finish(relay)
            self._set_health(Health.OK)
            on_done(answer)  # type: ignore[arg-type]

        def failed(error: object) -> None:
            assert isinstance(error, ClientError)
            self._finish(relay)
            if error.status is None:
                self._set_health(Health.UNREACHABLE)
            else:
                self._set_health(Health.OK)
            if session and error.status == 401:
                self.signed_out.emit()
            if on_error is not None:
                on_error(error)

        relay.done.connect(done)
        relay.failed.connect(failed)
        self._pool.start(_Call(call, relay))

    @property
    def pending(self) -> int:
        return len(self._started)

    def wait_idle(self, timeout_ms: int) -> bool:
        """For shutdown and tests: wait for the pool's threads (never called on a live UI)."""
        return self._pool.waitForDone(timeout_ms)

    def _finish(self, relay: _Relay) -> None:
        self._started.pop(relay, None)
        relay.deleteLater()

    def _check_slow(self) -> None:
        now = time.monotonic()
        if any(now - started > SLOW_S for started in self._started.values()):
            self._set_health(Health.SLOW)

    def _set_health(self, health: Health) -> None:
        if health is not self.health:
            self.health = health
            self.health_changed.emit(str(health))
