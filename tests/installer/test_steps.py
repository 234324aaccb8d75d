"""Each generic step applies, re-applies and undoes itself on a scratch root, and undoing what
is already undone succeeds."""

from __future__ import annotations

import os
import pwd
from pathlib import PurePosixPath

from abhaya.installer.host import Host
from abhaya.installer.steps import MakeDir, RunCommand, SystemUser, WriteFile
from tests.installer.conftest import account_name, needs_root, snapshot


def test_a_new_file_is_written_with_its_mode_and_removed_on_undo(scratch: Host) -> None:
    before = snapshot(scratch.root)
    step = WriteFile(PurePosixPath("/etc/abhaya/x.conf"), b"one\n", "a file", mode=0o640)
    record = step.apply(scratch, None)
    target = scratch.path("/etc/abhaya/x.conf")
    assert target.read_bytes() == b"one\n"
    assert target.stat().st_mode & 0o777 == 0o640
    WriteFile.undo(scratch, record)
    assert not target.exists()
    WriteFile.undo(scratch, record)  # already undone: still fine
    # The parent folders the step made are the folder steps' business, not this one's.
    assert set(snapshot(scratch.root)) - set(before) == {"etc/abhaya"}


def test_a_file_that_was_there_is_put_back_byte_for_byte(scratch: Host) -> None:
    target = scratch.path("/etc/app.json")
    target.write_bytes(b'{"school": true}\n')
    os.chmod(target, 0o600)
    before = snapshot(scratch.root)
    step = WriteFile(PurePosixPath("/etc/app.json"), b"{}\n", "replace it", mode=0o644)
    first = step.apply(scratch, None)
    # A second install keeps the first record: the backup still holds the school's file.
    second = step.apply(scratch, first)
    assert second == first
    assert target.read_bytes() == b"{}\n"
    WriteFile.undo(scratch, second)
    assert target.read_bytes() == b'{"school": true}\n'
    after = snapshot(scratch.root)
    assert {k: v for k, v in after.items() if "abhaya-install" not in k} == before


def test_after_commands_run_after_writing_and_after_undoing(scratch: Host) -> None:
    log = scratch.root / "log"
    step = WriteFile(
        PurePosixPath("/etc/a"),
        b"x",
        "with a refresh",
        after=(("sh", "-c", f"echo refreshed >> {log}"),),
    )
    record = step.apply(scratch, None)
    assert log.read_text() == "refreshed\n"
    WriteFile.undo(scratch, record)
    assert log.read_text() == "refreshed\nrefreshed\n"


def test_a_folder_is_removed_only_if_the_install_made_it(scratch: Host) -> None:
    kept = MakeDir(PurePosixPath("/etc"), "was there").apply(scratch, None)
    made = MakeDir(PurePosixPath("/etc/abhaya"), "new", mode=0o750).apply(scratch, None)
    assert scratch.path("/etc/abhaya").stat().st_mode & 0o777 == 0o750
    MakeDir.undo(scratch, made)
    MakeDir.undo(scratch, kept)
    assert scratch.path("/etc").is_dir()
    assert not scratch.path("/etc/abhaya").exists()


def test_a_folder_someone_filled_stays_unless_its_contents_are_the_installs(
    scratch: Host,
) -> None:
    shared = MakeDir(PurePosixPath("/etc/policies"), "shared").apply(scratch, None)
    data = MakeDir(PurePosixPath("/var/data"), "data", remove_contents=True).apply(scratch, None)
    (scratch.path("/etc/policies") / "theirs.json").write_text("{}")
    (scratch.path("/var/data") / "store.db").write_text("x")
    MakeDir.undo(scratch, shared)
    MakeDir.undo(scratch, data)
    assert (scratch.path("/etc/policies") / "theirs.json").exists()
    assert not scratch.path("/var/data").exists()


def test_a_command_runs_once_when_done_if_says_it_is_done(scratch: Host) -> None:
    marker = scratch.root / "marker"
    step = RunCommand(
        "touch",
        ("sh", "-c", f"echo ran >> {marker}"),
        "a change",
        undo_argv=("rm", str(marker)),
        done_if=("test", "-e", str(marker)),
        undone_if=("test", "!", "-e", str(marker)),
    )
    record = step.apply(scratch, None)
    step.apply(scratch, record)
    assert marker.read_text() == "ran\n"
    RunCommand.undo(scratch, record)
    RunCommand.undo(scratch, record)  # undone_if: the second undo does not run `rm` again
    assert not marker.exists()


@needs_root
def test_the_agents_account_is_made_and_removed_only_if_made(scratch: Host) -> None:
    name = account_name()
    step = SystemUser(name, "the agent's account")
    record = step.apply(scratch, None)
    try:
        account = pwd.getpwnam(name)
        assert account.pw_shell == "/usr/sbin/nologin"
        assert account.pw_uid < 1000  # a system account: the routing rules leave those alone
        assert step.apply(scratch, record) == record
    finally:
        SystemUser.undo(scratch, record)
    assert name not in {entry.pw_name for entry in pwd.getpwall()}
    root = SystemUser("root", "exists already").apply(scratch, None)
    SystemUser.undo(scratch, root)
    assert pwd.getpwnam("root")
