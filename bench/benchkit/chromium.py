"""Headless Chromium for the page benchmarks: the flags they share, a home whose NSS database
trusts the proxies' CAs (as `certutil -A` does for users, and tests/agent/test_chromium.py), and
a small DevTools-protocol client over `--remote-debugging-pipe` (file descriptors 3 and 4,
NUL-separated JSON: no WebSocket library, no debugging port open on the machine).

Run by hand only, never in CI: see the README of each bench that uses it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--window-size=1200,1600",
]
"""What every benchmark load uses: no QUIC (the proxies speak TCP), nothing in the background
that would open connections of its own during a measurement."""


def require_tools() -> str:
    """Chromium's path; stops with what to install when Chromium or certutil is missing."""
    if CHROMIUM is None or shutil.which("certutil") is None:
        raise SystemExit(
            "chromium and certutil are needed (apt-get install chromium libnss3-tools)"
        )
    return CHROMIUM


def browser_home(folder: Path, cas: Sequence[tuple[str, Path]]) -> Path:
    """A home whose NSS database trusts each (nickname, CA file), for `HOME=` of Chromium."""
    home = folder / "chromium-home"
    nssdb = home / ".pki" / "nssdb"
    nssdb.mkdir(parents=True)
    subprocess.run(["certutil", "-d", f"sql:{nssdb}", "-N", "--empty-password"], check=True)
    for name, ca_file in cas:
        subprocess.run(
            ["certutil", "-d", f"sql:{nssdb}", "-A", "-t", "C,,", "-n", name, "-i", str(ca_file)],
            check=True,
        )
    return home


class DevToolsError(RuntimeError):
    """The browser answered a command with an error, closed the pipe or took too long."""


@dataclass
class Visit:
    """One navigation: the Navigation Timing entry and what the Network domain reported."""

    timing: dict[str, Any]
    requests: int = 0
    failed: list[str] = field(default_factory=list)
    """URL and reason of each request that failed (loadingFailed, or an HTTP status >= 400)."""
    protocols: dict[str, int] = field(default_factory=dict)
    """How many responses came over each protocol ("h2", "http/1.1"), as the browser saw it."""
    connections: list[dict[str, float]] = field(default_factory=list)
    """Per response that opened a new connection, its phases in ms (see `PHASES`)."""


