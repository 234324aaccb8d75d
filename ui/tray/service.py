"""The tray's narrow link to the agent: read one poll, pause, resume.  Nothing else.

Every call of the API needs a session, and sessions live in the agent's memory (a restart
logs every client out) and end after 8 hours at most.  So that the tray recovers by itself
when the agent restarts, it keeps the PIN the parent signed in with in this process's memory
(the parent's own desktop process; never written anywhere) and logs in again when the session
is gone.  A refused re-login (the PIN was changed, or logins are locked) forgets the PIN at
once, so the tray never adds a second wrong guess to the lock-out count; the icon then asks
the parent to sign in again.  Pausing and resuming always take a PIN typed at that moment,
in a session of their own, so the person at the keyboard proves they are the parent.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from pathlib import Path

from abhaya.client import contract
from abhaya.client.api import ApiClient, ClientError
from abhaya.ui.tray.controller import Poll, Reading, SignedOut, Unreachable

ClientFactory = Callable[[Path], ApiClient]
"""Finds the agent for a data folder (its port can change with every restart)."""

UNAUTHORISED = 401


class TrayService:
    def __init__(self, data_dir: Path, client_for: ClientFactory = ApiClient.for_data_dir) -> None:
        self._data_dir = data_dir
        self._client_for = client_for
        self._lock = threading.Lock()
        self._pin: str | None = None
        self._token: str | None = None

    @property
    def signed_in(self) -> bool:
        return self._pin is not None

    def sign_in(self, pin: str) -> None:
        """Log in for reading; ClientError (wrong PIN, locked, not running) says why not."""
        with self._lock:
            client = self._client_for(self._data_dir)
            client.login(pin)
            self._pin, self._token = pin, client.token

    def read(self) -> Poll:
        """What the agent says now; never raises for the agent's absence or refusal."""
        with self._lock:
            try:
                client = self._client_for(self._data_dir)
            except ClientError as error:
                return Unreachable(str(error))
            try:
                return self._read(client)
            except ClientError as error:
                if error.status is None or error.status >= 500:
                    return Unreachable(str(error))
                return SignedOut(pin_set=True, reason=str(error))

    def _read(self, client: ApiClient) -> Poll:
        if self._pin is None:
            return SignedOut(pin_set=client.pin_state()["set"])
        client.token = self._token
        try:
            status = client.status()
        except ClientError as error:
            if error.status != UNAUTHORISED:
                raise
            # The session is gone (agent restarted, or 8 hours passed): log in once more.
            try:
                client.login(self._pin)
            except ClientError as refused:
                if refused.status is None or refused.status >= 500:
                    raise
                self._pin = self._token = None
                return SignedOut(pin_set=True, reason=str(refused))
            self._token = client.token
            status = client.status()
        pending = client.requests("pending")["requests"]
        alerts = client.alerts(unacknowledged_only=True)["alerts"]
        return Reading(status, tuple(pending), tuple(alerts))

    def pause(self, pin: str, minutes: int) -> contract.PauseState:
        return self._with_fresh_session(pin, lambda client: client.pause(minutes))

    def resume(self, pin: str) -> contract.PauseState:
        return self._with_fresh_session(pin, lambda client: client.resume())

    def _with_fresh_session(
        self, pin: str, act: Callable[[ApiClient], contract.PauseState]
    ) -> contract.PauseState:
        client = self._client_for(self._data_dir)
        client.login(pin)
        try:
            answer = act(client)
        finally:
            with contextlib.suppress(ClientError):
                client.logout()
        with self._lock:
            if self._pin is None:
                # The PIN just worked: keep reading with it rather than asking again.
                self._pin = pin
        return answer
