"""What Abhaya asks of each browser, as the vendors name it; the same on every OS.

Every name and value here was checked against the vendor's own documentation:
- Chrome/Chromium: the Chrome Enterprise policy list (DnsOverHttpsMode "off" = "Disable
  DNS-over-HTTPS"; QuicAllowed; ProxyMode "fixed_servers" with ProxyServer and ProxyBypassList;
  IncognitoModeAvailability 1 = "Incognito mode disabled"; BrowserGuestModeEnabled).
- Microsoft Edge: learn.microsoft.com/deployedge/microsoft-edge-policies (DnsOverHttpsMode,
  QuicAllowed, the same proxy policies, BrowserGuestModeEnabled).  Edge names private windows
  differently: InPrivateModeAvailability, 1 = "InPrivate mode disabled".
- Firefox: mozilla/policy-templates docs/index.md (DNSOverHTTPS {Enabled, Locked}; Proxy {Mode
  "manual", Locked, HTTPProxy, UseHTTPProxyForAllProtocols, Passthrough}; Certificates {Install,
  ImportEnterpriseRoots}; DisablePrivateBrowsing).

The bypass list: Chromium never proxies loopback and link-local addresses by itself (its
"implicit bypass rules", net/docs/proxy.md: localhost, *.localhost, [::1], 127.0.0.1/8,
169.254/16, [FE80::]/10).  `<-loopback>` SUBTRACTS those rules, it does not add loopback; and
rules later in the list override earlier ones (proxy_bypass_rules.cc, the WinInet order).  So
"<-loopback>" first and the loopback names after it leaves exactly loopback direct, and sends
link-local addresses through the agent too.
"""

from __future__ import annotations

from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import JsonValue

CHROMIUM_BYPASS = "<-loopback>;localhost;*.localhost;127.0.0.1/8;[::1]"
FIREFOX_PASSTHROUGH = "localhost, 127.0.0.1, [::1]"
"""Firefox never proxies localhost anyway (network.proxy.allow_hijacking_localhost is off by
default); naming it keeps the agent's own pages reachable if that default ever changes."""


def chromium_policies(settings: InstallSettings, private_key: str) -> dict[str, JsonValue]:
    """Chrome's, Chromium's or Edge's mandatory policies.  `private_key` is the browser's name
    for its private-window policy (IncognitoModeAvailability, or Edge's
    InPrivateModeAvailability)."""
    values: dict[str, JsonValue] = {
        "DnsOverHttpsMode": "off",
        "QuicAllowed": False,
        "ProxyMode": "fixed_servers",
        "ProxyServer": settings.proxy_address,
        "ProxyBypassList": CHROMIUM_BYPASS,
    }
    if not settings.private_browsing:
        values[private_key] = 1
        values["BrowserGuestModeEnabled"] = False
    return values


def firefox_policies(settings: InstallSettings, certificates: JsonValue) -> dict[str, JsonValue]:
    """Firefox's policies (the content of policies.json's "policies").  `certificates` is the
    OS's way to trust the agent's CA: {"Install": [path]} on Linux (Firefox keeps its own trust
    store there), {"ImportEnterpriseRoots": true} where the OS store already trusts it."""
    values: dict[str, JsonValue] = {
        "DNSOverHTTPS": {"Enabled": False, "Locked": True},
        "Proxy": {
            "Mode": "manual",
            "Locked": True,
            "HTTPProxy": settings.proxy_address,
            "UseHTTPProxyForAllProtocols": True,
            "SSLProxy": settings.proxy_address,
            "Passthrough": FIREFOX_PASSTHROUGH,
        },
        "Certificates": certificates,
    }
    if not settings.private_browsing:
        values["DisablePrivateBrowsing"] = True
    return values
