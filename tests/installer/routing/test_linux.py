"""Routing on real parts: the concern's steps applied to a scratch root, its rules loaded by
`nft` in a network namespace made by the test, a real HTTPS server in a second namespace, a
real `abhaya run` on the proxy port, and curl run as test accounts.

The agent process runs as root here, not as the service account: the repository's virtual
environment lives under /root, which other accounts cannot enter.  The exemption of the agent's
account is proven by curl run as a test account named as the service user.
"""

from __future__ import annotations

import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from abhaya.installer.host import Host
from abhaya.installer.plan import apply_plan, uninstall
from abhaya.installer.routing import gnome
from abhaya.installer.routing.bootunit import UNIT_PATH
from abhaya.installer.routing.linux import RoutingLinux
from abhaya.installer.routing.proxyenv import GENERATOR_PATH, PROFILE_PATH
from abhaya.installer.settings import InstallSettings, TargetOS
from tests.conftest import POLICY, write_policy
from tests.installer.conftest import concern_plan
from tests.installer.routing.lab import SERVER_V4, SERVER_V6, Lab, accounts, in_netns, network

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0, reason="network namespaces, nftables and test accounts need root"
)

DEBIAN_FOLDERS = ("var/lib", "etc/abhaya", "etc/profile.d", "etc/systemd/system", "etc/dconf/db")
"""Folders a Debian machine (with the agent's account concern done) already has."""


def scratch_root(folder: Path) -> Path:
    for relative in DEBIAN_FOLDERS:
        (folder / relative).mkdir(parents=True)
    return folder


def snapshot(root: Path) -> dict[str, bytes | None]:
    return {
        str(path.relative_to(root)): path.read_bytes() if path.is_file() else None
        for path in sorted(root.rglob("*"))
    }


