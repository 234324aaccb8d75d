"""The Windows plan for CA trust: it cannot run here, so the commands are checked as written
(certutil's documented `-addstore -f Root <file>` and `-delstore Root <CertId>`)."""

from __future__ import annotations

from pathlib import Path, PureWindowsPath

import pytest

from abhaya.installer.ca.copy import CopyFile
from abhaya.installer.ca.windows import CaTrustWindows
from abhaya.installer.host import Host, InstallError
from abhaya.installer.settings import InstallSettings, TargetOS
from abhaya.installer.steps import RunCommand
from tests.installer.conftest import concern_plan

SETTINGS = InstallSettings(TargetOS.WINDOWS, ("abhaya.exe",))


def test_the_certificate_is_copied_to_program_data_then_added_to_the_root_store() -> None:
    copy, trust = CaTrustWindows().steps(SETTINGS)
    assert copy == CopyFile(
        PureWindowsPath(r"C:\ProgramData\Abhaya\data\ca\abhaya-ca.pem"),
        PureWindowsPath(r"C:\ProgramData\Abhaya\abhaya-ca.crt"),
        copy.why,
    )
    assert isinstance(trust, RunCommand)
    assert trust.argv == (
        "certutil", "-addstore", "-f", "Root", r"C:\ProgramData\Abhaya\abhaya-ca.crt",
    )  # fmt: skip
    assert trust.undo_argv == ("certutil", "-delstore", "Root", "Abhaya local filtering CA")


def test_the_rendered_plan_shows_the_exact_file_and_commands() -> None:
    text = concern_plan(CaTrustWindows(), SETTINGS).render()
    assert (
        r"copy C:\ProgramData\Abhaya\data\ca\abhaya-ca.pem to C:\ProgramData\Abhaya\abhaya-ca.crt"
        " (mode 0644, owner root:root)"
    ) in text
    assert r"run: certutil -addstore -f Root 'C:\ProgramData\Abhaya\abhaya-ca.crt'" in text
    assert "(undone by: certutil -delstore Root 'Abhaya local filtering CA')" in text
    assert "Firefox" not in text  # the browser concern's policy trusts it there


def test_a_windows_copy_is_never_applied_here(tmp_path: Path) -> None:
    copy = CaTrustWindows().steps(SETTINGS)[0]
    with pytest.raises(InstallError, match="not a path of this computer"):
        copy.apply(Host(root=tmp_path), None)
    assert list(tmp_path.iterdir()) == []
