"""The macOS plan for CA trust: it cannot run here, so the commands are checked as written
(`security add-trusted-cert -d -r trustRoot -k <keychain> <file>`; `delete-certificate -c <name>
-t <keychain>`, where -t run as root also removes the admin trust settings `-d` made)."""

from __future__ import annotations

from pathlib import PurePosixPath

from abhaya.installer.ca.copy import CopyFile
from abhaya.installer.ca.macos import CaTrustMacos
from abhaya.installer.settings import InstallSettings, TargetOS
from abhaya.installer.steps import RunCommand
from tests.installer.conftest import concern_plan

SETTINGS = InstallSettings(
    TargetOS.MACOS,
    ("/usr/local/bin/abhaya",),
    data_dir=PurePosixPath("/Library/Application Support/Abhaya"),
    public_ca_path=PurePosixPath("/Library/Application Support/Abhaya Public/abhaya-ca.crt"),
)


def test_the_certificate_is_added_to_the_system_keychain_as_a_root() -> None:
    copy, trust = CaTrustMacos().steps(SETTINGS)
    assert copy == CopyFile(SETTINGS.ca_cert_path, SETTINGS.public_ca_path, copy.why)
    assert isinstance(trust, RunCommand)
    assert trust.argv == (
        "security", "add-trusted-cert", "-d", "-r", "trustRoot",
        "-k", "/Library/Keychains/System.keychain",
        "/Library/Application Support/Abhaya Public/abhaya-ca.crt",
    )  # fmt: skip
    assert trust.undo_argv == (
        "security", "delete-certificate", "-c", "Abhaya local filtering CA", "-t",
        "/Library/Keychains/System.keychain",
    )  # fmt: skip


def test_the_rendered_plan_shows_the_exact_file_and_commands() -> None:
    text = concern_plan(CaTrustMacos(), SETTINGS).render()
    assert (
        "copy /Library/Application Support/Abhaya/ca/abhaya-ca.pem to "
        "/Library/Application Support/Abhaya Public/abhaya-ca.crt (mode 0644, owner root:root)"
    ) in text
    assert (
        "run: security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain "
        "'/Library/Application Support/Abhaya Public/abhaya-ca.crt'"
    ) in text
    assert (
        "(undone by: security delete-certificate -c 'Abhaya local filtering CA' -t "
        "/Library/Keychains/System.keychain)"
    ) in text
