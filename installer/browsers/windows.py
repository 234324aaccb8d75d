"""Browser policies on Windows, as a plan: registry values under HKLM\\SOFTWARE\\Policies, the
place each vendor's Group Policy templates write, set with `reg add` and taken back with
`reg delete`.

Checked against the vendors' documentation:
- Chrome: HKLM\\SOFTWARE\\Policies\\Google\\Chrome, REG_SZ for strings, REG_DWORD for booleans
  and numbers (Chrome Enterprise policy list, "Windows registry location").
- Edge: HKLM\\SOFTWARE\\Policies\\Microsoft\\Edge ("Registry settings: Path (Mandatory):
  SOFTWARE\\Policies\\Microsoft\\Edge", learn.microsoft.com/deployedge); private windows are
  InPrivateModeAvailability.
- Firefox: the GPO form of policy-templates docs/index.md, one subkey per nested policy
  (Software\\Policies\\Mozilla\\Firefox\\Proxy\\Mode = "manual", ...\\DNSOverHTTPS\\Enabled =
  0x0).  The registry form is used rather than a distribution\\policies.json because it needs no
  install folder and does not touch a file the school may have.  The CA is trusted through
  Certificates\\ImportEnterpriseRoots (Firefox reads the Windows root store, where the CA concern
  puts the agent's CA with `certutil -addstore Root`), so no Windows path to a .crt is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from abhaya.installer.base import Check
from abhaya.installer.browsers.values import chromium_policies, firefox_policies
from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import JsonValue, RunCommand, Step

POLICIES = "HKLM\\SOFTWARE\\Policies"
CHROMIUM_KEYS = (
    ("Google Chrome", f"{POLICIES}\\Google\\Chrome", "IncognitoModeAvailability"),
    ("Microsoft Edge", f"{POLICIES}\\Microsoft\\Edge", "InPrivateModeAvailability"),
)
FIREFOX_KEY = f"{POLICIES}\\Mozilla\\Firefox"


@dataclass(frozen=True, slots=True)
class RegistryValue:
    key: str
    name: str
    kind: str
    """REG_SZ or REG_DWORD."""
    data: str


def registry_values(key: str, policies: dict[str, JsonValue]) -> list[RegistryValue]:
    """Policies as registry values: nested objects become subkeys, lists numbered values
    (Certificates\\Install\\1 = "..."), booleans DWORD 1/0."""
    values: list[RegistryValue] = []
    for name, value in policies.items():
        if isinstance(value, dict):
            values += registry_values(f"{key}\\{name}", value)
        elif isinstance(value, list):
            items = {str(n): item for n, item in enumerate(value, start=1)}
            values += registry_values(f"{key}\\{name}", items)
        elif isinstance(value, bool):
            values.append(RegistryValue(key, name, "REG_DWORD", "1" if value else "0"))
        elif isinstance(value, int):
            values.append(RegistryValue(key, name, "REG_DWORD", str(value)))
        else:
            values.append(RegistryValue(key, name, "REG_SZ", str(value)))
    return values


def reg_step(browser: str, value: RegistryValue) -> RunCommand:
    query = f'reg query "{value.key}" /v {value.name} >nul 2>&1 && exit /b 1 || exit /b 0'
    return RunCommand(
        f"reg:{value.key}\\{value.name}",
        ("reg", "add", value.key, "/v", value.name, "/t", value.kind, "/d", value.data, "/f"),
        f"Set {browser}'s policy {value.name}",
        undo_argv=("reg", "delete", value.key, "/v", value.name, "/f"),
        undone_if=("cmd", "/c", query),
    )


@dataclass(frozen=True, slots=True)
class BrowsersWindows:
    title: str = "Browser policies: no DNS-over-HTTPS or QUIC around the agent, its proxy fixed"

    def steps(self, settings: InstallSettings) -> list[Step]:
        steps: list[Step] = []
        for browser, key, private_key in CHROMIUM_KEYS:
            policies = chromium_policies(settings, private_key)
            steps += [reg_step(browser, value) for value in registry_values(key, policies)]
        firefox = firefox_policies(settings, {"ImportEnterpriseRoots": True})
        steps += [reg_step("Firefox", value) for value in registry_values(FIREFOX_KEY, firefox)]
        return steps

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        return []
