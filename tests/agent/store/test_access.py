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


@pytest.mark.parametrize(
    ("domain", "scope", "blocked", "ends"),
    [
        ("www.bet.example", ApprovalScope.SITE, "bet.example", True),
        ("www.bet.example", ApprovalScope.HOST, "bet.example", True),
        ("bet.example", ApprovalScope.HOST, "bet.example", True),
        # A site-wide approval of bet.example lets sports.bet.example through too.
        ("www.bet.example", ApprovalScope.SITE, "sports.bet.example", True),
        # A host approval of www.bet.example lets nothing of sports.bet.example through.
        ("www.bet.example", ApprovalScope.HOST, "sports.bet.example", False),
        ("bet.example", ApprovalScope.SITE, "abet.example", False),
        ("bet.example", ApprovalScope.SITE, "casino.example", False),
    ],
)
def test_a_block_ends_the_approvals_that_let_the_site_through(
    store: Store, domain: str, scope: ApprovalScope, blocked: str, ends: bool
) -> None:
    asked = _ask(store, domain, NOW)
    later = NOW + timedelta(minutes=5)
    with contextlib.closing(store.connect()) as conn:
        stored.decide_request(conn, asked.id, RequestStatus.APPROVED, NOW, scope=scope)
        ended = stored.end_approvals(conn, blocked, None, later)
        (latest,) = stored.latest_per_domain(conn)
    assert [item.id for item in ended] == ([asked.id] if ends else [])
    assert latest.status is RequestStatus.APPROVED  # the history keeps the approval
    assert latest.expires_at == (later if ends else None)


def test_ending_approvals_keeps_other_childrens_and_those_run_out(store: Store) -> None:
    with contextlib.closing(store.connect()) as conn:
        mine = stored.create_request(conn, "child", "bet.example", "https://bet.example/", "a", NOW)
        theirs = stored.create_request(
            conn, "teen", "bet.example", "https://bet.example/", "b", NOW
        )
        gone = stored.create_request(conn, "night", "bet.example", "https://bet.example/", "c", NOW)
        for ident in (mine.id, theirs.id):
            stored.decide_request(conn, ident, RequestStatus.APPROVED, NOW)
        stored.decide_request(conn, gone.id, RequestStatus.APPROVED, NOW, NOW + DAY / 24)
        ended = stored.end_approvals(conn, "bet.example", frozenset({"child", "night"}), NOW + DAY)
        rows = {row.id: row for row in stored.latest_per_domain(conn)}
    assert [item.id for item in ended] == [mine.id]
    assert rows[mine.id].expires_at == NOW + DAY
    assert rows[theirs.id].expires_at is None  # still always
    assert rows[gone.id].expires_at == NOW + DAY / 24  # ran out before; left as it was
