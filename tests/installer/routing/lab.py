"""A small network made by the test: a "host" namespace (the family computer, where the rules
and the agent run) joined by a veth pair to a "server" namespace (the internet: an HTTPS
server on 443 and a UDP listener), plus test accounts.  Everything is removed on exit, also
when a test fails.  Needs root (network namespaces, nftables, useradd).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import trustme

REPO = Path(__file__).resolve().parents[3]
HOST_V4, SERVER_V4 = "10.77.0.1", "10.77.0.2"
HOST_V6, SERVER_V6 = "fd00:77::1", "fd00:77::2"
NAMES = ("allowed.test", "blocked.test")
"""Both addresses; allowed4.test and allowed6.test have one each (which family the agent uses)."""
CLONE_NEWNET = 0x40000000
T = TypeVar("T")


def run(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=True, **kwargs)  # type: ignore[call-overload,no-any-return]


def in_netns(name: str, work: Callable[[], T]) -> T:
    """Run `work` in a thread that has entered the namespace `name`; the commands it starts
    are in that namespace too (a thread's namespace is its own, so the test's stays)."""
    libc = ctypes.CDLL(None, use_errno=True)
    outcome: dict[str, object] = {}

    def body() -> None:
        fd = os.open(f"/run/netns/{name}", os.O_RDONLY)
        try:
            if libc.setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns failed")
        finally:
            os.close(fd)
        try:
            outcome["value"] = work()
        except BaseException as err:  # noqa: BLE001 - handed to the caller's thread
            outcome["error"] = err

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["value"]  # type: ignore[return-value]


@dataclass
class Lab:
    host: str
    server: str
    public: Path
    """World-readable folder (the test accounts cannot enter pytest's 0700 tmp folder)."""
    server_ca: Path
    udp_log: Path

    def as_user(
        self, user: str, argv: list[str], timeout: float = 30
    ) -> subprocess.CompletedProcess[str]:
        """`argv` in the host namespace as `user`, with no proxy variables of the test's."""
        command = ["ip", "netns", "exec", self.host, "setpriv", f"--reuid={user}"]
        command += [f"--regid={user}", "--clear-groups", "--", *argv]
        return subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/"},
            check=False,
        )

    def curl(self, user: str, url: str, *options: str) -> subprocess.CompletedProcess[str]:
        argv = ["curl", "-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}"]
        return self.as_user(user, [*argv, *options, url])

    def send_udp(self, user: str, address: str, text: str) -> None:
        """One datagram to port 443 of `address` (bash's /dev/udp), as `user`."""
        self.as_user(user, ["bash", "-c", f"echo {text} > /dev/udp/{address}/443"])

    def datagrams(self) -> list[str]:
        time.sleep(0.5)  # what was sent has long arrived on a veth by then
        return self.udp_log.read_text().split() if self.udp_log.exists() else []


@contextlib.contextmanager
def accounts(*roles: str) -> Iterator[dict[str, str]]:
    """Ordinary accounts (uid from 1000 up), one per role, removed on exit."""
    made: dict[str, str] = {}
    try:
        for role in roles:
            name = f"abr{role}{secrets.token_hex(3)}"
            run(["useradd", "--no-create-home", "--shell", "/usr/sbin/nologin", name])
            made[role] = name
        yield made
    finally:
        for name in made.values():
            subprocess.run(["userdel", name], capture_output=True, check=False)


@contextlib.contextmanager
def network(folder: Path) -> Iterator[Lab]:
    tag = f"abr{secrets.token_hex(3)}"  # unique: two labs may exist at once
    host, server = f"{tag}h", f"{tag}s"
    netns_etc = Path("/etc/netns") / host
    made_netns_etc = not netns_etc.parent.exists()
    public = Path(tempfile.mkdtemp(prefix="abhaya-routing-"))
    public.chmod(0o755)
    webserver: subprocess.Popen[str] | None = None
    try:
        run(["ip", "netns", "add", host])
        run(["ip", "netns", "add", server])
        run(["ip", "link", "add", f"{tag}a", "netns", host, "type", "veth", "peer", "name",
             f"{tag}b", "netns", server])  # fmt: skip
        for ns, link, v4, v6 in ((host, f"{tag}a", HOST_V4, HOST_V6),
                                 (server, f"{tag}b", SERVER_V4, SERVER_V6)):  # fmt: skip
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            run(["ip", "-n", ns, "addr", "add", f"{v4}/24", "dev", link])
            run(["ip", "-n", ns, "addr", "add", f"{v6}/64", "dev", link, "nodad"])
            run(["ip", "-n", ns, "link", "set", link, "up"])
        # `ip netns exec` puts this file over /etc/hosts: the names resolve to the server.
        netns_etc.mkdir(parents=True, exist_ok=True)
        names = " ".join(NAMES)
        (netns_etc / "hosts").write_text(
            f"127.0.0.1 localhost\n::1 localhost\n"
            f"{SERVER_V4} {names} allowed4.test\n{SERVER_V6} {names} allowed6.test\n"
        )
        ca = trustme.CA()
        server_ca = public / "server-ca.pem"
        ca.cert_pem.write_to_path(str(server_ca))
        server_ca.chmod(0o644)
        leaf = ca.issue_cert(*NAMES, "allowed4.test", "allowed6.test", SERVER_V4, SERVER_V6)
        cert, key = folder / "server.pem", folder / "server.key"
        leaf.cert_chain_pems[0].write_to_path(str(cert))
        leaf.private_key_pem.write_to_path(str(key))
        udp_log = folder / "udp.log"
        webserver = subprocess.Popen(
            ["ip", "netns", "exec", server, sys.executable, "-m",
             "tests.installer.routing.webserver", str(cert), str(key), str(udp_log)],
            cwd=REPO, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert webserver.stdout is not None and webserver.stdout.readline().strip() == "ready"
        yield Lab(host, server, public, server_ca, udp_log)
    finally:
        if webserver is not None:
            webserver.kill()
            webserver.wait()
            if webserver.stdout is not None:
                webserver.stdout.close()
        for ns in (host, server):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, check=False)
        shutil.rmtree(netns_etc, ignore_errors=True)
        if made_netns_etc:
            with contextlib.suppress(OSError):
                netns_etc.parent.rmdir()
        shutil.rmtree(public, ignore_errors=True)
