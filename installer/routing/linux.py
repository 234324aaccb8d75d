"""Routing that fails closed on Linux: the system proxy settings point at the agent, and an
nftables table refuses every filtered account's direct web traffic (IPv4 and IPv6), loaded now
and at every boot.

The agent is a regular proxy (not transparent): it tells OS users apart by the owner of the
loopback client socket, which a redirect would hide.  So programs are told to use the proxy
(environment, GNOME), and the firewall makes that the only way out for web ports.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field

from abhaya.installer.base import Check
from abhaya.installer.host import Host
from abhaya.installer.routing import gnome
from abhaya.installer.routing.bootunit import (
    UNIT_NAME,
    UNIT_PATH,
    EnableUnit,
    unit_enabled,
    unit_text,
)
from abhaya.installer.routing.nft import TABLE, FilterRules, table_present
from abhaya.installer.routing.proxyenv import (
    GENERATOR_PATH,
    PROFILE_PATH,
    generator_script,
    profile_script,
)
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import MakeDir, Step, WriteFile


def _dconf_installed() -> bool:
    return shutil.which("dconf") is not None


@dataclass(frozen=True, slots=True)
class RoutingLinux:
    title: str = "Web traffic only through the agent"
    dconf_installed: Callable[[], bool] = field(default=_dconf_installed)
    """Whether GNOME's proxy setting is written (only where dconf is installed)."""

    def steps(self, settings: InstallSettings) -> list[Step]:
        rules = settings.config_dir / "routing.nft"
        exempt = (settings.service_user, *settings.unfiltered_accounts)
        proxy = settings.proxy_address
        human = settings.first_human_uid
        steps: list[Step] = [
            FilterRules(
                rules,
                settings.service_user,
                settings.unfiltered_accounts,
                human,
                proxy,
            ),
            WriteFile(
                UNIT_PATH,
                unit_text(rules).encode(),
                "Load the rules at boot, before any network is up (a stopped unit leaves them)",
            ),
            EnableUnit(UNIT_NAME),
            WriteFile(
                PROFILE_PATH,
                profile_script(proxy, exempt, human).encode(),
                "Tell login shells of filtered accounts to use the agent as their web proxy",
            ),
            MakeDir(
                GENERATOR_PATH.parent,
                "Make the folder for systemd user environment generators",
            ),
            WriteFile(
                GENERATOR_PATH,
                generator_script(proxy, exempt, human).encode(),
                "Tell the desktop sessions of filtered accounts to use the agent as their "
                "web proxy (systemd user environment generator)",
                mode=0o755,
            ),
        ]
        if self.dconf_installed():
            steps += [
                MakeDir(gnome.PROFILE.parent, "Make the folder for dconf profiles"),
                gnome.DconfProfile(),
                MakeDir(gnome.KEYFILE.parent, "Make the folder for the local dconf settings"),
                MakeDir(gnome.LOCKS.parent, "Make the folder for locked dconf settings"),
                gnome.GnomeProxy(settings.listen_host, settings.listen_port),
            ]
        return steps

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        table = " ".join(TABLE)
        enabled = unit_enabled(host, UNIT_NAME)
        found: list[Check] = [
            _rules_check(host, table, settings),
            Check(
                "the rules are loaded at every boot",
                enabled,
                "" if enabled else f"{UNIT_NAME} is not enabled",
                f"run `sudo systemctl enable {UNIT_NAME}`, or `sudo abhaya install` again",
            ),
        ]
        files = [PROFILE_PATH, GENERATOR_PATH]
        if self.dconf_installed():
            files += [gnome.KEYFILE, gnome.LOCKS]
        missing = [str(path) for path in files if not host.path(path).is_file()]
        found.append(
            Check(
                "programs are told to use the agent as their proxy",
                not missing,
                f"missing: {', '.join(missing)}" if missing else "",
                "run `sudo abhaya install` again",
            )
        )
        if self.dconf_installed():
            profile = host.path(gnome.PROFILE)
            text = profile.read_text() if profile.is_file() else ""
            found.append(
                Check(
                    "GNOME reads the locked proxy setting",
                    gnome.profile_names_local(text),
                    f"{gnome.PROFILE} does not name system-db:local",
                    f"add the line `system-db:local` to {gnome.PROFILE}, then log out and in",
                )
            )
        return found


def _rules_check(host: Host, table: str, settings: InstallSettings) -> Check:
    name = "direct web traffic of filtered accounts is refused (nftables)"
    fix = (
        f"run `sudo nft -f {settings.config_dir / 'routing.nft'}` (or `sudo systemctl restart "
        f"{UNIT_NAME}`); "
        "if it comes back missing, something flushes the firewall: see `sudo nft list ruleset`"
    )
    if not table_present(host):
        return Check(name, False, f"the table {table} is not loaded", fix)
    listed = host.run(("nft", "list", "table", *TABLE), check=False).stdout
    ok = "reject with tcp reset" in listed and "jump filtered" in listed
    return Check(name, ok, "" if ok else f"the table {table} lacks its rules", fix)
