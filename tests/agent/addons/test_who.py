"""Which child is this: two real OS accounts send requests through the real running agent, and
each gets its own profile's verdict; the event names the account and the process.

The accounts are created here (`useradd`) and removed afterwards, so the test needs root (as
in CI) and skips otherwise.  curl runs as each account and trusts the agent's CA.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from abhaya.agent.store import EventKind
from abhaya.agent.store.queries import EventFilter, events_page
from tests.agent.conftest import (
    RunningAgent,
    Upstream,
    local_upstream,
    start_agent,
)
from tests.conftest import POLICY

pytestmark = [
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="creates two OS accounts with useradd and runs curl as them: needs root",
    ),
    pytest.mark.skipif(
        shutil.which("useradd") is None or shutil.which("curl") is None,
        reason="needs useradd, userdel and curl",
    ),
]


@pytest.fixture(scope="module")
def accounts() -> Iterator[tuple[str, str]]:
    """Two fresh accounts without home folders or login shells."""
    names = (f"abt{secrets.token_hex(3)}a", f"abt{secrets.token_hex(3)}b")
    created: list[str] = []
    try:
        for name in names:
            subprocess.run(
                ["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
                check=True,
                capture_output=True,
            )
            created.append(name)
        yield names
    finally:
        for name in created:
            subprocess.run(["userdel", name], check=False, capture_output=True)


@pytest.fixture(scope="module")
def own_upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    """An upstream of this module's own: the shared one's record of hosts seen must not learn
    of the sites this module lets through (other tests assert they were never contacted)."""
    with local_upstream(tmp_path_factory.mktemp("who-upstream")) as server:
        yield server


@pytest.fixture(scope="module")
def agent(
    tmp_path_factory: pytest.TempPathFactory, own_upstream: Upstream, accounts: tuple[str, str]
) -> Iterator[RunningAgent]:
    """teen (adult allowed, gambling a warning) names the first account, child the second;
    the default stays child, the strictest here."""
    teen, child = accounts
    upstream = own_upstream
    policy = POLICY.replace("[profiles.teen]\n", f'[profiles.teen]\nusers = ["{teen}"]\n').replace(
        "[profiles.child]\n", f'[profiles.child]\nusers = ["{child}"]\n'
    )
    running = start_agent(tmp_path_factory.mktemp("who"), upstream, policy=policy)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def ca_for_everyone(agent: RunningAgent) -> Iterator[Path]:
    """The agent's public CA certificate where the test accounts can read it."""
    folder = Path(tempfile.mkdtemp(prefix="abhaya-who-"))
    folder.chmod(0o755)
    copy = folder / "ca.pem"
    shutil.copyfile(agent.ca_file, copy)
    copy.chmod(0o644)
    yield copy
    shutil.rmtree(folder)


def _curl(agent: RunningAgent, ca: Path, url: str, user: str | None) -> int:
    """The HTTP status curl got through the proxy, running as `user` (None: this account)."""
    done = subprocess.run(
        [
            "curl",
            "-q",
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "20",
            "--proxy",
            agent.proxy_url,
            "--cacert",
            str(ca),
            url,
        ],  # fmt: skip
        user=user,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def _verdicts(agent: RunningAgent) -> list[tuple[str, str, str, str, str]]:
    agent.agent.services.events.flush()
    with contextlib.closing(agent.agent.store.connect(read_only=True)) as conn:
        page = events_page(conn, EventFilter(kinds=(EventKind.VERDICT,)), limit=50)
    return sorted(
        (e.event.domain, e.event.action, e.event.profile, e.event.os_user, e.event.process)
        for e in page.events
    )


def test_each_account_gets_its_own_profile_and_is_named_in_the_events(
    agent: RunningAgent, ca_for_everyone: Path, accounts: tuple[str, str]
) -> None:
    teen, child = accounts
    ca = ca_for_everyone
    # adult: allowed for teen, blocked for child (and for the default profile).
    assert _curl(agent, ca, "https://adult.example/", teen) == 200
    assert _curl(agent, ca, "https://adult.example/", child) == 403
    assert _curl(agent, ca, "https://adult.example/", None) == 403
    # gambling: a warning for teen, a block for child; both are events.
    assert _curl(agent, ca, "https://bet.example/", teen) == 403
    assert _curl(agent, ca, "https://bet.example/", child) == 403
    me = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    assert _verdicts(agent) == sorted(
        [
            ("adult.example", "block", "child", child, "curl"),
            ("adult.example", "block", "child", me, "curl"),  # named by no profile: default
            ("bet.example", "warn", "teen", teen, "curl"),
            ("bet.example", "block", "child", child, "curl"),
        ]
    )
    # Every closed connection is forgotten (the proxy sees curl's close a moment later).
    deadline = time.monotonic() + 5
    while len(agent.agent.services.who) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(agent.agent.services.who) == 0
