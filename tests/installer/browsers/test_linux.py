"""The Linux browser-policy concern applied to a scratch root through the real plan machinery:
the exact values each browser gets, the doctor's checks, and an uninstall that leaves the
root as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from abhaya.installer.backend import Backend
from abhaya.installer.browsers.linux import CHROMIUM_BROWSERS, FIREFOX_POLICIES, BrowsersLinux
from abhaya.installer.host import Host
from abhaya.installer.plan import apply_plan, uninstall
from abhaya.installer.registry import STEP_CLASSES
from abhaya.installer.settings import TargetOS
from tests.installer.browsers.conftest import settings, snapshot

BYPASS = "<-loopback>;localhost;*.localhost;127.0.0.1/8;[::1]"


def install(host: Host, *, private_browsing: bool = True) -> None:
    backend = Backend(TargetOS.LINUX, (BrowsersLinux(),))
    apply_plan(backend.plan(settings(private_browsing=private_browsing)), host)


def read(host: Host, path: str) -> object:
    return json.loads(host.path(path).read_text(encoding="utf-8"))


@pytest.mark.parametrize("private_browsing", [True, False])
def test_chromium_family_gets_exact_values(host: Host, private_browsing: bool) -> None:
    install(host, private_browsing=private_browsing)
    base = {
        "DnsOverHttpsMode": "off",
        "QuicAllowed": False,
        "ProxyMode": "fixed_servers",
        "ProxyServer": "127.0.0.1:8080",
        "ProxyBypassList": BYPASS,
    }
    private = {"BrowserGuestModeEnabled": False}
    assert read(host, "/etc/opt/chrome/policies/managed/abhaya.json") == (
        base if private_browsing else {**base, **private, "IncognitoModeAvailability": 1}
    )
    assert read(host, "/etc/chromium/policies/managed/abhaya.json") == (
        base if private_browsing else {**base, **private, "IncognitoModeAvailability": 1}
    )
    assert read(host, "/etc/opt/edge/policies/managed/abhaya.json") == (
        base if private_browsing else {**base, **private, "InPrivateModeAvailability": 1}
    )
    mode = host.path("/etc/chromium/policies/managed/abhaya.json").stat().st_mode & 0o777
    assert mode == 0o644  # readable by the browser, writable by root only


@pytest.mark.parametrize("private_browsing", [True, False])
def test_firefox_gets_exact_values(host: Host, private_browsing: bool) -> None:
    install(host, private_browsing=private_browsing)
    policies = {
        "DNSOverHTTPS": {"Enabled": False, "Locked": True},
        "Proxy": {
            "Mode": "manual",
            "Locked": True,
            "HTTPProxy": "127.0.0.1:8080",
            "UseHTTPProxyForAllProtocols": True,
            "SSLProxy": "127.0.0.1:8080",
            "Passthrough": "localhost, 127.0.0.1, [::1]",
        },
        # The world-readable copy the CA concern writes, not the agent's 0700 data folder.
        "Certificates": {"Install": ["/usr/local/share/ca-certificates/abhaya-ca.crt"]},
    }
    if not private_browsing:
        policies["DisablePrivateBrowsing"] = True
    assert read(host, str(FIREFOX_POLICIES)) == {"policies": policies}


def test_uninstall_leaves_the_root_as_it_was(host: Host) -> None:
    # A machine with Chromium's folder already there and a school's Firefox policies.
    (host.root / "etc/chromium").mkdir()
    (host.root / "etc/chromium/master_preferences").write_text("{}\n")
    school = host.root / "etc/firefox/policies/policies.json"
    school.parent.mkdir(parents=True)
    school.write_bytes(b'{"policies": {"BlockAboutConfig": true}}')
    before = snapshot(host.root)
    install(host, private_browsing=False)
    assert snapshot(host.root) != before
    outcome = uninstall(host)
    assert outcome.failed == []
    assert snapshot(host.root) == before


def test_install_twice_is_install_once(host: Host) -> None:
    install(host, private_browsing=False)
    once = snapshot(host.root)
    install(host, private_browsing=False)
    assert snapshot(host.root) == once


def test_a_changed_profile_takes_back_what_it_no_longer_asks(host: Host) -> None:
    install(host, private_browsing=False)
    install(host, private_browsing=True)
    firefox = read(host, str(FIREFOX_POLICIES))
    assert isinstance(firefox, dict)
    assert "DisablePrivateBrowsing" not in firefox["policies"]
    chrome = read(host, "/etc/opt/chrome/policies/managed/abhaya.json")
    assert isinstance(chrome, dict)
    assert "IncognitoModeAvailability" not in chrome


def test_checks_pass_after_install_and_say_what_to_fix(host: Host) -> None:
    concern = BrowsersLinux()
    wanted = settings(private_browsing=False)
    before = concern.checks(wanted, host)
    assert len(before) == len(CHROMIUM_BROWSERS) + 1
    assert not any(check.ok for check in before)
    assert all("missing" in check.detail and "abhaya install" in check.fix for check in before)

    install(host, private_browsing=False)
    assert all(check.ok for check in concern.checks(wanted, host))
    # A profile that now turns private windows off is not what was installed.
    assert not any(check.ok for check in concern.checks(settings(), host)[:3])


def test_checks_find_a_tampered_file_and_a_clashing_one(host: Host) -> None:
    install(host)
    concern = BrowsersLinux()
    chromium = host.path("/etc/chromium/policies/managed/abhaya.json")
    chromium.write_text('{"DnsOverHttpsMode": "secure"}')
    edge_other = host.path("/etc/opt/edge/policies/managed/school.json")
    edge_other.write_text('{"QuicAllowed": true, "HomepageLocation": "https://school.example"}')
    firefox = host.path(str(FIREFOX_POLICIES))
    firefox.write_text('{"policies": {"DNSOverHTTPS": {"Enabled": true}}}')
    chrome, chromium_check, edge, firefox_check = concern.checks(settings(), host)
    assert chrome.ok
    assert not chromium_check.ok and "does not hold" in chromium_check.detail
    assert not edge.ok and "school.json also sets QuicAllowed" in edge.detail
    assert "remove those settings" in edge.fix
    assert not firefox_check.ok and "DNSOverHTTPS" in firefox_check.detail


def test_the_merge_step_can_be_undone_from_the_journal_alone() -> None:
    assert "policies-json" in {step.kind for step in STEP_CLASSES}


def test_nothing_is_written_outside_the_root(host: Host, tmp_path: Path) -> None:
    install(host)
    outside = {p.name for p in tmp_path.iterdir()}
    assert outside == {"root"}
