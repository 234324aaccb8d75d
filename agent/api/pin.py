"""The parent PIN: format, argon2id hash, verification and lock-out after repeated failures.

The PIN is 4 to 12 ASCII digits, short enough to type on the tray and long enough to choose
well; only its argon2id hash (argon2-cffi's defaults: 64 MiB, 3 passes) is stored, in the
store's sealed security settings (`store.security`: a file of its own, so a damaged event
database never resets the PIN; when those settings are damaged or missing the PIN can be
neither checked nor set until an administrator runs `abhaya reset-pin`).  A short PIN falls to
guessing if guessing is free, so after MAX_FAILURES wrong PINs in a row logins are refused for
FIRST_LOCK, doubling with every further failure up to MAX_LOCK.  The count and the lock-until
time are stored with the hash, so restarting the agent does not reset them, and each wrong PIN
is recorded as an event for the parent.  Verification is serialised by a lock: parallel guesses
cannot outrun the count, and only one 64 MiB hash runs at a time.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from abhaya.agent.store import Event, EventKind, EventWriter, Store
from abhaya.agent.store import settings as stored
from abhaya.agent.store.security import SecuritySettingsError
from abhaya.client.contract import PIN_RULE

_PIN_PATTERN = re.compile(r"[0-9]{4,12}")
MAX_FAILURES = 5
FIRST_LOCK = timedelta(seconds=30)
MAX_LOCK = timedelta(hours=1)
HASH_KEY = "pin.hash"
FAILURES_KEY = "pin.failures"
LOCKED_UNTIL_KEY = "pin.locked_until"


class PinError(Exception):
    """Base of the PIN errors; the message is fit to show to the parent."""


class PinFormatError(PinError):
    """The value given is not a PIN at all; `field` names the input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


class PinNotSetError(PinError):
    """No PIN has been set yet, so there is nothing to log in with."""


class PinRequiredError(PinError):
    """A PIN is set, and changing it needs the current one."""


class WrongPinError(PinError):
    """The PIN does not match; `locked_for` is set when this failure started a lock-out."""

    def __init__(self, failures: int, locked_for: timedelta | None) -> None:
        message = "wrong PIN"
        if locked_for is not None:
            message += (
                f"; after {failures} wrong PINs in a row, logins are refused for "
                f"{_seconds(locked_for)} s"
            )
        else:
            left = MAX_FAILURES - failures
            message += f"; {left} more wrong {'PIN' if left == 1 else 'PINs'} lock logins"
        super().__init__(message)
        self.failures = failures
        self.locked_for = locked_for


class PinLockedError(PinError):
    """Logins are refused until the lock-out ends; `retry_after` is in whole seconds."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many wrong PINs; logins are refused for another {retry_after} s")
        self.retry_after = retry_after


class PinStoreError(PinError):
    """The stored PIN cannot be read or written (damage); an administrator must reset it."""


def check_format(value: object, field: str) -> str:
    """`value` if it is a PIN string, else PinFormatError naming `field`."""
    if not isinstance(value, str):
        raise PinFormatError(field, f"expected a string; {PIN_RULE}")
    if _PIN_PATTERN.fullmatch(value) is None:
        raise PinFormatError(field, PIN_RULE)
    return value


def lock_duration(failures: int) -> timedelta | None:
    """How long logins are refused after `failures` wrong PINs in a row (None: not locked)."""
    if failures < MAX_FAILURES:
        return None
    doublings = min(failures - MAX_FAILURES, 20)  # 30 s * 2**7 already passes the cap
    return min(FIRST_LOCK * (1 << doublings), MAX_LOCK)


def _seconds(span: timedelta) -> int:
    return max(1, math.ceil(span.total_seconds()))


class ParentPin:
    """The PIN kept in the store's security settings.  Thread-safe.

    `store` gives the security settings, `events` records wrong PINs, `clock` is the agent's
    aware "now" (tests move it instead of sleeping).
    """

    def __init__(
        self,
        store: Store,
        events: EventWriter,
        clock: Callable[[], datetime],
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._security = store.security
        self._events = events
        self._clock = clock
        self._hasher = hasher or PasswordHasher()
        self._lock = threading.Lock()

    def is_set(self) -> bool:
        """True when a PIN is set - and when the settings are refused, so nobody gets in."""
        try:
            return HASH_KEY in self._security.read()
        except SecuritySettingsError:
            return True

    def verify(self, pin: object, field: str = "pin") -> None:
        """Return if `pin` is the parent PIN; otherwise raise the PinError that says why."""
        text = check_format(pin, field)
        with self._lock:
            self._verify(self._read(), text)

    def change(self, new: object, old: object | None) -> None:
        """Set the PIN to `new`; `old` must be the current PIN when one is set.

        Setting a PIN clears any lock-out.  A wrong `old` counts as a wrong PIN.
        """
        new_text = check_format(new, "new")
        with self._lock:
            values = self._read()
            if HASH_KEY in values:
                if old is None:
                    raise PinRequiredError("old: a PIN is set; give the current PIN to change it")
                self._verify(values, check_format(old, "old"))
            digest = self._hasher.hash(new_text)
            self._write({HASH_KEY: digest, FAILURES_KEY: None, LOCKED_UNTIL_KEY: None})

    def _read(self) -> dict[str, str]:
        try:
            return self._security.read()
        except SecuritySettingsError as error:
            raise PinStoreError(str(error)) from None

    def _write(self, values: dict[str, str | int | datetime | None]) -> None:
        try:
            self._security.update(values)
        except (SecuritySettingsError, OSError) as error:
            raise PinStoreError(f"the PIN settings cannot be written: {error}") from None

    def _verify(self, values: dict[str, str], pin: str) -> None:
        """The check itself; the caller holds `self._lock`."""
        digest = values.get(HASH_KEY)
        if digest is None:
            raise PinNotSetError("no parent PIN is set yet; set one first (abhaya set-pin)")
        now = self._clock()
        try:
            locked_until = stored.parse_time(LOCKED_UNTIL_KEY, values.get(LOCKED_UNTIL_KEY))
            failures = stored.parse_int(FAILURES_KEY, values.get(FAILURES_KEY), 0) + 1
        except stored.SettingError as damaged:
            raise PinStoreError(str(damaged)) from None
        if locked_until is not None and now < locked_until:
            raise PinLockedError(_seconds(locked_until - now))
        if self._matches(digest, pin):
            updates: dict[str, str | int | datetime | None] = {
                FAILURES_KEY: None,
                LOCKED_UNTIL_KEY: None,
            }
            if self._hasher.check_needs_rehash(digest):
                updates[HASH_KEY] = self._hasher.hash(pin)
            if updates.keys() & values.keys() or HASH_KEY in updates:
                self._write(updates)
            return
        locked_for = lock_duration(failures)
        self._write(
            {
                FAILURES_KEY: failures,
                LOCKED_UNTIL_KEY: None if locked_for is None else now + locked_for,
            }
        )
        error = WrongPinError(failures, locked_for)
        self._events.submit(
            Event(time=now, kind=EventKind.PIN_FAILED, detail=f"{error} ({failures} in a row)")
        )
        raise error

    def _matches(self, digest: str, pin: str) -> bool:
        try:
            return self._hasher.verify(digest, pin)
        except VerifyMismatchError:
            return False
        except (InvalidHashError, VerificationError) as error:
            raise PinStoreError(
                f"the stored PIN hash is damaged and cannot be checked ({type(error).__name__})"
            ) from error
