"""Which step class undoes which journal record.  Every step class a backend uses is listed
here, so `abhaya uninstall` can undo a record without the plan that made it."""

from __future__ import annotations

from abhaya.installer.account.makeca import MakeCa
from abhaya.installer.browsers.mergejson import MergePolicies
from abhaya.installer.ca.copy import CopyFile
from abhaya.installer.ca.nss import TrustInNssDb
from abhaya.installer.ca.system import TrustInSystemStore
from abhaya.installer.host import Host, InstallError
from abhaya.installer.routing.bootunit import EnableUnit
from abhaya.installer.routing.gnome import DconfProfile, GnomeProxy
from abhaya.installer.routing.nft import FilterRules
from abhaya.installer.service.wait import WaitForProxy
from abhaya.installer.steps import MakeDir, RunCommand, Step, SystemUser, Undo, WriteFile

STEP_CLASSES: tuple[type[Step], ...] = (
    WriteFile,
    MakeDir,
    RunCommand,
    SystemUser,
    MakeCa,
    MergePolicies,
    FilterRules,
    EnableUnit,
    GnomeProxy,
    DconfProfile,
    CopyFile,
    TrustInSystemStore,
    TrustInNssDb,
    WaitForProxy,
)


def undo_record(host: Host, record: Undo) -> None:
    for step_class in STEP_CLASSES:
        if step_class.kind == record.kind:
            step_class.undo(host, record)
            return
    raise InstallError(f"the journal names a step this version cannot undo: {record.kind}")
