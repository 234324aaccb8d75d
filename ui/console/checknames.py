"""The names of `abhaya doctor`'s checks in the console's language.

The installer names each check in English words (installer/*/linux.py: "the system trusts the
CA"), some with a value in them (an account, a browser, a path, an address), and saves them
for the dashboard (installer/checkfile.py).  The installer stays English, for the IT person at
a terminal; the console gives each known name its words from the `[checks]` table of its
locale, with the value carried over.  The English table repeats the installer's own words
(a test runs the real checks and holds them equal), and a name this table does not know (a
newer installer's) is shown as it is, never hidden.
"""

from __future__ import annotations

import re

from abhaya.ui.console.texts import Texts

SYSTEM_TRUST = "the system trusts the CA"
"""The check the agent's own status also answers (`ca.system_trusted`)."""

_NAMES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"the CA's key is in place", "ca_key"),
        (r"the CA's key is readable by the agent's account only", "ca_key_private"),
        (r"the agent's CA certificate is in place", "ca_cert"),
        (r"the CA's public copy is in place", "ca_copy"),
        (r"the CA's public copy is the agent's certificate", "ca_copy_same"),
        (re.escape(SYSTEM_TRUST), "system_trust"),
        (r"new accounts' Chromium and Chrome trust the CA", "nss_new"),
        (r"(?P<account>.+)'s Chromium and Chrome trust the CA", "nss_account"),
        (r"(?P<browser>.+) has Abhaya's policies", "browser_policies"),
        (r"the service's unit (?P<path>.+) is as the install wrote it", "unit"),
        (r"systemd runs this computer's services", "systemd"),
        (r"the service is enabled", "service_enabled"),
        (r"the service is active", "service_active"),
        (r"the agent's proxy answers on (?P<address>.+)", "proxy_answers"),
        (r"direct web traffic of filtered accounts is refused \(nftables\)", "nft_rules"),
        (r"the rules are loaded at every boot", "boot_rules"),
        (r"programs are told to use the agent as their proxy", "programs_proxy"),
        (r"GNOME reads the locked proxy setting", "gnome_proxy"),
        (r"the checks could run", "checks_ran"),
    )
)


def check_name(name: str, texts: Texts) -> str:
    """`name` in the console's words; as it is when it is not one the console knows."""
    for pattern, key in _NAMES:
        found = pattern.fullmatch(name)
        if found is not None:
            return texts(f"checks.{key}", **found.groupdict())
    return name
