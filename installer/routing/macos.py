"""Routing that fails closed on macOS (a plan: files and commands, tested as a plan).

pf matches the owner of the socket of an outgoing packet with `user`.  A list of negations
(`user { != a, != b }`) matches everyone (each item is tried on its own), so the anchor lets
the exempt accounts out first (`pass ... quick`) and then refuses the web ports to every
account from uid 501 up (macOS's first person account), like the Linux rules.  pf evaluates an
anchor only where the main ruleset names it, so a launch daemon loads, at every boot, a main
ruleset that includes the system's /etc/pf.conf (left unchanged) and names Abhaya's anchor,
and enables pf.  The system proxy is set for every network service with `networksetup`.

Limits: `networksetup` sets the proxy per network service as the services are at install
time (a new service, say a USB adapter, has none until `abhaya install` runs again); the
accounts can change it in System Settings, after which their web traffic stops (the rules stay).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from abhaya.installer.base import Check
from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import RunCommand, Step, WriteFile

FIRST_PERSON_UID = 501
ANCHOR_PATH = PurePosixPath("/etc/pf.anchors/abhaya")
MAIN_PATH = PurePosixPath("/etc/abhaya/pf.conf")
DAEMON_LABEL = "org.abhaya.routing"
DAEMON_PATH = PurePosixPath("/Library/LaunchDaemons") / f"{DAEMON_LABEL}.plist"


def anchor_text(exempt: tuple[str, ...]) -> str:
    users = ", ".join(sorted(set(exempt)))
    return f"""\
# Abhaya: the web traffic of filtered accounts goes through the agent or nowhere.
pass out quick proto {{ tcp, udp }} from any to any user {{ {users} }}
block return out quick proto tcp from any to any port {{ 80, 443, 853 }} user >= {FIRST_PERSON_UID}
block drop out quick proto udp from any to any port {{ 443, 853 }} user >= {FIRST_PERSON_UID}
"""


def main_text() -> str:
    return f"""\
# Abhaya: the system's own pf rules, then Abhaya's anchor (loaded at boot by {DAEMON_LABEL}).
include "/etc/pf.conf"
anchor "abhaya"
load anchor "abhaya" from "{ANCHOR_PATH}"
"""


def daemon_text() -> str:
    return f"""\
<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
	<key>Label</key>
	<string>{DAEMON_LABEL}</string>
	<key>ProgramArguments</key>
	<array>
		<string>/sbin/pfctl</string>
		<string>-E</string>
		<string>-f</string>
		<string>{MAIN_PATH}</string>
	</array>
	<key>RunAtLoad</key>
	<true/>
</dict>
</plist>
"""


def proxy_script(host: str, port: int) -> str:
    """Every network service (the first line of the listing is a note; `*` marks disabled)."""
    return (
        "networksetup -listallnetworkservices | tail -n +2 | sed 's/^\\*//' | "
        "while IFS= read -r service; do "
        f'networksetup -setwebproxy "$service" {host} {port} && '
        f'networksetup -setsecurewebproxy "$service" {host} {port} && '
        'networksetup -setproxybypassdomains "$service" localhost 127.0.0.1 ::1 '
        "|| exit 1; done"
    )


def proxy_off_script() -> str:
    return (
        "networksetup -listallnetworkservices | tail -n +2 | sed 's/^\\*//' | "
        "while IFS= read -r service; do "
        'networksetup -setwebproxystate "$service" off; '
        'networksetup -setsecurewebproxystate "$service" off; done'
    )


@dataclass(frozen=True, slots=True)
class RoutingMacos:
    title: str = "Web traffic only through the agent"

    def steps(self, settings: InstallSettings) -> list[Step]:
        exempt = (settings.service_user, *settings.unfiltered_accounts)
        return [
            WriteFile(
                ANCHOR_PATH,
                anchor_text(exempt).encode(),
                "Refuse direct web traffic (TCP 80, 443, 853; UDP 443, 853 dropped) of every "
                f"account from uid {FIRST_PERSON_UID} up except the agent's and the unfiltered "
                "ones (pf anchor)",
            ),
            WriteFile(MAIN_PATH, main_text().encode(), "Name Abhaya's anchor in pf's rules"),
            WriteFile(
                DAEMON_PATH,
                daemon_text().encode(),
                "Load the rules and enable pf at every boot",
            ),
            RunCommand(
                "pf-load",
                ("/sbin/pfctl", "-E", "-f", str(MAIN_PATH)),
                "Load the rules now and enable pf",
                undo_argv=("/sbin/pfctl", "-a", "abhaya", "-F", "all"),
            ),
            RunCommand(
                "launchd-routing",
                ("launchctl", "bootstrap", "system", str(DAEMON_PATH)),
                "Register the boot-time loader with launchd",
                undo_argv=("launchctl", "bootout", f"system/{DAEMON_LABEL}"),
                done_if=("launchctl", "print", f"system/{DAEMON_LABEL}"),
                undone_if=("sh", "-c", f"! launchctl print system/{DAEMON_LABEL}"),
            ),
            RunCommand(
                "system-proxy",
                ("sh", "-c", proxy_script(settings.listen_host, settings.listen_port)),
                "Set the web proxy of every network service to the agent",
                undo_argv=("sh", "-c", proxy_off_script()),
            ),
        ]

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        return []
