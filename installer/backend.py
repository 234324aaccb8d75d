"""One OS's backend: its concerns in the order they install, turned into a plan or checks."""

from __future__ import annotations

from dataclasses import dataclass

from abhaya.installer.base import Check, Concern
from abhaya.installer.host import Host
from abhaya.installer.plan import Plan, Section
from abhaya.installer.settings import InstallSettings, TargetOS


@dataclass(frozen=True, slots=True)
class Backend:
    target: TargetOS
    concerns: tuple[Concern, ...]

    def plan(self, settings: InstallSettings) -> Plan:
        sections = (Section(c.title, tuple(c.steps(settings))) for c in self.concerns)
        return Plan(tuple(section for section in sections if section.steps))

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        return [check for concern in self.concerns for check in concern.checks(settings, host)]


def backend_for(target: TargetOS) -> Backend:
    """The backend for `target`; each OS's modules are imported only when asked for."""
    if target is TargetOS.LINUX:
        from abhaya.installer import linux

        return linux.BACKEND
    if target is TargetOS.WINDOWS:
        from abhaya.installer import windows

        return windows.BACKEND
    from abhaya.installer import macos

    return macos.BACKEND
