"""Browser policies on macOS, as a plan.

What each browser reads without an MDM server (checked against their sources and docs):
- Chrome and Edge read policies from the preference domains com.google.Chrome and
  com.microsoft.Edge, and treat a value as MANDATORY only when macOS reports it as forced, that
  is when it comes from /Library/Managed Preferences (Chromium's policy_loader_mac.mm:
  `forced ? POLICY_LEVEL_MANDATORY : POLICY_LEVEL_RECOMMENDED`).  A plain `defaults write` is
  only a recommendation the child could change, so the plan writes the managed plists
  themselves.  Caveat: macOS regenerates /Library/Managed Preferences from installed
  configuration profiles, so on a Mac that also has an MDM or a profile for these domains the
  files can be replaced; a signed configuration profile is the sturdier form there.
- Firefox reads org.mozilla.firefox once EnterprisePoliciesEnabled is set, from any level,
  including `sudo defaults write /Library/Preferences/org.mozilla.firefox ...` with nested keys
  flattened by "__" (policy-templates mac/README.md).  Its CA comes from the System keychain
  (where the CA concern adds it with `security add-trusted-cert`) through
  Certificates.ImportEnterpriseRoots, supported on macOS since Firefox 63 (docs/index.md).
"""

from __future__ import annotations

import plistlib
from dataclasses import dataclass
from pathlib import PurePosixPath

from abhaya.installer.base import Check
from abhaya.installer.browsers.values import chromium_policies, firefox_policies
from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import Argv, JsonValue, RunCommand, Step, WriteFile

MANAGED = PurePosixPath("/Library/Managed Preferences")
CHROMIUM_DOMAINS = (
    ("Google Chrome", "com.google.Chrome", "IncognitoModeAvailability"),
    ("Microsoft Edge", "com.microsoft.Edge", "InPrivateModeAvailability"),
)
FIREFOX_DOMAIN = "/Library/Preferences/org.mozilla.firefox"


def defaults_values(policies: dict[str, JsonValue], prefix: str = "") -> list[tuple[str, Argv]]:
    """(key, typed value arguments) for `defaults write`, nested keys joined with "__"."""
    values: list[tuple[str, Argv]] = []
    for name, value in policies.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            values += defaults_values(value, f"{key}__")
        elif isinstance(value, list):
            values.append((key, ("-array", *(str(item) for item in value))))
        elif isinstance(value, bool):
            values.append((key, ("-bool", "TRUE" if value else "FALSE")))
        elif isinstance(value, int):
            values.append((key, ("-int", str(value))))
        else:
            values.append((key, ("-string", str(value))))
    return values


def defaults_step(key: str, typed: Argv) -> RunCommand:
    return RunCommand(
        f"defaults:{FIREFOX_DOMAIN}:{key}",
        ("defaults", "write", FIREFOX_DOMAIN, key, *typed),
        f"Set Firefox's policy {key}",
        undo_argv=("defaults", "delete", FIREFOX_DOMAIN, key),
        undone_if=("/bin/sh", "-c", f"! defaults read {FIREFOX_DOMAIN} {key} >/dev/null 2>&1"),
    )


@dataclass(frozen=True, slots=True)
class BrowsersMacos:
    title: str = "Browser policies: no DNS-over-HTTPS or QUIC around the agent, its proxy fixed"

    def steps(self, settings: InstallSettings) -> list[Step]:
        steps: list[Step] = []
        for browser, domain, private_key in CHROMIUM_DOMAINS:
            policies = chromium_policies(settings, private_key)
            steps.append(
                WriteFile(
                    MANAGED / f"{domain}.plist",
                    plistlib.dumps(policies, fmt=plistlib.FMT_XML, sort_keys=False),
                    f"Give {browser} Abhaya's policies as managed (mandatory) preferences",
                )
            )
        firefox = firefox_policies(settings, {"ImportEnterpriseRoots": True})
        enabled: list[tuple[str, Argv]] = [("EnterprisePoliciesEnabled", ("-bool", "TRUE"))]
        steps += [defaults_step(key, typed) for key, typed in enabled + defaults_values(firefox)]
        return steps

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        return []
