"""Runs API calls off the UI thread and brings their answers back to it by signals.

Each call is a QRunnable on a QThreadPool; its answer or its ClientError is emitted, with the
call's number, by the runner's one relay object, which lives on the UI thread, so the callbacks
run there (a queued connection) and may touch widgets.  The runner also keeps the agent's
health for the banner: a call still unanswered after SLOW_S makes it "slow" at once (the window
stays live meanwhile), a call that cannot reach the agent makes it "unreachable", and any answer
makes it "ok" again.  A 401 on a
signed-in call means the session ended: `signed_out` asks the app to sign in again.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from abhaya.client.api import ClientError

SLOW_S = 2.5
"""How long a call may take before the banner says the agent is not answering."""
WATCH_INTERVAL_MS = 250
MAX_THREADS = 4
"""Enough for a dashboard refresh, a page of events and a click at once; more would only
queue more work on a slow agent."""

T = TypeVar("T")


class Health(StrEnum):
    OK = "ok"
    SLOW = "slow"
    UNREACHABLE = "unreachable"


class _Relay(QObject):
    """Lives on the UI thread; its signals, emitted from a worker, are delivered there."""

    done = Signal(int, object)
    failed = Signal(int, object)


class _Call(QRunnable):
    def __init__(self, number: int, call: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self._number = number
        self._call = call
        self._relay = relay

    def run(self) -> None:
        try:
            result = self._call()
        except ClientError as error:
            self._relay.failed.emit(self._number, error)
        else:
            self._relay.done.emit(self._number, result)


@dataclass(frozen=True, slots=True)
class _Waiting:
    started: float
    on_done: Callable[[Any], None]
    on_error: Callable[[ClientError], None] | None
    session: bool


class Runner(QObject):
    health_changed = Signal(str)
    signed_out = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # The pool is made before the relay: children are destroyed in order, so a dying
        # runner first waits for its workers and only then loses the relay they emit on.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(MAX_THREADS)
        self._relay = _Relay(self)
        self._relay.done.connect(self._done)
        self._relay.failed.connect(self._failed)
        self._waiting: dict[int, _Waiting] = {}
        self._numbers = itertools.count()
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
        number = next(self._numbers)
        self._waiting[number] = _Waiting(time.monotonic(), on_done, on_error, session)
        self._pool.start(_Call(number, call, self._relay))

    def _done(self, number: int, answer: object) -> None:
        waiting = self._waiting.pop(number)
        self._set_health(Health.OK)
        waiting.on_done(answer)

    def _failed(self, number: int, error: object) -> None:
        assert isinstance(error, ClientError)
        waiting = self._waiting.pop(number)
        self._set_health(Health.UNREACHABLE if error.status is None else Health.OK)
        if waiting.session and error.status == 401:
            self.signed_out.emit()
        if waiting.on_error is not None:
            waiting.on_error(error)

    @property
    def pending(self) -> int:
        return len(self._waiting)

    def wait_idle(self, timeout_ms: int) -> bool:
        """For shutdown and tests: wait for the pool's threads (never called on a live UI)."""
        return self._pool.waitForDone(timeout_ms)

    def _check_slow(self) -> None:
        now = time.monotonic()
        if any(now - waiting.started > SLOW_S for waiting in self._waiting.values()):
            self._set_health(Health.SLOW)

    def _set_health(self, health: Health) -> None:
        if health is not self.health:
            self.health = health
            self.health_changed.emit(str(health))
