"""The Windows browser policies are a plan: the exact `reg add` / `reg delete` commands."""

from __future__ import annotations

from abhaya.installer.browsers.windows import BrowsersWindows
from abhaya.installer.settings import InstallSettings, TargetOS
from abhaya.installer.steps import RunCommand
from tests.installer.conftest import concern_plan

CHROME = "HKLM\\SOFTWARE\\Policies\\Google\\Chrome"
EDGE = "HKLM\\SOFTWARE\\Policies\\Microsoft\\Edge"
FIREFOX = "HKLM\\SOFTWARE\\Policies\\Mozilla\\Firefox"


def commands(private_browsing: bool) -> dict[tuple[str, str], RunCommand]:
    settings = InstallSettings(TargetOS.WINDOWS, ("abhaya",), private_browsing=private_browsing)
    plan = concern_plan(BrowsersWindows(), settings)
    plan.check_keys()
    steps = [s for s in plan.steps if isinstance(s, RunCommand) and s.name.startswith("reg:")]
    return {(s.argv[2], s.argv[4]): s for s in steps}


def added(step: RunCommand) -> tuple[str, str]:
    """(type, data) of a `reg add KEY /v NAME /t TYPE /d DATA /f`."""
    assert step.argv[0:2] == ("reg", "add") and step.argv[3] == "/v"
    assert step.argv[5] == "/t" and step.argv[7] == "/d" and step.argv[9] == "/f"
    return step.argv[6], step.argv[8]


def test_chrome_and_edge_values() -> None:
    steps = commands(private_browsing=False)
    for key, private in (
        (CHROME, "IncognitoModeAvailability"),
        (EDGE, "InPrivateModeAvailability"),
    ):
        assert added(steps[key, "DnsOverHttpsMode"]) == ("REG_SZ", "off")
        assert added(steps[key, "QuicAllowed"]) == ("REG_DWORD", "0")
        assert added(steps[key, "ProxyMode"]) == ("REG_SZ", "fixed_servers")
        assert added(steps[key, "ProxyServer"]) == ("REG_SZ", "127.0.0.1:8080")
        assert added(steps[key, "ProxyBypassList"]) == (
            "REG_SZ",
            "<-loopback>;localhost;*.localhost;127.0.0.1/8;[::1]",
        )
        assert added(steps[key, private]) == ("REG_DWORD", "1")
        assert added(steps[key, "BrowserGuestModeEnabled"]) == ("REG_DWORD", "0")
    assert (EDGE, "IncognitoModeAvailability") not in steps  # Edge's name is InPrivate...


def test_firefox_values_in_the_gpo_form() -> None:
    steps = commands(private_browsing=False)
    assert added(steps[f"{FIREFOX}\\DNSOverHTTPS", "Enabled"]) == ("REG_DWORD", "0")
    assert added(steps[f"{FIREFOX}\\DNSOverHTTPS", "Locked"]) == ("REG_DWORD", "1")
    assert added(steps[f"{FIREFOX}\\Proxy", "Mode"]) == ("REG_SZ", "manual")
    assert added(steps[f"{FIREFOX}\\Proxy", "Locked"]) == ("REG_DWORD", "1")
    assert added(steps[f"{FIREFOX}\\Proxy", "HTTPProxy"]) == ("REG_SZ", "127.0.0.1:8080")
    assert added(steps[f"{FIREFOX}\\Proxy", "UseHTTPProxyForAllProtocols"]) == ("REG_DWORD", "1")
    assert added(steps[f"{FIREFOX}\\Certificates", "ImportEnterpriseRoots"]) == ("REG_DWORD", "1")
    assert added(steps[FIREFOX, "DisablePrivateBrowsing"]) == ("REG_DWORD", "1")


def test_every_value_is_deleted_on_uninstall() -> None:
    for (key, name), step in commands(private_browsing=False).items():
        assert step.undo_argv == ("reg", "delete", key, "/v", name, "/f")
        assert step.undone_if is not None and f'"{key}" /v {name}' in step.undone_if[-1]


def test_private_windows_stay_when_the_profile_allows_them() -> None:
    names = {name for _, name in commands(private_browsing=True)}
    assert not names & {
        "IncognitoModeAvailability",
        "InPrivateModeAvailability",
        "BrowserGuestModeEnabled",
        "DisablePrivateBrowsing",
    }
