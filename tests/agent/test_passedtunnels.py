"""Tunnels passed through undecrypted are judged again while they stay open
(`agent.passedtunnels`): on real agents, with real tunnels, both when the relay carries them
and when mitmproxy does; and the registry's own rules.

A tunnel here is a real TLS session with the test origin through the proxy, kept open without
a request (the origin waits for one).  When the policy or the clock turns its name into one
that is decrypted, the agent closes it; the browser's next connection is then decided afresh.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from abhaya.agent import passedtunnels
from abhaya.agent.passedtunnels import PassedTunnels, Tunnel
from tests.agent.addons.test_policy_inspect import NEEDED
from tests.agent.api.conftest import ApiAgent, Clock, set_first_pin
from tests.agent.conftest import RunningAgent, Upstream, connect_tunnel, start_agent
from tests.conftest import with_allowed_hours

EVERYTHING = NEEDED.replace('mode = "needed"', 'mode = "everything"')
# Wednesday 2 December 2026, 10:00 in Asia/Kolkata (the test policy's time zone).
MORNING = datetime(2026, 12, 2, 4, 30, tzinfo=UTC)
SCHOOL_HOURS = with_allowed_hours(NEEDED, "09:00", "11:00")


@contextmanager
def open_tunnel(agent: RunningAgent, upstream: Upstream) -> Iterator[ssl.SSLSocket]:
    """A TLS session with the origin through the proxy, left open without a request.  The
    handshake succeeds only with the origin's own certificate: the tunnel was passed through."""
    conn, head = connect_tunnel(agent, f"localhost:{upstream.port}")
    assert head.startswith(b"HTTP/1.1 200")
    context = ssl.create_default_context(cafile=str(upstream.ca_file))
    with context.wrap_socket(conn, server_hostname="localhost") as tls:
        yield tls


def closed_within(tls: ssl.SSLSocket, seconds: float) -> bool:
    """Whether the proxy ends the session within `seconds` (nothing else is sent on it)."""
    tls.settimeout(seconds)
    try:
        return tls.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:  # reset, or the TLS layer saw the socket end
        return True


