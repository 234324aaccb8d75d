"""The agent's system account, its folders and the installed policy, on Linux."""

from __future__ import annotations

from dataclasses import dataclass

from abhaya.installer.account.makeca import MakeCa
from abhaya.installer.base import Check
from abhaya.installer.host import Host
from abhaya.installer.settings import InstallSettings
from abhaya.installer.steps import MakeDir, Step, SystemUser, WriteFile


@dataclass(frozen=True, slots=True)
class AccountLinux:
    title: str = "The agent's account, folders and policy"

    def steps(self, settings: InstallSettings) -> list[Step]:
        user = settings.service_user
        steps: list[Step] = [
            SystemUser(
                user,
                f"Make the system account {user} that the agent runs as (no password, no "
                "login, no home)",
            ),
            MakeDir(
                settings.config_dir,
                "Make Abhaya's settings folder (root's: the agent's account may read it, not "
                "change it)",
                mode=0o750,
                group=user,
            ),
        ]
        if settings.policy_text is not None:
            steps.append(
                MakeDir(
                    settings.policy_dir,
                    "Make the policy's folder (the agent saves the parent's changes there)",
                    mode=0o750,
                    owner=user,
                )
            )
        if settings.policy_text is not None and settings.policy_path is not None:
            steps.append(
                WriteFile(
                    settings.policy_path,
                    settings.policy_text.encode("utf-8"),
                    "Install the policy",
                    mode=0o640,
                    owner=user,
                    show=False,
                )
            )
        steps += [
            MakeDir(
                settings.data_dir,
                "Make the agent's data folder (the encrypted event store and the CA's key; "
                "removed with everything in it on uninstall)",
                mode=0o700,
                owner=user,
                remove_contents=True,
            ),
            MakeCa(settings.data_dir / "ca", user),
        ]
        return steps

    def checks(self, settings: InstallSettings, host: Host) -> list[Check]:
        key = host.path(settings.data_dir / "ca" / "mitmproxy-ca.pem")
        if not key.exists():
            return [
                Check(
                    "the CA's key is in place",
                    False,
                    f"{key} is missing",
                    "run `sudo abhaya install` again",
                )
            ]
        mode = key.stat().st_mode & 0o777
        return [
            Check(
                "the CA's key is readable by the agent's account only",
                mode == 0o600,
                f"{key} has mode {mode:04o}",
                f"run `sudo chmod 600 {key}`",
            )
        ]
