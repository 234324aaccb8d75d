"""The parent PIN on a real encrypted store and event writer, with a clock the tests move."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from abhaya.agent.api.pin import (
    FAILURES_KEY,
    HASH_KEY,
    PIN_RULE,
    ParentPin,
    PinFormatError,
    PinLockedError,
    PinNotSetError,
    PinRequiredError,
    WrongPinError,
    check_format,
    lock_duration,
)
from abhaya.agent.store import EventKind, EventWriter, Store, open_store
from abhaya.agent.store import settings as stored
from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.api.conftest import Clock


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
    parent_pin = ParentPin(store.connect, writer, clock)
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
    with contextlib.closing(store.connect(read_only=True)) as conn:
        digest = stored.get_text(conn, HASH_KEY)
    assert digest is not None and digest.startswith("$argon2id$")
    assert "2468" not in digest
    pin.verify("2468")


def test_the_first_pin_needs_no_old_one_and_a_change_needs_it(
    store: Store, writer: EventWriter, clock: Clock
) -> None:
    parent_pin = ParentPin(store.connect, writer, clock)
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
    restarted = ParentPin(store.connect, writer, clock)
    with pytest.raises(PinLockedError):
        restarted.verify("2468")
    with contextlib.closing(store.connect(read_only=True)) as conn:
        assert stored.get_int(conn, FAILURES_KEY, 0) == 5


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
