"""The parent PIN on a real encrypted store and event writer, with a clock the tests move."""

from __future__ import annotations

import contextlib
import re
import stat
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from abhaya.agent.api.pin import (
    FAILURES_KEY,
    HASH_KEY,
    PIN_RULE,
    ParentPin,
    PinFormatError,
    PinLockedError,
    PinNotSetError,
    PinRequiredError,
    PinStoreError,
    WrongPinError,
    check_format,
    lock_duration,
)
from abhaya.agent.store import EventKind, EventWriter, Store, open_store
from abhaya.agent.store.alerts import AlertSeverity, list_alerts
from abhaya.agent.store.pin_reset import reset_pin
from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.api.conftest import Clock
from tests.agent.store.conftest import make_event


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(tmp_path / "data")


@pytest.fixture
def writer(store: Store) -> Iterator[EventWriter]:
    with EventWriter(store.connect, retention=None) as events:
        yield events


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def pin(store: Store, writer: EventWriter, clock: Clock) -> ParentPin:
    parent_pin = ParentPin(store, writer, clock)
    parent_pin.change("2468", None)
    return parent_pin


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("1234", True),
        ("000000000000", True),
        ("123", False),
        ("1234567890123", False),
        ("12a4", False),
        (" 1234", False),
        ("1234\n", False),
        ("١٢٣٤", False),  # Arabic-Indic digits: str.isdigit() says yes, a PIN pad says no
        (1234, False),
        (None, False),
        (["1234"], False),
    ],
)
def test_pin_format(value: object, ok: bool) -> None:
    if ok:
        assert check_format(value, "pin") == value
    else:
        with pytest.raises(PinFormatError, match=re.escape(PIN_RULE)) as caught:
            check_format(value, "new")
        assert caught.value.field == "new"


@pytest.mark.parametrize(
    ("failures", "seconds"),
    [(0, None), (4, None), (5, 30), (6, 60), (7, 120), (11, 1920), (12, 3600), (10_000, 3600)],
)
def test_lock_grows_by_doubling_up_to_an_hour(failures: int, seconds: int | None) -> None:
    expected = None if seconds is None else timedelta(seconds=seconds)
    assert lock_duration(failures) == expected


def test_only_an_argon2id_hash_is_stored(pin: ParentPin, store: Store) -> None:
    digest = store.security.read()[HASH_KEY]
    assert digest.startswith("$argon2id$")
    assert "2468" not in store.security.path.read_text()
    pin.verify("2468")


def test_the_first_pin_needs_no_old_one_and_a_change_needs_it(
    store: Store, writer: EventWriter, clock: Clock
) -> None:
    parent_pin = ParentPin(store, writer, clock)
    assert not parent_pin.is_set()
    with pytest.raises(PinNotSetError):
        parent_pin.verify("1234")
    parent_pin.change("1234", None)
    assert parent_pin.is_set()
    with pytest.raises(PinRequiredError):
        parent_pin.change("5678", None)
    with pytest.raises(WrongPinError):
        parent_pin.change("5678", "4321")
    parent_pin.change("5678", "1234")
    parent_pin.verify("5678")
    with pytest.raises(WrongPinError):
        parent_pin.verify("1234")


def test_brute_force_locks_for_a_growing_time(pin: ParentPin, clock: Clock) -> None:
    for attempt in range(1, 5):
        with pytest.raises(WrongPinError, match=f"{5 - attempt} more") as caught:
            pin.verify("0000")
        assert caught.value.locked_for is None
    with pytest.raises(WrongPinError, match="refused for 30 s") as caught:
        pin.verify("0000")
    assert caught.value.locked_for == timedelta(seconds=30)
    with pytest.raises(PinLockedError) as locked:
        pin.verify("2468")  # even the right PIN waits
    assert locked.value.retry_after == 30
    clock.advance(seconds=20)
    with pytest.raises(PinLockedError) as locked:
        pin.verify("2468")
    assert locked.value.retry_after == 10
    clock.advance(seconds=11)
    with pytest.raises(WrongPinError) as caught:
        pin.verify("0000")
    assert caught.value.locked_for == timedelta(seconds=60)
    clock.advance(seconds=59)
    with pytest.raises(PinLockedError):
        pin.verify("2468")
    clock.advance(seconds=2)
    pin.verify("2468")
    with pytest.raises(WrongPinError, match="4 more"):  # success starts the count again
        pin.verify("0000")


def test_the_lock_survives_a_restart(
    pin: ParentPin, store: Store, writer: EventWriter, clock: Clock
) -> None:
    for _ in range(5):
        with pytest.raises(WrongPinError):
            pin.verify("1111")
    restarted = ParentPin(open_store(store.path.parent), writer, clock)
    with pytest.raises(PinLockedError):
        restarted.verify("2468")
    assert store.security.read()[FAILURES_KEY] == "5"


