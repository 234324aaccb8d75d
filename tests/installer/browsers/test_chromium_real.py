"""Real Chromium reads the policy file the install writes.

Debian's Chromium reads /etc/chromium/policies/managed and cannot be pointed elsewhere, so this
test applies the Chromium part of the plan to the REAL root (as root; skipped otherwise) and
uninstalls it in a `finally`.  It then proves the policies are in force two ways:
- behaviour: with no proxy flag at all, a page load reaches a local recording proxy (the
  policy's ProxyServer), and the proxy sees the request;
- chrome://policy, read through DevTools: DnsOverHttpsMode, QuicAllowed and the proxy policies
  are listed as applied, with their values.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath

import pytest
from websockets.sync.client import connect

from abhaya.installer.browsers.linux import BrowsersLinux
from abhaya.installer.host import Host
from abhaya.installer.plan import Plan, Section, apply_plan, uninstall
from tests.installer.browsers.conftest import settings

CHROMIUM = shutil.which("chromium")
MANAGED = Path("/etc/chromium/policies/managed")
MARKER = "reached-through-the-policy-proxy"

pytestmark = [
    pytest.mark.chromium,
    pytest.mark.skipif(os.geteuid() != 0, reason="writes /etc/chromium/policies: needs root"),
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/test.sh)"),
]


@pytest.fixture
def recording_proxy() -> Iterator[tuple[int, list[str]]]:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            seen.append(self.path)  # a proxy gets the absolute URL
            body = f"<html><body>{MARKER}</body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


@pytest.fixture
def installed(recording_proxy: tuple[int, list[str]], tmp_path: Path) -> Iterator[None]:
    if (MANAGED / "abhaya.json").exists():
        pytest.fail(f"{MANAGED}/abhaya.json exists already: remove it before running the tests")
    port, _ = recording_proxy
    wanted = settings(private_browsing=False, port=port)
    steps = [s for s in BrowsersLinux().steps(wanted) if "/etc/chromium" in s.key]
    host = Host(root=Path("/"), state_dir=PurePosixPath(tmp_path / "state"))
    try:
        apply_plan(Plan((Section("Chromium", tuple(steps)),)), host)
        yield
    finally:
        assert uninstall(host).failed == []
    assert not (MANAGED / "abhaya.json").exists()


def chromium(profile: Path, *args: str) -> list[str]:
    assert CHROMIUM is not None
    return [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", *args,
    ]  # fmt: skip


@pytest.mark.usefixtures("installed")
def test_chromium_sends_pages_to_the_policy_proxy(
    recording_proxy: tuple[int, list[str]], tmp_path: Path
) -> None:
    _, seen = recording_proxy
    done = subprocess.run(
        chromium(tmp_path / "profile", "--dump-dom", "http://policy-check.invalid/"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert MARKER in done.stdout, done.stderr[-2000:]
    assert "http://policy-check.invalid/" in seen


DEEP_TEXT = """
(() => {
  const parts = [];
  const walk = (node) => {
    if (node.shadowRoot) walk(node.shadowRoot);
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) parts.push(child.textContent.trim());
      else walk(child);
    }
  };
  walk(document.body);
  return parts.filter(Boolean).join("\\n");
})()
"""


@pytest.mark.usefixtures("installed")
def test_chrome_policy_lists_the_policies_as_applied(
    recording_proxy: tuple[int, list[str]], tmp_path: Path
) -> None:
    port, _ = recording_proxy
    profile = tmp_path / "profile"
    browser = subprocess.Popen(
        chromium(profile, "--remote-debugging-port=0", "about:blank"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        active = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not active.exists() or not active.read_text().strip():
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port"
            time.sleep(0.1)
        devtools = int(active.read_text().splitlines()[0])
        request = urllib.request.Request(
            f"http://127.0.0.1:{devtools}/json/new?chrome://policy", method="PUT"
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            target = json.load(answer)
        text = ""
        with connect(target["webSocketDebuggerUrl"], max_size=None) as page:
            for attempt in range(100):
                params = {"expression": DEEP_TEXT, "returnByValue": True}
                page.send(
                    json.dumps({"id": attempt, "method": "Runtime.evaluate", "params": params})
                )
                reply = json.loads(page.recv(timeout=10))
                text = reply.get("result", {}).get("result", {}).get("value") or ""
                if "QuicAllowed" in text and "ProxyServer" in text:
                    break
                time.sleep(0.2)
    finally:
        browser.terminate()
        browser.wait(timeout=30)
    lines = text.splitlines()
    for name, value in (
        ("DnsOverHttpsMode", "off"),
        ("QuicAllowed", "false"),
        ("ProxyMode", "fixed_servers"),
        ("ProxyServer", f"127.0.0.1:{port}"),
        ("IncognitoModeAvailability", "1"),
        ("BrowserGuestModeEnabled", "false"),
    ):
        assert name in lines, text[:3000]
        # name, value, source, scope, level, status: applied ("OK"), not ignored with an error.
        # ProxyMode and ProxyServer read "Deprecated" (Chromium prefers ProxySettings now) and
        # are still applied: the proxy test above shows it.
        row = lines[lines.index(name) : lines.index(name) + 6]
        assert row[1] == value and row[4] == "Mandatory", row
        assert row[5] in {"OK", "Deprecated"}, row
