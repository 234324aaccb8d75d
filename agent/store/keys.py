"""The 256-bit key of the event database, and where it is kept.

The key is random (`secrets`), made once, and kept in the OS keyring (Secret Service, Keychain,
Windows Credential Locker) through `keyring`.  Where no usable keyring exists - a headless
service, a lab machine without a desktop session - the key goes to a file in the data dir that
only the agent's user can read.  That is weaker (anyone who can read the data dir as that user
reads the logs), so the mode travels with the key and `abhaya status` reports it.

A key that exists is always reused, wherever it is: silently making a second key would orphan
the database.  So the key file is looked at first (its presence proves the file mode was
chosen), then the keyring; a key is only created when the caller says no database exists yet.
The key itself is never logged or put in an exception message.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import secrets
import stat
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.backends.null
from keyring.backend import KeyringBackend
from keyring.errors import KeyringError

from abhaya.agent.store.errors import StoreError
from abhaya.agent.store.sealed import fsync_dir

log = logging.getLogger(__name__)

KEY_BYTES = 32
KEYRING_SERVICE = "abhaya"
KEY_FILE_NAME = "store.key"


class KeyMode(StrEnum):
    """Where the database key lives."""

    KEYRING = "keyring"
    FILE = "file"

    @property
    def note(self) -> str:
        """What a parent is told about this mode (banner, `abhaya status`, the console)."""
        if self is KeyMode.KEYRING:
            return "encrypted, key in the OS keyring"
        return (
            "encrypted, key in a file in the data dir readable only by the agent's user: "
            "WEAKER MODE, as no OS keyring was usable; anyone who can read that folder as "
            "the agent's user can read the history"
        )


class StoreKeyError(StoreError):
    """Base for problems with the database key."""


class KeyMissingError(StoreKeyError):
    """No key exists anywhere and the caller did not allow making one."""


class KeyUnavailableError(StoreKeyError):
    """The key may exist in the OS keyring, but the keyring cannot be asked right now."""


class KeyFileError(StoreKeyError):
    """The key file exists but cannot be used (wrong size, unreadable)."""


def _keyring_failures() -> tuple[type[Exception], ...]:
    """Errors that mean "this keyring cannot be used now", per installed backend library.

    The Secret Service backend lets D-Bus and secretstorage errors through unwrapped (for
    example a locked collection with no prompt available), so those are named explicitly.
    """
    failures: list[type[Exception]] = [KeyringError, OSError, RuntimeError]
    try:
        from secretstorage.exceptions import SecretStorageException
    except ImportError:
        pass
    else:
        failures.append(SecretStorageException)
    try:
        from jeepney import DBusErrorResponse  # type: ignore[import-untyped]
    except ImportError:
        pass
    else:
        failures.append(DBusErrorResponse)
    return tuple(failures)


KEYRING_FAILURES = _keyring_failures()


@dataclass(frozen=True, slots=True)
class DatabaseKey:
    """The raw key and where it is kept.  repr() never shows the key."""

    raw: bytes = field(repr=False)
    mode: KeyMode

    def __post_init__(self) -> None:
        if len(self.raw) != KEY_BYTES:
            raise KeyFileError(f"a database key has {KEY_BYTES} bytes, not {len(self.raw)}")

    def pragma_value(self) -> str:
        """SQLCipher's raw-key form `x'<64 hex>'`: no passphrase derivation, so opening is fast
        and the full 256 bits of randomness are the key."""
        return f"x'{self.raw.hex()}'"


def keyring_username(data_dir: Path) -> str:
    """The keyring entry name for this data dir, so two installs (or test runs) never share a
    key.  A digest keeps the entry short and keeps the path out of the keyring's listing."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:24]
    return f"database-key:{digest}"


def keyring_is_usable(backend: KeyringBackend) -> bool:
    """False for keyring's stand-ins that store nothing (fail, null)."""
    return not isinstance(backend, keyring.backends.fail.Keyring | keyring.backends.null.Keyring)


