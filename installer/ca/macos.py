"""Trusting the per-install CA on macOS: the System keychain, with admin trust settings that
make it a root for every account (Safari and Chrome read them; Firefox is told to by its
enterprise policy, the browser concern).  Produced as a plan, never applied here."""

from __future__ import annotations

from dataclasses import dataclass

from abhaya.agent.ca import CA_COMMON_NAME
from abhaya.installer.base import Check
from abhaya.installer.ca.copy import CopyFile
from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import RunCommand, Step

SYSTEM_KEYCHAIN = "/Library/Keychains/System.keychain"


@dataclass(frozen=True, slots=True)
class CaTrustMacos:
    title: str = "Trust this computer's certificate authority"

    def steps(self, settings: InstallSettings) -> list[Step]:
        public = settings.public_ca_path
        return [
            CopyFile(
                settings.ca_cert_path,
                public,
                "Copy the CA's certificate (not its key) where every account can read it",
            ),
            RunCommand(
                "macos-system-keychain",
                (
                    "security", "add-trusted-cert", "-d", "-r", "trustRoot",
                    "-k", SYSTEM_KEYCHAIN, str(public),
                ),
                "Trust the CA for every account: add it to the System keychain as a root",
                # -t: also remove its trust settings (run as root: the admin ones, which -d set).
                undo_argv=(
                    "security", "delete-certificate", "-c", CA_COMMON_NAME, "-t", SYSTEM_KEYCHAIN,
                ),
            ),
        ]  # fmt: skip

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        return []
