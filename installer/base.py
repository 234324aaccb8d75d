"""The one interface every concern implements, per OS: the steps it adds to an install and
the checks `abhaya doctor` (and the console's dashboard) runs on an installed machine."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import Step


@dataclass(frozen=True, slots=True)
class Check:
    """One thing `abhaya doctor` looked at."""

    name: str
    """What was checked, in words ("the CA is trusted by the system store")."""
    ok: bool
    detail: str = ""
    """What was found, when it is not obvious from `ok`."""
    fix: str = ""
    """What to do when it is not ok, in words a parent or an IT person can follow."""


class Concern(Protocol):
    """CA trust, the service, routing or browser policies, for one OS."""

    @property
    def title(self) -> str:
        """The plan's section heading ("Trust Abhaya's certificate")."""
        ...

    def steps(self, settings: InstallSettings) -> list[Step]:
        """What installing this concern does, in order."""
        ...

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        """Whether it is in place on this host (Linux only: other OSes are plans)."""
        ...
