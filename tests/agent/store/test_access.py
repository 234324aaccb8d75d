"""access_requests on a real SQLCipher store: expiry is computed, decisions keep their scope."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from abhaya.agent.store import Store
from abhaya.agent.store import access as stored
from abhaya.agent.store.access import (
    AlreadyDecidedError,
    ApprovalScope,
    RequestExpiredError,
    RequestStatus,
)

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def _ask(store: Store, domain: str, at: datetime) -> stored.Asked:
    with contextlib.closing(store.connect()) as conn:
        return stored.create_request(conn, "child", domain, f"https://{domain}/", "why", at)


def test_a_pending_request_reads_as_expired_after_its_lifetime(store: Store) -> None:
    old = _ask(store, "old.example", NOW - DAY - timedelta(seconds=1))
    fresh = _ask(store, "fresh.example", NOW - DAY + timedelta(seconds=1))
    assert old.new and fresh.new
    with contextlib.closing(store.connect(read_only=True)) as conn:
        expired = stored.list_requests(conn, RequestStatus.EXPIRED, expired_before=NOW - DAY)
        pending = stored.list_requests(conn, RequestStatus.PENDING, expired_before=NOW - DAY)
        everything = stored.list_requests(conn, expired_before=NOW - DAY)
        as_stored = stored.list_requests(conn)
    assert [item.id for item in expired] == [old.id]
    assert [item.id for item in pending] == [fresh.id]
    assert {item.id: item.status for item in everything} == {
        old.id: RequestStatus.EXPIRED,
        fresh.id: RequestStatus.PENDING,
    }
    assert {item.status for item in as_stored} == {RequestStatus.PENDING}


def test_an_expired_request_cannot_be_approved_but_can_be_denied(store: Store) -> None:
    asked = _ask(store, "old.example", NOW - 2 * DAY)
    with contextlib.closing(store.connect()) as conn:
        with pytest.raises(RequestExpiredError, match="ask again"):
            stored.decide_request(
                conn, asked.id, RequestStatus.APPROVED, NOW, expired_before=NOW - DAY
            )
        denied = stored.decide_request(
            conn, asked.id, RequestStatus.DENIED, NOW, expired_before=NOW - DAY
        )
        assert denied.status is RequestStatus.DENIED
        with pytest.raises(AlreadyDecidedError):
            stored.decide_request(conn, asked.id, RequestStatus.DENIED, NOW)


def test_asking_again_renews_the_pending_request(store: Store) -> None:
    first = _ask(store, "bet.example", NOW - 2 * DAY)
    again = _ask(store, "bet.example", NOW)
    assert (again.id, again.new) == (first.id, False)
    with contextlib.closing(store.connect(read_only=True)) as conn:
        (item,) = stored.list_requests(conn, RequestStatus.PENDING, expired_before=NOW - DAY)
    assert item.time == NOW


def test_expired_requests_do_not_count_towards_the_pending_cap(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn:
        for number in range(stored.MAX_PENDING):
            stored.create_request(conn, "child", f"{number}.example", "u", "r", NOW - 10 * DAY)
        with pytest.raises(stored.TooManyPendingError):
            stored.create_request(conn, "child", "c.example", "u", "r", NOW)
        asked = stored.create_request(
            conn, "child", "c.example", "u", "r", NOW, counted_since=NOW - 7 * DAY
        )
    assert asked.new


@pytest.mark.parametrize("scope", list(ApprovalScope))
def test_the_scope_of_an_approval_is_stored(store: Store, scope: ApprovalScope) -> None:
    asked = _ask(store, "www.bet.example", NOW)
    with contextlib.closing(store.connect()) as conn:
        stored.decide_request(conn, asked.id, RequestStatus.APPROVED, NOW, scope=scope)
        (latest,) = stored.latest_per_domain(conn)
    assert (latest.status, latest.scope) == (RequestStatus.APPROVED, scope)
