"""Settings come from the policy, which is refused before anything changes when it is wrong."""

from __future__ import annotations

import os
import textwrap
import tomllib
from pathlib import Path

import pytest

from abhaya.filters.policy.load import PolicyError
from abhaya.installer.host import InstallError
from abhaya.installer.prepare import check_accounts, check_readable_by_service, settings_for
from abhaya.installer.settings import InstallSettings, TargetOS
from tests.conftest import write_policy


def test_the_embedded_policy_installs_with_everyone_filtered() -> None:
    settings = settings_for(TargetOS.LINUX, None, ("/opt/abhaya/bin/abhaya",))
    assert settings.policy_text is None
    assert settings.unfiltered_accounts == ()
    assert settings.private_browsing is True
    assert "--policy" not in settings.run_command


def test_list_paths_become_absolute_in_the_installed_copy(tmp_path: Path) -> None:
    source = write_policy(tmp_path)
    settings = settings_for(TargetOS.LINUX, source, ("abhaya",))
    assert settings.policy_text is not None
    installed = tomllib.loads(settings.policy_text)
    paths = [ref["path"] for ref in installed["blocklist"]]
    assert paths and all(Path(path).is_absolute() and Path(path).exists() for path in paths)
    assert settings.run_command[-2:] == ("--policy", "/etc/abhaya/policy/policy.toml")


def test_device_settings_and_private_browsing_come_from_the_policy(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        textwrap.dedent(
            """\
            [device]
            unfiltered_accounts = ["parent"]
            [profiles.child]
            users = ["kid"]
            private_browsing = false
            [profiles.teen]
            """
        )
    )
    settings = settings_for(TargetOS.LINUX, policy, ("abhaya",))
    assert settings.unfiltered_accounts == ("parent",)
    assert settings.private_browsing is False


def test_an_account_both_unfiltered_and_in_a_profile_is_refused(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[device]\nunfiltered_accounts = ["kid"]\n[profiles.child]\nusers = ["kid"]\n'
    )
    with pytest.raises(PolicyError, match="unfiltered_accounts and in profile 'child'"):
        settings_for(TargetOS.LINUX, policy, ("abhaya",))


def test_a_policy_with_a_missing_list_is_refused_before_anything_changes(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(
        '[categories.adult]\n[[blocklist]]\npath = "nowhere.txt"\ncategory = "adult"\n'
    )
    with pytest.raises(PolicyError, match="nowhere.txt"):
        settings_for(TargetOS.LINUX, policy, ("abhaya",))


def test_unfiltered_accounts_must_exist() -> None:
    settings = InstallSettings(TargetOS.LINUX, ("abhaya",), unfiltered_accounts=("no-such-kid",))
    with pytest.raises(InstallError, match="no-such-kid"):
        check_accounts(settings)
    check_accounts(InstallSettings(TargetOS.LINUX, ("abhaya",), unfiltered_accounts=("root",)))


def test_a_program_behind_a_closed_folder_is_refused_with_the_way_out(tmp_path: Path) -> None:
    closed = tmp_path / "closed"
    program = closed / "bin" / "abhaya"
    program.parent.mkdir(parents=True)
    program.write_text("")
    os.chmod(closed, 0o700)
    with pytest.raises(InstallError, match="sudo python3 -m venv /opt/abhaya"):
        check_readable_by_service(InstallSettings(TargetOS.LINUX, (str(program),)))
