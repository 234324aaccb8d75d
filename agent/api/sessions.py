"""Session tokens handed out at login: in memory only, expiring when idle and at a hard limit.

A token is 32 random bytes (`secrets.token_urlsafe`).  Sessions live in the agent's memory, so
a restart logs every client out, which errs on the careful side.  A session ends after
IDLE_LIMIT without use or MAX_AGE after login, whichever comes first; logout (and a PIN change)
revokes at once.  Tokens are kept by their SHA-256, so the table never holds a usable token and
a lookup's timing says nothing about how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

IDLE_LIMIT = timedelta(minutes=15)
MAX_AGE = timedelta(hours=8)
MAX_SESSIONS = 64
"""Beyond this the oldest session is dropped: logins need the PIN, but memory stays bounded."""


class SessionError(Exception):
    """No valid session: missing, unknown, expired or revoked token."""


@dataclass(frozen=True, slots=True)
class Session:
    created: datetime
    last_used: datetime
    idle_limit: timedelta
    max_age: timedelta

    @property
    def expires(self) -> datetime:
        """When the session ends if it is not used again."""
        return min(self.last_used + self.idle_limit, self.created + self.max_age)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    session: Session


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", errors="surrogatepass")).hexdigest()


class SessionStore:
    """The live sessions; thread-safe.  `clock` is the agent's aware "now"."""

    def __init__(
        self,
        clock: Callable[[], datetime],
        *,
        idle_limit: timedelta = IDLE_LIMIT,
        max_age: timedelta = MAX_AGE,
    ) -> None:
        self._clock = clock
        self._idle_limit = idle_limit
        self._max_age = max_age
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self) -> IssuedToken:
        """A new session, starting now."""
        now = self._clock()
        token = secrets.token_urlsafe(32)
        session = Session(now, now, self._idle_limit, self._max_age)
        with self._lock:
            self._drop_expired(now)
            while len(self._sessions) >= MAX_SESSIONS:
                oldest = min(self._sessions, key=lambda key: self._sessions[key].created)
                del self._sessions[oldest]
            self._sessions[_digest(token)] = session
        return IssuedToken(token, session)

    def check(self, token: str) -> Session:
        """The session of `token`, its idle time restarted; SessionError when there is none."""
        now = self._clock()
        key = _digest(token)
        with self._lock:
            session = self._sessions.get(key)
            if session is None:
                raise SessionError("not logged in, or the session was ended")
            if now >= session.expires:
                del self._sessions[key]
                raise SessionError("the session has expired; log in again")
            session = replace(session, last_used=max(now, session.last_used))
            self._sessions[key] = session
            return session

    def revoke(self, token: str) -> bool:
        """End the session of `token`; False if there was none."""
        with self._lock:
            return self._sessions.pop(_digest(token), None) is not None

    def revoke_all(self) -> None:
        with self._lock:
            self._sessions.clear()

    def _drop_expired(self, now: datetime) -> None:
        expired = [key for key, session in self._sessions.items() if now >= session.expires]
        for key in expired:
            del self._sessions[key]
