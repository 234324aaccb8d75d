"""The oneshot systemd unit that loads the routing rules at every boot, and enabling it.

It has no `ExecStop` that removes the rules: stopping the unit (or a service manager that
stops everything at shutdown) must not open the web.  It is ordered after Debian's
`nftables.service`, whose `/etc/nftables.conf` starts with `flush ruleset`, and is part of
it, so a restart or reload of the system firewall loads Abhaya's table again.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar

from abhaya.installer.host import Host
from abhaya.installer.steps import Undo

UNIT_NAME = "abhaya-routing.service"
UNIT_PATH = PurePosixPath("/etc/systemd/system") / UNIT_NAME
NFT = "/usr/sbin/nft"
BOOTED_MARK = PurePosixPath("/run/systemd/system")
"""Exists only while systemd runs as the init system (what `sd_booted()` tests)."""


def unit_text(rules: PurePosixPath) -> str:
    return f"""\
[Unit]
Description=Abhaya: web traffic only through the filtering agent
Documentation=man:nft(8)
# Early, like nftables.service: the rules are in place before any network comes up.
DefaultDependencies=no
Wants=network-pre.target
Before=network-pre.target shutdown.target
Conflicts=shutdown.target
After=nftables.service
PartOf=nftables.service
ReloadPropagatedFrom=nftables.service

[Service]
Type=oneshot
RemainAfterExit=yes
StandardInput=null
ExecStart={NFT} -f {rules}
ExecReload={NFT} -f {rules}
# No ExecStop: stopping this unit leaves the rules in place (fail closed).

[Install]
WantedBy=sysinit.target
"""


def systemd_running(host: Host) -> bool:
    return host.path(BOOTED_MARK).is_dir()


@dataclass(frozen=True, slots=True)
class EnableUnit:
    """`systemctl enable` done on the unit files under the host's root (`--root`), which
    works whether or not systemd is the running init system (it only makes the symlinks);
    the running manager, when there is one, is told to reload its unit files."""

    kind: ClassVar[str] = "systemd-enable"
    unit: str

    @property
    def key(self) -> str:
        return f"systemd-enable:{self.unit}"

    def describe(self) -> list[str]:
        return [
            f"Load the rules at every boot ({self.unit})",
            f"  run: systemctl --root=/ enable {self.unit}",
            "  run: systemctl daemon-reload (only when systemd is running)",
            f"  (undone by: systemctl --root=/ disable {self.unit})",
        ]

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        host.run(("systemctl", f"--root={host.root}", "enable", self.unit))
        _reload(host)
        return Undo(self.kind, self.key, f"disable {self.unit}", {"unit": self.unit})

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        unit = str(record.data["unit"])
        # `disable` of a unit whose file is already gone fails; its symlinks would be dangling
        # and are removed by hand.
        if host.path(UNIT_PATH.parent / unit).exists():
            host.run(("systemctl", f"--root={host.root}", "disable", unit))
        else:
            for link in host.path(UNIT_PATH.parent).glob(f"*.wants/{unit}"):
                link.unlink()
        _reload(host)


def _reload(host: Host) -> None:
    if systemd_running(host):
        host.run(("systemctl", "daemon-reload"))


def unit_enabled(host: Host, unit: str) -> bool:
    done = host.run(("systemctl", f"--root={host.root}", "is-enabled", unit), check=False)
    return done.returncode == 0 and done.stdout.strip() == "enabled"
