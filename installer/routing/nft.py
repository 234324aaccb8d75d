"""The nftables table that stops direct web traffic of every account the agent filters.

The agent is a regular proxy on loopback that tells OS users apart by the owner of the client
socket, so the rules do not redirect anything: they let the agent's account, the system
services and the parents' accounts out, and refuse the web ports to everyone else.  A child's
browser must then use the proxy, and when the agent is down nothing gets through (fail closed).

Accounts are written as numeric uids resolved when the step applies, not as names that `nft`
would resolve when the file loads: the file is loaded early at boot (before the network, so
before any LDAP or other network account source answers) and a name that no longer resolves
would make `nft -f` refuse the whole file, which would leave the machine unfiltered.
"""

from __future__ import annotations

import pwd
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar

from abhaya.installer.host import Host, InstallError
from abhaya.installer.steps import Undo, WriteFile

TABLE = ("inet", "abhaya")
"""One table for IPv4 and IPv6 together; deleting it undoes every rule."""
WEB_TCP_PORTS = (80, 443, 853)
"""HTTP, HTTPS and DNS over TLS: refused with a TCP reset, so a program fails at once."""
DROPPED_UDP_PORTS = (443, 853)
"""QUIC (HTTP/3) and DNS over QUIC: dropped, so browsers fall back to TCP through the proxy."""


def render_rules(
    agent: str,
    unfiltered: tuple[str, ...],
    first_human_uid: int,
    proxy_address: str,
    uid_of: Callable[[str], str],
) -> str:
    """The whole file.  `uid_of` gives the account as nft reads it: the numeric uid when
    applying, the quoted name in a dry run (which nft would also accept)."""
    family, name = TABLE
    others = sorted({uid_of(account) for account in unfiltered if account != agent})
    tcp = ", ".join(str(port) for port in WEB_TCP_PORTS)
    udp = ", ".join(str(port) for port in DROPPED_UDP_PORTS)
    lines = [
        "#!/usr/sbin/nft -f",
        f"# Abhaya: the web traffic of filtered accounts goes through the agent ({proxy_address})",
        "# or nowhere.  Written by `abhaya install` (the next install rewrites it), loaded at",
        "# boot by abhaya-routing.service, removed by `abhaya uninstall`.",
        "",
        "# Declaring then deleting the table makes loading this file again replace it whole.",
        f"table {family} {name}",
        f"delete table {family} {name}",
        "",
        f"table {family} {name} {{",
        "\tchain output {",
        "\t\ttype filter hook output priority filter; policy accept;",
        '\t\toifname "lo" accept comment "the agent is reached on loopback"',
        f'\t\tmeta skuid < {first_human_uid} accept comment "system services: updates, time"',
        f'\t\tmeta skuid {uid_of(agent)} accept comment "the agent\'s own account"',
    ]
    if others:
        lines.append(f'\t\tmeta skuid {{ {", ".join(others)} }} accept comment "unfiltered"')
    lines += [
        "\t\t# Packets without a full socket (the kernel's own, closing connections) match",
        "\t\t# neither test; a program of any account always has one.",
        f"\t\tmeta skuid >= {first_human_uid} jump filtered",
        "\t}",
        "",
        "\tchain filtered {",
        f'\t\ttcp dport {{ {tcp} }} reject with tcp reset comment "web only through the agent"',
        f'\t\tudp dport {{ {udp} }} drop comment "QUIC: browsers fall back to TCP"',
        "\t}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def numeric_uid(account: str) -> str:
    try:
        return str(pwd.getpwnam(account).pw_uid)
    except KeyError:
        raise InstallError(
            f"the account {account} does not exist on this computer (the policy names it as "
            "unfiltered, or it is the agent's account); create it or remove it from the policy"
        ) from None


def quoted_name(account: str) -> str:
    return f'"{account}"'


def table_present(host: Host) -> bool:
    return host.run(("nft", "list", "table", *TABLE), check=False).returncode == 0


@dataclass(frozen=True, slots=True)
class FilterRules:
    """Write the rules file with the accounts' uids as they are now, and load it at once."""

    kind: ClassVar[str] = "nft-rules"
    path: PurePosixPath
    agent: str
    unfiltered: tuple[str, ...]
    first_human_uid: int
    proxy_address: str

    @property
    def key(self) -> str:
        return f"nft-rules:{self.path}"

    def _file(self, uid_of: Callable[[str], str]) -> WriteFile:
        content = render_rules(
            self.agent, self.unfiltered, self.first_human_uid, self.proxy_address, uid_of
        )
        return WriteFile(self.path, content.encode(), "", mode=0o644)

    def describe(self) -> list[str]:
        return [
            "Refuse direct web traffic (TCP 80, 443, 853; UDP 443 dropped) to every account "
            f"from uid {self.first_human_uid} up except the agent's and the unfiltered ones "
            "(IPv4 and IPv6); accounts become numeric uids when this runs",
            *self._file(quoted_name).describe()[1:],
            f"  then run: nft -f {shlex.quote(str(self.path))}",
            f"  (undone by: nft delete table {' '.join(TABLE)}, and removing the file)",
        ]

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        written = self._file(numeric_uid).apply(host, previous)
        host.run(("nft", "-f", str(host.path(self.path))))
        return Undo(
            self.kind,
            self.key,
            f"delete the nftables table {' '.join(TABLE)} and remove {self.path}",
            written.data,
        )

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        if table_present(host):
            host.run(("nft", "delete", "table", *TABLE))
        WriteFile.undo(host, record)
