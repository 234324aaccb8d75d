"""The database key: real Secret Service, and the 0600 key-file fallback.

The Secret Service tests need a D-Bus session with an unlocked gnome-keyring.  Run them so
(as root too; the keyring lives in a throwaway XDG_DATA_HOME):

    dbus-run-session -- bash -c 'export XDG_DATA_HOME="$(mktemp -d)";
        echo -n abhaya-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null;
        /work/venv/bin/python -m pytest -q -p no:cacheprovider tests/agent/store'

(packages: gnome-keyring, dbus-x11, libsecret-tools).  Without a Secret Service these tests
fail - they do not skip - with a message pointing here.
"""

from __future__ import annotations

import contextlib
import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backends.SecretService
import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from abhaya.agent.store import KeyMode, StoreError, open_store
from abhaya.agent.store.keys import (
    KEY_FILE_NAME,
    KEYRING_SERVICE,
    DatabaseKey,
    KeyFileError,
    KeyUnavailableError,
    keyring_username,
    load_or_create_key,
)


@pytest.fixture
def secret_service(data_dir: Path) -> Iterator[KeyringBackend]:
    """The keyring backend that `keyring` detects on its own, which must be Secret Service."""
    keyring.core.init_backend()
    backend = keyring.get_keyring()
    if not isinstance(backend, keyring.backends.SecretService.Keyring):
        pytest.fail(
            f"no Secret Service (keyring chose {backend!r}): run the store tests under "
            "dbus-run-session with an unlocked gnome-keyring, as the comment at the top of "
            "tests/agent/store/test_keys.py shows"
        )
    yield backend
    with contextlib.suppress(PasswordDeleteError):
        backend.delete_password(KEYRING_SERVICE, keyring_username(data_dir))


def test_the_key_is_kept_in_the_secret_service(
    secret_service: KeyringBackend, data_dir: Path
) -> None:
    first = load_or_create_key(data_dir, may_create=True)
    assert first.mode is KeyMode.KEYRING
    assert not (data_dir / KEY_FILE_NAME).exists()
    stored = secret_service.get_password(KEYRING_SERVICE, keyring_username(data_dir))
    assert stored == first.raw.hex()
    again = load_or_create_key(data_dir, may_create=False)
    assert again == first


def test_a_store_opened_with_the_keyring_reopens_with_it(
    secret_service: KeyringBackend, data_dir: Path
) -> None:
    store = open_store(data_dir)
    assert store.key_mode is KeyMode.KEYRING
    conn = store.connect()
    conn.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
    conn.close()
    reopened = open_store(data_dir)
    assert reopened.recovery is None
    conn = reopened.connect()
    assert conn.execute("SELECT value FROM settings WHERE key = 'k'").fetchall() == [("v",)]
    conn.close()


def test_a_key_removed_from_the_keyring_sets_the_database_aside(
    secret_service: KeyringBackend, data_dir: Path
) -> None:
    open_store(data_dir)
    secret_service.delete_password(KEYRING_SERVICE, keyring_username(data_dir))
    store = open_store(data_dir)
    assert store.recovery is not None
    assert "no longer in the OS keyring" in store.recovery.reason
    assert all(path.exists() for path in store.recovery.moved_to)
    assert store.key_mode is KeyMode.KEYRING


def test_two_data_dirs_get_two_keyring_entries(tmp_path: Path) -> None:
    assert keyring_username(tmp_path / "a") != keyring_username(tmp_path / "b")
    assert keyring_username(tmp_path / "a") == keyring_username(tmp_path / "x" / ".." / "a")


def test_without_a_keyring_the_key_goes_to_a_private_file(data_dir: Path) -> None:
    first = load_or_create_key(data_dir, may_create=True)
    assert first.mode is KeyMode.FILE
    key_file = data_dir / KEY_FILE_NAME
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert key_file.read_text().strip() == first.raw.hex()
    assert load_or_create_key(data_dir, may_create=True) == first
    assert load_or_create_key(data_dir, may_create=False) == first


def test_a_store_without_a_keyring_reports_file_mode_and_reopens(data_dir: Path) -> None:
    store = open_store(data_dir)
    assert store.key_mode is KeyMode.FILE
    conn = store.connect()
    conn.execute("INSERT INTO settings (key, value) VALUES ('k', 'v')")
    conn.close()
    reopened = open_store(data_dir)
    assert (reopened.key_mode, reopened.recovery) == (KeyMode.FILE, None)
    assert reopened.key == store.key


def test_a_widened_key_file_is_narrowed_back(data_dir: Path) -> None:
    first = load_or_create_key(data_dir, may_create=True)
    key_file = data_dir / KEY_FILE_NAME
    key_file.chmod(0o644)
    assert load_or_create_key(data_dir, may_create=False) == first
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("content", "message"),
    [("abcd\n", "holds 2 bytes"), ("not hex at all\n", "does not hold a hex key"), ("", "holds 0")],
)
def test_a_bad_key_file_is_refused(data_dir: Path, content: str, message: str) -> None:
    data_dir.mkdir()
    (data_dir / KEY_FILE_NAME).write_text(content)
    with pytest.raises(KeyFileError, match=message):
        load_or_create_key(data_dir, may_create=True)


def test_no_key_is_made_unless_allowed(data_dir: Path) -> None:
    with pytest.raises(KeyUnavailableError, match="keyring cannot be asked"):
        load_or_create_key(data_dir, may_create=False)
    assert not data_dir.exists()


def test_an_existing_database_is_not_given_a_second_key(data_dir: Path) -> None:
    """Its key may be in a keyring that is unreachable now: refuse, keep the database as is."""
    store = open_store(data_dir)
    conn = store.connect()
    conn.execute("INSERT INTO events (time_us, kind) VALUES (1, 'verdict')")
    conn.close()
    before = store.path.read_bytes()
    (data_dir / KEY_FILE_NAME).unlink()
    with pytest.raises(StoreError, match="OS keyring cannot be asked"):
        open_store(data_dir)
    assert not (data_dir / KEY_FILE_NAME).exists()
    assert store.path.read_bytes() == before
    assert sorted(p.name for p in data_dir.iterdir()) == ["events.db", "events.mark"]


def test_the_key_never_shows_in_repr() -> None:
    key = DatabaseKey(bytes.fromhex("ab" * 32), KeyMode.FILE)
    assert "ab" * 8 not in repr(key)
