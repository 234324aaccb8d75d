"""Browser policies on Linux: a file of Abhaya's own in each Chromium-family managed folder, and
Abhaya's keys merged into Firefox's one system policies file.

Where each browser looks (checked against the vendors' documentation):
- Chrome: /etc/opt/chrome/policies/managed/, Chromium: /etc/chromium/policies/managed/
  (Chromium docs/enterprise/policies.md: "All files inside these directories are treated as JSON
  files containing policies" -- so Abhaya adds abhaya.json and never edits another file).
- Edge: /etc/opt/edge/policies/managed/ (the Linux layout Edge shares with Chrome; Microsoft's
  Linux policy guide and admins' published setups use it).
- Firefox: /etc/firefox/policies/policies.json (policy-templates README: "system-wide policy by
  placing the file in /etc/firefox/policies").  Firefox finds it through its "SysConfD" folder,
  /etc/ plus the application's name, which is "firefox" for Mozilla's builds, Debian's
  firefox-esr and Ubuntu's Firefox (the snap reads the same path through its system-files plug),
  so one file covers all three.  Flatpak builds do not see the host's /etc and are not covered.

The folders are written for every browser, installed or not: they cost nothing, a browser the
parents install later is covered from its first start, and the plan (and the dry run) does not
depend on what happens to be installed on the day.  Folders the install made are removed on
uninstall if they are empty by then.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import PurePosixPath

from abhaya.installer.base import Check
from abhaya.installer.browsers.mergejson import MergePolicies
from abhaya.installer.browsers.values import chromium_policies, firefox_policies
from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import JsonValue, MakeDir, Step, WriteFile

POLICY_FILE = "abhaya.json"


@dataclass(frozen=True, slots=True)
class ChromiumFamily:
    name: str
    managed: PurePosixPath
    private_key: str
    """The browser's name for its private-window policy."""


INCOGNITO = "IncognitoModeAvailability"
INPRIVATE = "InPrivateModeAvailability"
CHROMIUM_BROWSERS = (
    ChromiumFamily("Google Chrome", PurePosixPath("/etc/opt/chrome/policies/managed"), INCOGNITO),
    ChromiumFamily("Chromium", PurePosixPath("/etc/chromium/policies/managed"), INCOGNITO),
    ChromiumFamily("Microsoft Edge", PurePosixPath("/etc/opt/edge/policies/managed"), INPRIVATE),
)
FIREFOX_POLICIES = PurePosixPath("/etc/firefox/policies/policies.json")


def chromium_file(browser: ChromiumFamily) -> PurePosixPath:
    return browser.managed / POLICY_FILE


def chromium_content(settings: InstallSettings, browser: ChromiumFamily) -> bytes:
    values = chromium_policies(settings, browser.private_key)
    return (json.dumps(values, indent=2) + "\n").encode("utf-8")


def firefox_values(settings: InstallSettings) -> dict[str, JsonValue]:
    return firefox_policies(settings, {"Install": [str(settings.public_ca_path)]})


def _folders(paths: list[PurePosixPath]) -> list[PurePosixPath]:
    """Every folder below /etc that the files need, parents first, each once."""
    wanted: list[PurePosixPath] = []
    for path in paths:
        for folder in reversed(path.parents):
            if len(folder.parts) > 2 and folder not in wanted:  # not / nor /etc
                wanted.append(folder)
    return wanted


@dataclass(frozen=True, slots=True)
class BrowsersLinux:
    title: str = "Browser policies: no DNS-over-HTTPS or QUIC around the agent, its proxy fixed"

    def steps(self, settings: InstallSettings) -> list[Step]:
        files = [chromium_file(b) for b in CHROMIUM_BROWSERS] + [FIREFOX_POLICIES]
        steps: list[Step] = [
            MakeDir(folder, "Make the browsers' managed-policy folder (removed on uninstall if "
                    "the install made it)")
            for folder in _folders(files)
        ]  # fmt: skip
        for browser in CHROMIUM_BROWSERS:
            steps.append(
                WriteFile(
                    chromium_file(browser),
                    chromium_content(settings, browser),
                    f"Give {browser.name} Abhaya's policies in a file of their own (the browser "
                    "merges every file in this folder)",
                )
            )
        steps.append(
            MergePolicies(
                FIREFOX_POLICIES,
                firefox_values(settings),
                "Add Abhaya's policies to Firefox's system policies file (keeping any the "
                "school or parents set)",
            )
        )
        return steps

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        checks = [_chromium_check(settings, host, b) for b in CHROMIUM_BROWSERS]
        return [*checks, _firefox_check(settings, host)]


def _read_json(host: Host, path: PurePosixPath) -> tuple[object, str]:
    """The parsed file, or None and what is wrong with it."""
    try:
        return json.loads(host.path(path).read_text(encoding="utf-8")), ""
    except FileNotFoundError:
        return None, f"{path} is missing"
    except (OSError, UnicodeDecodeError, ValueError) as err:
        return None, f"{path} cannot be read as JSON: {err}"


def _chromium_check(settings: InstallSettings, host: Host, browser: ChromiumFamily) -> Check:
    name = f"{browser.name} has Abhaya's policies"
    fix = "run `sudo abhaya install` again"
    wanted = chromium_policies(settings, browser.private_key)
    found, problem = _read_json(host, chromium_file(browser))
    if found is None:
        return Check(name, False, problem, fix)
    if found != wanted:
        return Check(name, False, f"{chromium_file(browser)} does not hold Abhaya's values", fix)
    # Chrome's Linux quick start: "Be careful not to set the same policy in more than one file.
    # If you do, it's unclear which of the values you specify will be applied."
    folder = host.path(browser.managed)
    for other in sorted(folder.glob("*")):
        if other.name == POLICY_FILE or not other.is_file():
            continue
        theirs, _ = _read_json(host, browser.managed / other.name)
        if not isinstance(theirs, dict):
            continue
        clashing = sorted(k for k in wanted if k in theirs and theirs[k] != wanted[k])
        if clashing:
            return Check(
                name,
                False,
                f"{browser.managed / other.name} also sets {', '.join(clashing)} to other values",
                f"remove those settings from {browser.managed / other.name}: the browser may "
                "apply either file's value",
            )
    return Check(name, True, str(chromium_file(browser)))


def _firefox_check(settings: InstallSettings, host: Host) -> Check:
    name = "Firefox has Abhaya's policies"
    fix = "run `sudo abhaya install` again"
    found, problem = _read_json(host, FIREFOX_POLICIES)
    if found is None:
        return Check(name, False, problem, fix)
    policies = found.get("policies") if isinstance(found, dict) else None
    if not isinstance(policies, dict):
        return Check(name, False, f'{FIREFOX_POLICIES} has no "policies" object', fix)
    wrong = []
    for key, value in firefox_values(settings).items():
        have = policies.get(key)
        if key == "Certificates":
            install = have.get("Install") if isinstance(have, dict) else None
            if not isinstance(install, list) or str(settings.public_ca_path) not in install:
                wrong.append(key)
        elif have != value:
            wrong.append(key)
    if wrong:
        return Check(name, False, f"{FIREFOX_POLICIES} lacks Abhaya's {', '.join(wrong)}", fix)
    return Check(name, True, str(FIREFOX_POLICIES))