def test_every_wrong_pin_is_an_event(pin: ParentPin, store: Store, writer: EventWriter) -> None:
    for _ in range(3):
        with pytest.raises(WrongPinError):
            pin.verify("1357")
    pin.verify("2468")
    assert writer.flush()
    with contextlib.closing(store.connect(read_only=True)) as conn:
        page = events_page(conn, EventFilter(kinds=(EventKind.PIN_FAILED,)))
    assert len(page.events) == 3
    assert all("1357" not in item.event.detail for item in page.events)
    assert "wrong PIN" in page.events[0].event.detail


def test_format_errors_do_not_count(pin: ParentPin) -> None:
    for _ in range(10):
        with pytest.raises(PinFormatError):
            pin.verify("abc")
    pin.verify("2468")


def _flip(path: Path, offset: int, length: int = 32) -> None:
    data = bytearray(path.read_bytes())
    for index in range(offset, min(offset + length, len(data))):
        data[index] ^= 0xA5
    path.write_bytes(bytes(data))


def _tamper_records(store: Store) -> tuple[list[str], list[tuple[str, AlertSeverity]]]:
    with contextlib.closing(store.connect(read_only=True)) as conn:
        page = events_page(conn, EventFilter(kinds=(EventKind.TAMPER,)))
        alerts = [(item.alert.kind, item.alert.severity) for item in list_alerts(conn)]
    return [item.event.detail for item in page.events], alerts


def test_a_damaged_database_does_not_reset_the_pin(
    pin: ParentPin, store: Store, writer: EventWriter, clock: Clock
) -> None:
    writer.submit(make_event())
    assert writer.flush()
    writer.close()
    _flip(store.path, 4096 + 100)  # one damaged page: the store is set aside and replaced

    reopened = open_store(store.path.parent)

    assert reopened.recovery is not None
    after = ParentPin(reopened, writer, clock)
    assert after.is_set()
    with pytest.raises(PinRequiredError):
        after.change("1111", None)
    after.verify("2468")


@pytest.mark.parametrize("damage", ["removed", "flipped", "emptied", "store-removed-too"])
def test_security_settings_that_cannot_be_trusted_refuse_every_pin(
    pin: ParentPin, store: Store, writer: EventWriter, clock: Clock, damage: str
) -> None:
    data_dir = store.path.parent
    security_file = store.security.path
    if damage == "removed":
        security_file.unlink()
    elif damage == "flipped":
        _flip(security_file, 40, 1)
    elif damage == "emptied":
        security_file.write_bytes(b"")
    else:  # delete every data file but the key: the marker beside the key still says "PIN set"
        writer.close()
        for path in data_dir.iterdir():
            if path.name.startswith(("events.", "security")):
                path.unlink()

    reopened = open_store(data_dir)

    assert reopened.security_problem is not None
    assert "abhaya reset-pin" in reopened.security_problem
    details, alerts = _tamper_records(reopened)
    assert any("Security settings refused" in detail for detail in details)
    assert ("security_settings", AlertSeverity.CRITICAL) in alerts
    after = ParentPin(reopened, writer, clock)
    assert after.is_set()  # so the API asks for a session nobody has
    with pytest.raises(PinStoreError, match="reset-pin"):
        after.change("1111", None)
    with pytest.raises(PinStoreError):
        after.verify("2468")

    message = reset_pin(data_dir)

    assert "reset by an administrator" in message
    assert not after.is_set()
    after.change("1111", None)
    after.verify("1111")
    assert open_store(data_dir).security_problem is None


def test_a_pin_kept_in_the_database_by_an_older_version_moves_out(
    store: Store, writer: EventWriter, clock: Clock
) -> None:
    digest = PasswordHasher().hash("8642")
    with contextlib.closing(store.connect()) as conn:
        conn.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?), (?, ?)",
            (HASH_KEY, digest, FAILURES_KEY, "2"),
        )
    store.security.path.unlink(missing_ok=True)

    reopened = open_store(store.path.parent)

    assert reopened.security.read()[HASH_KEY] == digest
    with contextlib.closing(reopened.connect(read_only=True)) as conn:
        left = conn.execute("SELECT count(*) FROM settings WHERE key LIKE 'pin.%'").fetchone()
    assert left == (0,)
    migrated = ParentPin(reopened, writer, clock)
    with pytest.raises(WrongPinError, match="2 more wrong PINs"):  # the count came along
        migrated.verify("0000")
    migrated.verify("8642")


def test_the_security_file_is_private(pin: ParentPin, store: Store) -> None:
    assert stat.S_IMODE(store.security.path.stat().st_mode) == 0o600
