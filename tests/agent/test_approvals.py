"""The approvals desk on a real store: site-wide and host-only approvals, expiry of requests,
and the alert a child's request raises."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from abhaya.agent.approvals import AccessDesk
from abhaya.agent.store import open_store
from abhaya.agent.store.access import ApprovalScope, RequestStatus
from abhaya.agent.store.alerts import list_alerts

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(tmp_path: Path, clock: Clock) -> AccessDesk:
    return AccessDesk(open_store(tmp_path / "data"), lambda: timedelta(hours=24), clock)


def _approve(desk: AccessDesk, host: str, scope: ApprovalScope) -> int:
    ident = desk.ask("child", host, f"https://{host}/", "homework", NOW)
    desk.decide(ident, RequestStatus.APPROVED, NOW, NOW + timedelta(hours=1), scope=scope)
    return ident


@pytest.mark.parametrize(
    ("approved", "scope", "asked", "allowed"),
    [
        ("www.bet365.com", ApprovalScope.SITE, "bet365.com", True),
        ("www.bet365.com", ApprovalScope.SITE, "sports.bet365.com", True),
        ("www.bet365.com", ApprovalScope.SITE, "www.bet365.com", True),
        ("www.bet365.com", ApprovalScope.SITE, "bet365.co.uk", False),
        ("www.bet365.com", ApprovalScope.SITE, "notbet365.com", False),
        ("www.bet365.com", ApprovalScope.HOST, "www.bet365.com", True),
        ("www.bet365.com", ApprovalScope.HOST, "bet365.com", False),
        ("www.bet365.com", ApprovalScope.HOST, "sports.bet365.com", False),
        # A platform's tenants are separate sites: one blog approved is not every blog.
        ("alice.blogspot.com", ApprovalScope.SITE, "www.alice.blogspot.com", True),
        ("alice.blogspot.com", ApprovalScope.SITE, "mallory.blogspot.com", False),
    ],
)
def test_an_approval_covers_its_site_or_its_host(
    desk: AccessDesk, approved: str, scope: ApprovalScope, asked: str, allowed: bool
) -> None:
    _approve(desk, approved, scope)
    assert (desk.approval("child", asked, NOW) is not None) is allowed
    assert desk.approval("teen", asked, NOW) is None  # another profile's approval is not yours
    assert desk.approval("child", asked, NOW + timedelta(hours=2)) is None  # it has ended


def test_a_pending_request_expires_for_the_childs_page(desk: AccessDesk, clock: Clock) -> None:
    desk.ask("child", "bet.example", "https://bet.example/", "homework", NOW)
    latest = desk.latest("child", "bet.example")
    assert latest is not None and latest.status is RequestStatus.PENDING
    clock.now = NOW + timedelta(hours=24, seconds=1)
    assert desk.latest("child", "bet.example") is None  # the page offers the form again
    (listed,) = desk.list(None, clock.now)
    assert listed.status is RequestStatus.EXPIRED


def test_a_new_request_raises_one_alert(tmp_path: Path, clock: Clock) -> None:
    store = open_store(tmp_path / "data")
    desk = AccessDesk(store, lambda: timedelta(hours=24), clock)
    first = desk.ask("child", "bet.example", "https://bet.example/", "for maths", NOW)
    again = desk.ask("child", "bet.example", "https://bet.example/a", "please", NOW)
    assert first == again
    with contextlib.closing(store.connect(read_only=True)) as conn:
        (alert,) = list_alerts(conn)
    assert alert.alert.kind == "access_request" and not alert.alert.acknowledged
    assert "bet.example" in alert.alert.message and "for maths" in alert.alert.message
