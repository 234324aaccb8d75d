"""Routing that fails closed on Windows (a plan: commands only, tested as a plan).

Windows Firewall lets a block rule win over any allow rule, so "everyone but the agent" cannot
be an allow rule for the agent next to a block rule for everyone.  Two designs would block:
turning the default outbound action to Block (every other program on the machine then needs an
allow rule of its own: too much breaks), or one block rule whose user condition (`-LocalUser`,
an SDDL security descriptor) applies it to everyone except some accounts.  This plan uses the
second: the descriptor denies the exempt accounts (the agent's service account, SYSTEM, the
built-in service accounts, the parents) and allows Everyone, so the block applies to every
other account: a child's direct TCP 80/443/853 and UDP 443/853.  The SIDs are looked up by the
script when it runs, so accounts are named, not numbered, in the plan.

Limits: the agent runs as SYSTEM (the service concern's choice), so everything else that runs
as SYSTEM (Windows Update, Defender) is exempt too, like the system services below uid 1000 on
Linux; the machine-wide proxy setting also applies to the parents' accounts; the rules live in
the firewall's persistent store and stay across reboots with no boot task.
"""

from __future__ import annotations

from dataclasses import dataclass

from abhaya.installer.base import Check
from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import RunCommand, Step

GROUP = "Abhaya"
SYSTEM_SIDS = ("S-1-5-18", "S-1-5-19", "S-1-5-20")
"""SYSTEM (the agent's service), LocalService, NetworkService."""
INTERNET_SETTINGS = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings"
PER_MACHINE_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\Windows\CurrentVersion\Internet Settings"
LOCK_POLICY = r"HKLM\SOFTWARE\Policies\Microsoft\Internet Explorer\Control Panel"
BYPASS = "<local>;localhost;127.0.0.1;[::1]"


def powershell(script: str) -> tuple[str, ...]:
    return ("powershell.exe", "-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass",
            "-Command", script)  # fmt: skip


def firewall_script(exempt_accounts: tuple[str, ...]) -> str:
    """New-NetFirewallRule twice (TCP, UDP) with the SDDL built from the exempt accounts."""
    names = ", ".join(f"'{name}'" for name in exempt_accounts)
    system = "".join(f"(D;;CC;;;{sid})" for sid in SYSTEM_SIDS)
    return (
        "$ErrorActionPreference = 'Stop'; "
        f"Remove-NetFirewallRule -Group '{GROUP}' -ErrorAction SilentlyContinue; "
        f"$deny = '{system}'; "
        f"foreach ($name in @({names})) {{ "
        "$sid = (New-Object System.Security.Principal.NTAccount($name))"
        ".Translate([System.Security.Principal.SecurityIdentifier]).Value; "
        '$deny += "(D;;CC;;;$sid)" }; '
        '$sddl = "O:LSD:$deny(A;;CC;;;WD)"; '
        f"New-NetFirewallRule -Group '{GROUP}' -Name 'Abhaya-web-tcp' "
        "-DisplayName 'Abhaya: web only through the filtering agent (TCP)' "
        "-Direction Outbound -Action Block -Protocol TCP -RemotePort 80,443,853 "
        "-LocalUser $sddl -Profile Any | Out-Null; "
        f"New-NetFirewallRule -Group '{GROUP}' -Name 'Abhaya-web-udp' "
        "-DisplayName 'Abhaya: no QUIC, browsers fall back to TCP (UDP)' "
        "-Direction Outbound -Action Block -Protocol UDP -RemotePort 443,853 "
        "-LocalUser $sddl -Profile Any | Out-Null"
    )


@dataclass(frozen=True, slots=True)
class RoutingWindows:
    title: str = "Web traffic only through the agent"

    def steps(self, settings: InstallSettings) -> list[Step]:
        proxy = settings.proxy_address
        exempt = settings.unfiltered_accounts
        return [
            RunCommand(
                "windows-firewall",
                powershell(firewall_script(exempt)),
                "Block direct web traffic (TCP 80, 443, 853; UDP 443, 853) of every account "
                "except SYSTEM (the agent), the built-in service accounts and the unfiltered "
                "accounts, with Windows Firewall",
                undo_argv=powershell(
                    f"Remove-NetFirewallRule -Group '{GROUP}' -ErrorAction SilentlyContinue"
                ),
            ),
            RunCommand(
                "winhttp-proxy",
                (
                    "netsh",
                    "winhttp",
                    "set",
                    "proxy",
                    f"proxy-server={proxy}",
                    f"bypass-list={BYPASS}",
                ),  # fmt: skip
                "Send the system's own HTTP clients (WinHTTP) through the agent",
                undo_argv=("netsh", "winhttp", "reset", "proxy"),
            ),
            RunCommand(
                "proxy-per-machine",
                (
                    "reg",
                    "add",
                    PER_MACHINE_POLICY,
                    "/v",
                    "ProxySettingsPerUser",
                    "/t",
                    "REG_DWORD",
                    "/d",
                    "0",
                    "/f",
                ),  # fmt: skip
                "Make the proxy setting one for the whole machine (not each account's own)",
                undo_argv=(
                    "reg",
                    "delete",
                    PER_MACHINE_POLICY,
                    "/v",
                    "ProxySettingsPerUser",
                    "/f",
                ),  # fmt: skip
            ),
            *[
                RunCommand(
                    f"proxy-{name.lower()}",
                    ("reg", "add", INTERNET_SETTINGS, "/v", name, "/t", kind, "/d", value, "/f"),
                    f"Set the machine's proxy setting {name} (browsers and apps follow it)",
                    undo_argv=("reg", "delete", INTERNET_SETTINGS, "/v", name, "/f"),
                )
                for name, kind, value in (
                    ("ProxyEnable", "REG_DWORD", "1"),
                    ("ProxyServer", "REG_SZ", proxy),
                    ("ProxyOverride", "REG_SZ", BYPASS),
                )
            ],
            RunCommand(
                "proxy-lock",
                ("reg", "add", LOCK_POLICY, "/v", "Proxy", "/t", "REG_DWORD", "/d", "1", "/f"),
                "Stop accounts from changing the proxy setting",
                undo_argv=("reg", "delete", LOCK_POLICY, "/v", "Proxy", "/f"),
            ),
        ]

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        return []
