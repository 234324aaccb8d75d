"""Trusting the per-install CA on Windows: the machine's Trusted Root store, through
`certutil -addstore`.  Edge and Chrome read that store; Firefox is told to by its enterprise
policy (the browser concern).  Produced as a plan, never applied here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PureWindowsPath

from abhaya.agent.ca import CA_COMMON_NAME, PUBLIC_CERT_NAME
from abhaya.installer.base import Check
from abhaya.installer.ca.copy import CopyFile
from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import RunCommand, Step

PROGRAM_DATA = PureWindowsPath(r"C:\ProgramData\Abhaya")
"""Abhaya's machine-wide folder on Windows."""
AGENT_CA_CERT = PROGRAM_DATA / "data" / "ca" / PUBLIC_CERT_NAME
"""The agent's own certificate (its data folder, readable by SYSTEM and administrators)."""
PUBLIC_CA = PROGRAM_DATA / "abhaya-ca.crt"
"""The copy every account may read, and the file the certificate store is given."""


@dataclass(frozen=True, slots=True)
class CaTrustWindows:
    title: str = "Trust this computer's certificate authority"

    def steps(self, settings: InstallSettings) -> list[Step]:
        return [
            CopyFile(
                AGENT_CA_CERT,
                PUBLIC_CA,
                "Copy the CA's certificate (not its key) where every account can read it",
            ),
            RunCommand(
                "windows-root-store",
                ("certutil", "-addstore", "-f", "Root", str(PUBLIC_CA)),
                "Trust the CA in the computer's Trusted Root store (Edge, Chrome and Windows "
                "programs)",
                undo_argv=("certutil", "-delstore", "Root", CA_COMMON_NAME),
            ),
        ]

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        return []
