"""Which step class undoes which journal record.  Every step class a backend uses is listed
here, so `abhaya uninstall` can undo a record without the plan that made it."""

from __future__ import annotations

from abhaya.installer.account.makeca import MakeCa
from abhaya.installer.host import Host, InstallError
from abhaya.installer.service.wait import WaitForProxy
from abhaya.installer.steps import MakeDir, RunCommand, Step, SystemUser, Undo, WriteFile

STEP_CLASSES: tuple[type[Step], ...] = (
    WriteFile,
    MakeDir,
    RunCommand,
    SystemUser,
    MakeCa,
    WaitForProxy,
)


def undo_record(host: Host, record: Undo) -> None:
    for step_class in STEP_CLASSES:
        if step_class.kind == record.kind:
            step_class.undo(host, record)
            return
    raise InstallError(f"the journal names a step this version cannot undo: {record.kind}")
