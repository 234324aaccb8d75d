"""Plans apply in order, roll back what a failed run added, drop what a new plan no longer
has, and uninstall to exactly the machine that was there before."""

from __future__ import annotations

from pathlib import PurePosixPath

import pytest

from abhaya.installer.host import Host, InstallError
from abhaya.installer.journal import Journal
from abhaya.installer.plan import Plan, Section, apply_plan, uninstall
from abhaya.installer.steps import MakeDir, RunCommand, WriteFile
from tests.installer.conftest import snapshot


def _plan(*sections: Section) -> Plan:
    return Plan(sections)


def _files(scratch: Host) -> Section:
    return Section(
        "files",
        (
            MakeDir(PurePosixPath("/etc/abhaya"), "config folder"),
            WriteFile(PurePosixPath("/etc/abhaya/a.conf"), b"a\n", "file a"),
            WriteFile(PurePosixPath("/etc/existing.conf"), b"ours\n", "replace a file"),
        ),
    )


def _prepare(scratch: Host) -> None:
    scratch.path("/etc/existing.conf").write_text("theirs\n")


def test_install_then_uninstall_leaves_the_machine_as_it_was(scratch: Host) -> None:
    _prepare(scratch)
    before = snapshot(scratch.root)
    outcome = apply_plan(_plan(_files(scratch)), scratch)
    assert len(outcome.done) == 3
    assert scratch.path("/etc/existing.conf").read_text() == "ours\n"
    assert [r.key for r in Journal.load(scratch).records] == [
        "folder:/etc/abhaya",
        "file:/etc/abhaya/a.conf",
        "file:/etc/existing.conf",
    ]
    removed = uninstall(scratch)
    assert removed.failed == []
    assert snapshot(scratch.root) == before
    assert uninstall(scratch).done == []  # a second uninstall finds nothing to do


def test_installing_twice_changes_nothing_the_second_time(scratch: Host) -> None:
    _prepare(scratch)
    before = snapshot(scratch.root)
    apply_plan(_plan(_files(scratch)), scratch)
    installed = snapshot(scratch.root)
    apply_plan(_plan(_files(scratch)), scratch)
    assert snapshot(scratch.root) == installed
    uninstall(scratch)
    assert snapshot(scratch.root) == before  # the original survived the second install


def test_a_failed_step_rolls_back_what_this_run_did(scratch: Host) -> None:
    _prepare(scratch)
    before = snapshot(scratch.root)
    failing = Section("fails", (RunCommand("broken", ("false",), "a step that fails"),))
    with pytest.raises(InstallError) as raised:
        apply_plan(_plan(_files(scratch), failing), scratch)
    message = str(raised.value)
    assert "a step that fails" in message
    assert "Rolled back: put back the original /etc/existing.conf" in message
    assert snapshot(scratch.root) == before


def test_a_failed_reinstall_keeps_the_earlier_install(scratch: Host) -> None:
    _prepare(scratch)
    apply_plan(_plan(_files(scratch)), scratch)
    extra = Section(
        "more",
        (
            WriteFile(PurePosixPath("/etc/abhaya/b.conf"), b"b\n", "file b"),
            RunCommand("broken", ("false",), "a step that fails"),
        ),
    )
    with pytest.raises(InstallError):
        apply_plan(_plan(_files(scratch), extra), scratch)
    assert scratch.path("/etc/abhaya/a.conf").exists()
    assert not scratch.path("/etc/abhaya/b.conf").exists()
    assert len(Journal.load(scratch).records) == 3


def test_what_a_new_plan_no_longer_has_is_undone(scratch: Host) -> None:
    _prepare(scratch)
    apply_plan(_plan(_files(scratch)), scratch)
    smaller = Section(
        "files",
        (
            MakeDir(PurePosixPath("/etc/abhaya"), "config folder"),
            WriteFile(PurePosixPath("/etc/abhaya/a.conf"), b"a\n", "file a"),
        ),
    )
    apply_plan(_plan(smaller), scratch)
    assert scratch.path("/etc/existing.conf").read_text() == "theirs\n"


def test_the_dry_run_lists_every_step_with_its_file_and_command(scratch: Host) -> None:
    plan = _plan(
        _files(scratch),
        Section("commands", (RunCommand("nft", ("nft", "-f", "/etc/x.nft"), "load rules"),)),
    )
    shown = plan.render()
    assert "== files ==" in shown
    assert "  1. config folder" in shown
    assert "write /etc/abhaya/a.conf (mode 0644, owner root:root)" in shown
    assert "| a" in shown
    assert "  4. load rules" in shown
    assert "run: nft -f /etc/x.nft" in shown


def test_two_steps_with_one_key_are_a_bug_in_the_backend(scratch: Host) -> None:
    twice = WriteFile(PurePosixPath("/etc/a"), b"", "a")
    with pytest.raises(ValueError, match="key file:/etc/a"):
        apply_plan(_plan(Section("x", (twice, twice))), scratch)


def test_an_unreadable_journal_is_refused_in_words(scratch: Host) -> None:
    journal = scratch.path(scratch.state_dir / "journal.json")
    journal.parent.mkdir(parents=True)
    journal.write_text("{not json")
    with pytest.raises(InstallError, match="cannot read the install journal"):
        uninstall(scratch)


def test_programs_the_plan_needs_are_asked_for_before_anything_changes() -> None:
    plan = _plan(
        Section(
            "x",
            (
                RunCommand("a", ("no-such-tool-abhaya", "x"), "a", undo_argv=("true",)),
                WriteFile(PurePosixPath("/etc/a"), b"", "b", after=(("sh", "-c", ":"),)),
            ),
        )
    )
    assert plan.missing_tools() == ["no-such-tool-abhaya"]