def ruleset(lab: Lab) -> str:
    return subprocess.run(
        ["ip", "netns", "exec", lab.host, "nft", "list", "ruleset"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


class AgentProcess:
    """`abhaya run` on the proxy port inside the host namespace (as root: see the module)."""

    def __init__(self, lab: Lab, folder: Path, kid: str) -> None:
        policy = POLICY + f'\n[profiles.kid]\nusers = ["{kid}"]\nblock = ["blocked.test"]\n'
        data = folder / "data"
        data.mkdir(mode=0o700)
        key = data / "store.key"  # key-file mode: no keyring session inside the namespace
        key.write_text(secrets.token_hex(32) + "\n")
        key.chmod(0o600)
        self.out = folder / "agent.out"
        with self.out.open("w") as out, (folder / "agent.err").open("w") as err:
            self.process = subprocess.Popen(
                ["ip", "netns", "exec", lab.host, sys.executable, "-m", "abhaya.agent.cli",
                 "run", "--listen", "127.0.0.1:8080", "--api-listen", "127.0.0.1:0",
                 "--data-dir", str(data), "--policy", str(write_policy(folder / "p", policy)),
                 "--upstream-ca", str(lab.server_ca)],
                stdout=out, stderr=err,
            )  # fmt: skip
        deadline = time.monotonic() + 120
        while not re.search(r"filtering on http://127\.0\.0\.1:8080", self.out.read_text()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((folder / "agent.err").read_text())
            time.sleep(0.2)
        self.ca = lab.public / "agent-ca.pem"
        shutil.copyfile(data / "ca" / "abhaya-ca.pem", self.ca)
        self.ca.chmod(0o644)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)


class Installed:
    def __init__(self, lab: Lab, users: dict[str, str], root: Path) -> None:
        self.lab = lab
        self.users = users
        self.host = Host(root=root)
        self.settings = InstallSettings(
            TargetOS.LINUX,
            ("abhaya",),
            service_user=users["svc"],
            unfiltered_accounts=(users["parent"],),
        )
        self.plan = concern_plan(RoutingLinux(), self.settings)

    def apply(self) -> None:
        in_netns(self.lab.host, lambda: apply_plan(self.plan, self.host))

    def uninstall(self) -> None:
        outcome = in_netns(self.lab.host, lambda: uninstall(self.host))
        assert outcome.failed == []


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    folder = tmp_path_factory.mktemp("routing")
    with accounts("kid", "parent", "svc") as users, network(folder) as lab:
        done = Installed(lab, users, scratch_root(folder / "root"))
        done.apply()
        yield done
        done.uninstall()


@pytest.fixture
def agent(installed: Installed, tmp_path: Path) -> Iterator[AgentProcess]:
    process = AgentProcess(installed.lab, tmp_path, installed.users["kid"])
    yield process
    process.stop()


DIRECT = [f"https://{SERVER_V4}/", f"https://[{SERVER_V6}]/"]


@pytest.mark.parametrize("url", DIRECT)
def test_a_child_cannot_reach_the_web_directly_and_fails_fast(
    installed: Installed, url: str
) -> None:
    started = time.monotonic()
    done = installed.lab.curl(installed.users["kid"], url, "--cacert", str(installed.lab.server_ca))
    assert done.returncode == 7, done.stderr  # curl: could not connect (reset at once)
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("role", ["parent", "svc"])
@pytest.mark.parametrize("url", DIRECT)
def test_unfiltered_and_agent_accounts_reach_the_web_directly(
    installed: Installed, role: str, url: str
) -> None:
    done = installed.lab.curl(installed.users[role], url, "--cacert", str(installed.lab.server_ca))
    assert done.returncode == 0, done.stderr
    assert done.stdout.endswith("\n200") and "hello from the test web server" in done.stdout


def test_a_childs_quic_is_dropped_and_a_parents_is_not(installed: Installed) -> None:
    lab = installed.lab
    for address in (SERVER_V4, SERVER_V6):
        lab.send_udp(installed.users["kid"], address, f"kid-{address}")
        lab.send_udp(installed.users["parent"], address, f"parent-{address}")
    arrived = lab.datagrams()
    assert sorted(arrived) == sorted([f"parent-{SERVER_V4}", f"parent-{SERVER_V6}"])


def test_a_child_reaches_the_web_through_the_agent_with_its_own_profile(
    installed: Installed, agent: AgentProcess
) -> None:
    lab, kid, parent = installed.lab, installed.users["kid"], installed.users["parent"]
    through = ("--proxy", "http://127.0.0.1:8080", "--cacert", str(agent.ca))
    for name in ("allowed4.test", "allowed6.test"):  # the agent reaches it over IPv4, IPv6
        allowed = lab.curl(kid, f"https://{name}/", *through)
        assert allowed.stdout.endswith("\n200"), allowed.stderr
        assert "hello from the test web server" in allowed.stdout
    blocked = lab.curl(kid, "https://blocked.test/", *through)
    assert blocked.stdout.endswith("\n403"), blocked.stderr
    assert "hello from the test web server" not in blocked.stdout
    # The same host for an account the kid profile does not name: the default profile allows it.
    other = lab.curl(parent, "https://blocked.test/", *through)
    assert other.stdout.endswith("\n200"), other.stderr


def test_a_child_gets_nothing_when_the_agent_is_stopped(
    installed: Installed, agent: AgentProcess
) -> None:
    lab, kid = installed.lab, installed.users["kid"]
    through = ("--proxy", "http://127.0.0.1:8080", "--cacert", str(agent.ca))
    assert lab.curl(kid, "https://allowed.test/", *through).stdout.endswith("\n200")
    agent.stop()
    for url in ("https://allowed.test/", *DIRECT):
        done = lab.curl(kid, url, *through)
        assert done.returncode == 7, done.stderr
        assert "hello" not in done.stdout


def test_the_files_rules_and_boot_unit_are_in_place(installed: Installed) -> None:
    root, settings = installed.host.root, installed.settings
    checks = in_netns(installed.lab.host, lambda: RoutingLinux().checks(settings, installed.host))
    assert [c.name for c in checks if not c.ok] == []
    assert (root / "etc/systemd/system/sysinit.target.wants/abhaya-routing.service").is_symlink()
    rules = (root / "etc/abhaya/routing.nft").read_text()
    svc, parent = (pwd.getpwnam(installed.users[r]).pw_uid for r in ("svc", "parent"))
    assert f"meta skuid {svc} accept" in rules and f"meta skuid {{ {parent} }} accept" in rules


def test_the_boot_unit_passes_systemd_analyze_verify(installed: Installed) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    unit = installed.host.path(UNIT_PATH)
    done = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_the_proxy_variables_are_set_only_for_filtered_accounts(installed: Installed) -> None:
    # Copies in the world-readable folder: the accounts cannot enter pytest's folders.
    script, generator = installed.lab.public / "profile.sh", installed.lab.public / "generator"
    shutil.copy2(installed.host.path(PROFILE_PATH), script)
    shutil.copy2(installed.host.path(GENERATOR_PATH), generator)
    shown = {}
    for role in ("kid", "parent", "svc"):
        sourced = installed.lab.as_user(
            installed.users[role], ["sh", "-c", f". {script}; echo ${{https_proxy:-none}}"]
        )
        generated = installed.lab.as_user(installed.users[role], [str(generator)])
        shown[role] = (sourced.stdout.strip(), generated.stdout)
    assert shown["kid"][0] == "http://127.0.0.1:8080"
    assert "https_proxy=http://127.0.0.1:8080\n" in shown["kid"][1]
    assert shown["parent"] == ("none", "") and shown["svc"] == ("none", "")


def test_gnome_proxy_is_compiled_into_the_system_database(installed: Installed) -> None:
    if shutil.which("dconf") is None:
        pytest.skip("dconf is not installed (the step is left out of the plan then)")
    root = installed.host.root
    assert (root / "etc/dconf/profile/user").read_text() == gnome.PROFILE_TEXT
    compiled = (root / "etc/dconf/db/local").read_bytes()
    for key in gnome.LOCKED_KEYS:
        assert key.encode() in compiled
    assert b"manual" in compiled and b"127.0.0.1" in compiled


def test_install_twice_then_uninstall_leaves_the_machine_as_it_was(tmp_path: Path) -> None:
    with accounts("kid", "parent", "svc") as users, network(tmp_path) as lab:
        root = scratch_root(tmp_path / "root")
        before_files, before_rules = snapshot(root), ruleset(lab)
        done = Installed(lab, users, root)
        done.apply()
        done.apply()
        assert "table inet abhaya" in ruleset(lab)
        assert lab.curl(users["kid"], DIRECT[0]).returncode == 7
        done.uninstall()
        assert ruleset(lab) == before_rules
        assert snapshot(root) == before_files
        assert lab.curl(users["kid"], DIRECT[0], "--cacert", str(lab.server_ca)).returncode == 0
        done.uninstall()  # a second uninstall has nothing left to do and succeeds
