"""The per-install CA, made by the install (not at the agent's first start) so that the trust
steps that follow have a certificate to trust, and owned by the agent's account alone."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar

from abhaya.agent.ca import ensure_ca
from abhaya.installer.host import Host
from abhaya.installer.steps import Undo, owner_ids


@dataclass(frozen=True, slots=True)
class MakeCa:
    kind: ClassVar[str] = "ca"
    folder: PurePosixPath
    owner: str

    @property
    def key(self) -> str:
        return f"ca:{self.folder}"

    def describe(self) -> list[str]:
        return [
            "Make this computer's own certificate authority (unique to this install; its key "
            f"is readable by the account {self.owner} only)",
            f"  make {self.folder}/mitmproxy-ca.pem (key, mode 0600) and "
            f"{self.folder}/abhaya-ca.pem (certificate, mode 0644), owner {self.owner}",
        ]

    def apply(self, host: Host, previous: Undo | None) -> Undo:
        folder = host.path(self.folder)
        made = ensure_ca(folder)
        uid, gid = owner_ids(self.owner, self.owner)
        for path in (folder, *folder.iterdir()):
            os.chown(path, uid, gid)
        return Undo(
            self.kind,
            self.key,
            f"the CA in {self.folder} goes with the data folder",
            {"folder": str(self.folder), "fingerprint": made.fingerprint_sha256},
        )

    @classmethod
    def undo(cls, host: Host, record: Undo) -> None:
        """Nothing of its own: the data folder's undo removes the CA with everything else."""