def wait_for(condition: Callable[[], bool], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


@pytest.mark.parametrize("relay", [True, False], ids=["relayed", "mitmproxy"])
def test_a_new_policy_that_decrypts_the_site_closes_its_open_tunnel(
    tmp_path: Path, upstream: Upstream, relay: bool
) -> None:
    """The school switches to decrypting everything: a tunnel already open is closed at once
    (not at the next periodic check), and the next connection is decrypted."""
    clock = Clock(MORNING)
    running = start_agent(tmp_path, upstream, clock=clock, policy=NEEDED, relay_tunnels=relay)
    parent = set_first_pin(ApiAgent(running, clock, tmp_path))
    try:
        agent = running.agent
        passed = agent.services.passed
        with open_tunnel(running, upstream) as tls:
            assert wait_for(lambda: len(passed) == 1)
            assert agent.tunnels.relayed == (1 if relay else 0)
            assert not closed_within(tls, 0.3)  # the policy in force passes it
            counts = parent.connections()
            assert (counts["passed_through_open"], counts["closed_when_rules_changed"]) == (1, 0)

            agent.services.policy.replace_text(EVERYTHING)
            assert closed_within(tls, passedtunnels.RECHECK_SECONDS / 2)
        assert passed.closed == 1
        assert wait_for(lambda: len(passed) == 0)
        counts = parent.connections()
        assert (counts["passed_through_open"], counts["closed_when_rules_changed"]) == (0, 1)

        decrypted = agent.services.inspection["everything"]
        with running.client() as client:  # trusts the agent's CA, as the browser does
            response = client.get(f"https://localhost:{upstream.port}/page")
        assert response.status_code == 200
        assert agent.services.inspection["everything"] == decrypted + 1
    finally:
        running.stop()


def test_a_tunnel_open_at_the_end_of_the_allowed_hours_is_closed(
    tmp_path: Path, upstream: Upstream, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Browsing is allowed 09:00-11:00.  A site opened at 10:00 is closed by the periodic
    check once the clock passes 11:00, with no new policy; the next request gets the block
    page."""
    monkeypatch.setattr(passedtunnels, "RECHECK_SECONDS", 0.1)
    clock = Clock(MORNING)
    running = start_agent(tmp_path, upstream, clock=clock, policy=SCHOOL_HOURS)
    try:
        passed = running.agent.services.passed
        with open_tunnel(running, upstream) as tls:
            assert wait_for(lambda: len(passed) == 1)
            assert not closed_within(tls, 0.5)  # several checks, still in school hours

            clock.advance(hours=1, minutes=1)
            assert closed_within(tls, 10)
        assert passed.closed == 1

        with running.client() as client:
            blocked = client.get(f"https://localhost:{upstream.port}/page")
        assert blocked.status_code == 403
    finally:
        running.stop()


@pytest.mark.parametrize("relay", [True, False], ids=["relayed", "mitmproxy"])
def test_tunnels_that_end_are_forgotten(tmp_path: Path, upstream: Upstream, relay: bool) -> None:
    running = start_agent(tmp_path, upstream, policy=NEEDED, relay_tunnels=relay)
    try:
        passed = running.agent.services.passed
        for _ in range(3):
            with open_tunnel(running, upstream) as tls:
                tls.sendall(b"GET /page HTTP/1.1\r\nHost: localhost\r\n\r\n")
                assert tls.recv(65536).startswith(b"HTTP/1.0 200")
        assert wait_for(lambda: len(passed) == 0), f"{len(passed)} kept"
        assert passed.closed == 0
    finally:
        running.stop()


# The registry's rules, with recorded closings.

SITE = Tunnel("site.example", "site.example", "child")
OTHER = Tunnel("other.example", "other.example", "child")


def test_each_distinct_tunnel_is_judged_once_and_only_the_refused_are_closed() -> None:
    tunnels = PassedTunnels()
    closings: list[str] = []
    for index, tunnel in enumerate([SITE, SITE, SITE, OTHER]):
        tunnels.add(tunnel, lambda index=index: closings.append(f"{index}"))
    asked: list[Tunnel] = []

    def passes(tunnel: Tunnel) -> bool:
        asked.append(tunnel)
        return tunnel == OTHER

    assert tunnels.recheck(passes) == 3
    assert sorted(closings) == ["0", "1", "2"]
    assert asked == [SITE, OTHER]
    assert len(tunnels) == 1 and tunnels.closed == 3
    assert tunnels.recheck(passes) == 0


def test_a_tunnel_that_cannot_be_judged_is_closed() -> None:
    tunnels = PassedTunnels()
    closings: list[Tunnel] = []
    tunnels.add(SITE, lambda: closings.append(SITE))

    def broken(tunnel: Tunnel) -> bool:
        raise RuntimeError("the decision failed")

    assert tunnels.recheck(broken) == 1
    assert closings == [SITE] and len(tunnels) == 0


def test_a_closing_that_fails_is_tried_again_and_the_others_still_close() -> None:
    tunnels = PassedTunnels()
    closings: list[Tunnel] = []
    attempts = [0]

    def stubborn() -> None:
        attempts[0] += 1
        if attempts[0] == 1:
            raise OSError("could not close")

    tunnels.add(SITE, stubborn)
    tunnels.add(OTHER, lambda: closings.append(OTHER))
    assert tunnels.recheck(lambda tunnel: False) == 1
    assert closings == [OTHER] and len(tunnels) == 1
    assert tunnels.recheck(lambda tunnel: False) == 1
    assert attempts[0] == 2 and len(tunnels) == 0 and tunnels.closed == 2


def test_a_discarded_tunnel_is_not_judged() -> None:
    tunnels = PassedTunnels()
    token = tunnels.add(SITE, lambda: pytest.fail("a tunnel that ended was closed"))
    tunnels.discard(token)
    tunnels.discard(token)  # twice is harmless
    assert tunnels.recheck(lambda tunnel: pytest.fail("judged")) == 0