class Browser:
    """One headless Chromium with a fresh profile, driven over the DevTools pipe."""

    def __init__(self, home: Path, profile: Path, extra_flags: Sequence[str] = ()) -> None:
        chromium = require_tools()
        self._profile = profile
        ours_read, theirs_write = os.pipe()  # the browser writes on its fd 4
        theirs_read, ours_write = os.pipe()  # the browser reads on its fd 3
        self._process = subprocess.Popen(
            [
                chromium,
                *FLAGS,
                f"--user-data-dir={profile}",
                "--remote-debugging-pipe",
                *extra_flags,
                "about:blank",
            ],
            env={**os.environ, "HOME": str(home)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            close_fds=False,  # our own descriptors are not inheritable; 3 and 4 must stay open
            preexec_fn=_pipes_to_3_and_4(theirs_read, theirs_write),
        )
        os.close(theirs_read)
        os.close(theirs_write)
        self._in = os.fdopen(ours_read, "rb", buffering=0)
        self._out = os.fdopen(ours_write, "wb", buffering=0)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self._session = ""

    def __enter__(self) -> Browser:
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        self._session = self.call(
            "Target.attachToTarget", {"targetId": page["targetId"], "flatten": True}
        )["sessionId"]
        for domain in ("Page", "Network"):
            self.call(f"{domain}.enable", session=True)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(DevToolsError):
            self.call("Browser.close", timeout=5)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._in.close()
        self._out.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        session: bool = False,
        timeout: float = 60,
    ) -> dict[str, Any]:
        """Send one command and wait for its answer; events that arrive meanwhile are kept."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self._session
        self._out.write(json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise DevToolsError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self._events.append(reply)

    def visit(self, url: str, *, cache: bool = True, timeout: float = 120) -> Visit:
        """Navigate to `url`, wait for its load event, and collect the timing and the network
        events of the navigation (`cache=False` disables the browser cache first)."""
        self.call("Network.setCacheDisabled", {"cacheDisabled": not cache}, session=True)
        self._events.clear()
        self.call("Page.navigate", {"url": url}, session=True)
        deadline = time.monotonic() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in self._events):
            self._events.append(self._read(deadline))
        # loadEventEnd is set once the load handlers have returned, just after the event.
        timing: dict[str, Any] = {}
        while not timing.get("loadEventEnd"):
            timing = self.call(
                "Runtime.evaluate",
                {
                    "expression": "JSON.stringify(performance.getEntriesByType('navigation')[0])",
                    "returnByValue": True,
                },
                session=True,
            )["result"]
            timing = json.loads(timing["value"])
        self._settle(deadline)
        return self._network_report(timing)

    def _settle(self, deadline: float) -> None:
        """Wait until every request the page started has finished or failed (requests started
        before `load` but not waited for by it, such as fetch(), count as well)."""
        while True:
            started, ended = set(), set()
            for event in self._events:
                method, params = event.get("method"), event.get("params", {})
                if method == "Network.requestWillBeSent" and not params["request"][
                    "url"
                ].startswith("data:"):
                    started.add(params["requestId"])
                elif method in ("Network.loadingFinished", "Network.loadingFailed"):
                    ended.add(params["requestId"])
            if started <= ended:
                return
            self._events.append(self._read(deadline))

    def _network_report(self, timing: dict[str, Any]) -> Visit:
        visit = Visit(timing)
        urls: dict[str, str] = {}
        for event in self._events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                urls[params["requestId"]] = params["request"]["url"]
            elif method == "Network.responseReceived":
                response = params["response"]
                protocol = str(response.get("protocol", "?"))
                visit.protocols[protocol] = visit.protocols.get(protocol, 0) + 1
                timing = response.get("timing")
                if timing and timing.get("connectStart", -1) >= 0:
                    visit.connections.append(phases(timing))
                if int(response["status"]) >= 400:
                    visit.failed.append(f"{response['url']}: HTTP {response['status']}")
            elif method == "Network.loadingFailed":
                url = urls.get(params["requestId"], params["requestId"])
                visit.failed.append(f"{url}: {params.get('errorText')}")
        visit.requests = len(urls)
        return visit

    def _read(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise DevToolsError("no answer from the browser in time")
            ready, _, _ = select.select([self._in], [], [], left)
            if not ready:
                continue
            chunk = self._in.read(1 << 20)
            if not chunk:
                raise DevToolsError("the browser closed the DevTools pipe")
            self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return dict(json.loads(message))


PHASES = ("queued", "tunnel", "tls", "first byte")
"""Where a request that opened a connection spent its time, from its DevTools `timing`:
waiting for a socket (start to connectStart: Chromium keeps at most 32 sockets per proxy),
the TCP connection and, through a proxy, the CONNECT's answer (connectStart to sslStart), the
TLS handshake (sslStart to sslEnd), and the wait for the response's headers once sent."""


def phases(timing: dict[str, float]) -> dict[str, float]:
    ssl_start = timing["sslStart"] if timing["sslStart"] >= 0 else timing["connectEnd"]
    ssl_end = timing["sslEnd"] if timing["sslEnd"] >= 0 else ssl_start
    return {
        "queued": timing["connectStart"],
        "tunnel": ssl_start - timing["connectStart"],
        "tls": ssl_end - ssl_start,
        "first byte": timing["receiveHeadersEnd"] - timing["sendEnd"],
    }


def _pipes_to_3_and_4(read_fd: int, write_fd: int) -> Any:
    """In the child before exec: the browser reads commands on fd 3 and writes on fd 4."""

    def move() -> None:
        # Copies first: read_fd or write_fd may themselves be 3 or 4.
        read_copy, write_copy = os.dup(read_fd), os.dup(write_fd)
        os.dup2(read_copy, 3)
        os.dup2(write_copy, 4)
        os.set_inheritable(3, True)
        os.set_inheritable(4, True)

    return move
