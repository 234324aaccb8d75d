"""The install's record: readable by every account, without the policy, and read back whole."""

from __future__ import annotations

import stat

from abhaya.installer.host import Host
from abhaya.installer.record import read_record, record_step
from abhaya.installer.settings import InstallSettings, TargetOS

POLICY = '[device]\nunfiltered_accounts = ["meera"]\n'


def test_the_record_round_trips_and_keeps_the_policy_out(scratch: Host) -> None:
    settings = InstallSettings(
        TargetOS.LINUX,
        ("/opt/abhaya/bin/abhaya",),
        policy_text=POLICY,
        unfiltered_accounts=("meera",),
    )
    assert read_record(scratch) is None  # nothing installed
    step = record_step(settings, scratch.state_dir)
    step.apply(scratch, None)
    written = scratch.path(step.path)
    assert stat.S_IMODE(written.stat().st_mode) == 0o644  # the console reads it as the parent
    assert "meera" in written.read_text() and "device" not in written.read_text()
    # Without the installed policy file, the record says only that a policy was installed.
    partial = read_record(scratch)
    assert partial is not None and partial.policy_text == ""
    assert partial.run_command == settings.run_command
    # Where the installed policy can be read (root), it is the one in force.
    installed = scratch.path(settings.policy_path or "/")
    installed.parent.mkdir(parents=True)
    installed.write_text(POLICY)
    assert read_record(scratch) == settings
