"""The macOS browser policies are a plan: managed plists for Chrome and Edge, `defaults write`
of Firefox's flattened keys."""

from __future__ import annotations

import plistlib
from pathlib import PurePosixPath

from abhaya.installer.browsers.macos import BrowsersMacos
from abhaya.installer.settings import InstallSettings, TargetOS
from abhaya.installer.steps import RunCommand, WriteFile
from tests.installer.conftest import concern_plan

DOMAIN = "/Library/Preferences/org.mozilla.firefox"


def plan_steps(private_browsing: bool) -> tuple[dict[str, WriteFile], dict[str, RunCommand]]:
    settings = InstallSettings(TargetOS.MACOS, ("abhaya",), private_browsing=private_browsing)
    plan = concern_plan(BrowsersMacos(), settings)
    plan.check_keys()
    files = {str(s.path): s for s in plan.steps if isinstance(s, WriteFile)}
    commands = {s.argv[3]: s for s in plan.steps if isinstance(s, RunCommand)}
    return files, commands


def test_chrome_and_edge_get_managed_plists() -> None:
    files, _ = plan_steps(private_browsing=False)
    assert set(files) == {
        "/Library/Managed Preferences/com.google.Chrome.plist",
        "/Library/Managed Preferences/com.microsoft.Edge.plist",
    }
    base = {
        "DnsOverHttpsMode": "off",
        "QuicAllowed": False,
        "ProxyMode": "fixed_servers",
        "ProxyServer": "127.0.0.1:8080",
        "ProxyBypassList": "<-loopback>;localhost;*.localhost;127.0.0.1/8;[::1]",
        "BrowserGuestModeEnabled": False,
    }
    chrome = plistlib.loads(files["/Library/Managed Preferences/com.google.Chrome.plist"].content)
    assert chrome == {**base, "IncognitoModeAvailability": 1}
    edge = plistlib.loads(files["/Library/Managed Preferences/com.microsoft.Edge.plist"].content)
    assert edge == {**base, "InPrivateModeAvailability": 1}
    assert all(
        f.path.parent == PurePosixPath("/Library/Managed Preferences") for f in files.values()
    )


def test_firefox_defaults_are_enabled_and_flattened() -> None:
    _, commands = plan_steps(private_browsing=False)
    written = {key: step.argv[4:] for key, step in commands.items()}
    assert written == {
        "EnterprisePoliciesEnabled": ("-bool", "TRUE"),
        "DNSOverHTTPS__Enabled": ("-bool", "FALSE"),
        "DNSOverHTTPS__Locked": ("-bool", "TRUE"),
        "Proxy__Mode": ("-string", "manual"),
        "Proxy__Locked": ("-bool", "TRUE"),
        "Proxy__HTTPProxy": ("-string", "127.0.0.1:8080"),
        "Proxy__UseHTTPProxyForAllProtocols": ("-bool", "TRUE"),
        "Proxy__SSLProxy": ("-string", "127.0.0.1:8080"),
        "Proxy__Passthrough": ("-string", "localhost, 127.0.0.1, [::1]"),
        "Certificates__ImportEnterpriseRoots": ("-bool", "TRUE"),
        "DisablePrivateBrowsing": ("-bool", "TRUE"),
    }
    for key, step in commands.items():
        assert step.argv[:3] == ("defaults", "write", DOMAIN)
        assert step.undo_argv == ("defaults", "delete", DOMAIN, key)
    # EnterprisePoliciesEnabled comes first: Firefox ignores the rest without it.
    assert next(iter(commands)) == "EnterprisePoliciesEnabled"


def test_private_browsing_allowed_writes_no_private_keys() -> None:
    files, commands = plan_steps(private_browsing=True)
    assert "DisablePrivateBrowsing" not in commands
    chrome = plistlib.loads(files["/Library/Managed Preferences/com.google.Chrome.plist"].content)
    assert "IncognitoModeAvailability" not in chrome and "BrowserGuestModeEnabled" not in chrome