def load_or_create_key(data_dir: Path, *, may_create: bool) -> DatabaseKey:
    """The database key for `data_dir`: the key file if present, else the OS keyring entry;
    if neither exists and `may_create`, a new key in the keyring, or in a 0600 file when the
    keyring cannot be used.

    Raises KeyMissingError (nothing anywhere, not allowed to create), KeyUnavailableError (the
    keyring cannot be asked and there is no key file: the key may be in it, so no new key is
    made) or KeyFileError.
    """
    key_file = data_dir / KEY_FILE_NAME
    if key_file.exists():
        return DatabaseKey(_read_key_file(key_file), KeyMode.FILE)

    backend = keyring.get_keyring()
    username = keyring_username(data_dir)
    keyring_error: str | None = None
    if keyring_is_usable(backend):
        try:
            stored = backend.get_password(KEYRING_SERVICE, username)
        except KEYRING_FAILURES as error:
            keyring_error = f"{type(error).__name__}: {error}"
        else:
            if stored is not None:
                return DatabaseKey(_parse_hex(stored, "keyring entry"), KeyMode.KEYRING)
    else:
        keyring_error = f"no usable keyring backend ({type(backend).__module__})"

    if not may_create:
        if keyring_error is not None:
            raise KeyUnavailableError(
                f"the database key is not in {key_file} and the OS keyring cannot be asked "
                f"({keyring_error}); the existing database is kept unopened"
            )
        raise KeyMissingError(f"no database key in {key_file} or the OS keyring")

    raw = secrets.token_bytes(KEY_BYTES)
    if keyring_error is None and _store_in_keyring(backend, username, raw):
        return DatabaseKey(raw, KeyMode.KEYRING)
    log.warning(
        "OS keyring not usable (%s); the database key is kept in %s (readable by this user only)",
        keyring_error or "store failed",
        key_file,
    )
    _write_key_file(key_file, raw)
    return DatabaseKey(raw, KeyMode.FILE)


def _store_in_keyring(backend: KeyringBackend, username: str, raw: bytes) -> bool:
    """Store and read back; True only if the keyring really holds the key now."""
    try:
        backend.set_password(KEYRING_SERVICE, username, raw.hex())
        return backend.get_password(KEYRING_SERVICE, username) == raw.hex()
    except KEYRING_FAILURES as error:
        log.warning("could not store the database key in the OS keyring: %s", type(error).__name__)
        return False


def _write_key_file(key_file: Path, raw: bytes) -> None:
    """Create the key file 0600 with O_EXCL (never overwrite a key), fsync file and folder."""
    key_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(key_file, flags, 0o600)
    except FileExistsError:
        raise KeyFileError(
            f"{key_file} appeared while creating a key; not overwriting it"
        ) from None
    try:
        os.fchmod(fd, 0o600)  # the umask cannot widen it, but be explicit about the result
        os.write(fd, raw.hex().encode("ascii") + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    fsync_dir(key_file.parent)


def _read_key_file(key_file: Path) -> bytes:
    """Read the key file, tightening its mode if someone widened it (and saying so)."""
    try:
        fd = os.open(key_file, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise KeyFileError(f"{key_file} is a symbolic link; refusing to use it") from None
        raise KeyFileError(f"cannot read {key_file}: {error.strerror}") from None
    try:
        mode = stat.S_IMODE(os.fstat(fd).st_mode)
        if mode & 0o077:
            log.warning("%s had mode %o; setting 0600", key_file, mode)
            os.fchmod(fd, 0o600)
        text = os.read(fd, 4 * KEY_BYTES).decode("ascii", errors="replace")
    finally:
        os.close(fd)
    return _parse_hex(text, str(key_file))


def _parse_hex(text: str, where: str) -> bytes:
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raise KeyFileError(f"{where} does not hold a hex key") from None
    if len(raw) != KEY_BYTES:
        raise KeyFileError(f"{where} holds {len(raw)} bytes, not {KEY_BYTES}")
    return raw
