"""What an install is made from: where things go and who is filtered, fixed before any step."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import PurePosixPath


class TargetOS(StrEnum):
    LINUX = "linux"
    WINDOWS = "windows"
    MACOS = "macos"


@dataclass(frozen=True, slots=True)
class InstallSettings:
    """One install.  Paths are those of the target OS (POSIX-style for Linux and macOS; the
    Windows backend maps them to its own folders)."""

    target: TargetOS
    program: tuple[str, ...]
    """The command that starts Abhaya (`abhaya run ...` is this plus `run` and options)."""
    policy_text: str | None = None
    """The policy to install (list paths already made absolute); None: the embedded default."""
    service_user: str = "abhaya"
    data_dir: PurePosixPath = PurePosixPath("/var/lib/abhaya")
    config_dir: PurePosixPath = PurePosixPath("/etc/abhaya")
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    unfiltered_accounts: tuple[str, ...] = ()
    """OS accounts whose web traffic is not routed through the agent (the parents'), from the
    policy's `[device] unfiltered_accounts`."""
    private_browsing: bool = True
    """False when a profile asks for browsers' private windows and guest mode to be off."""
    first_human_uid: int = 1000
    """Accounts from this uid up are people (Debian's UID_MIN); below are system services."""
    public_ca_path: PurePosixPath = PurePosixPath("/usr/local/share/ca-certificates/abhaya-ca.crt")
    """A copy of the certificate that every account can read: the system trust store's own
    input on Debian and Ubuntu, and the file Firefox's `Certificates` policy names."""

    @property
    def policy_dir(self) -> PurePosixPath:
        """The agent's own folder for the policy: it saves a parent's changes there, by writing
        a new file and renaming it.  The config folder above it is root's, so the agent's
        account cannot change what root loads from there (the routing rules)."""
        return self.config_dir / "policy"

    @property
    def policy_path(self) -> PurePosixPath | None:
        return None if self.policy_text is None else self.policy_dir / "policy.toml"

    @property
    def proxy_address(self) -> str:
        return f"{self.listen_host}:{self.listen_port}"

    @property
    def run_command(self) -> tuple[str, ...]:
        """`abhaya run` as the service starts it."""
        argv = [*self.program, "run", "--data-dir", str(self.data_dir)]
        argv += ["--listen", self.proxy_address]
        if self.policy_path is not None:
            argv += ["--policy", str(self.policy_path)]
        return tuple(argv)

    @property
    def ca_cert_path(self) -> PurePosixPath:
        """The public certificate as the agent writes it in its data folder (which only the
        agent's account can read)."""
        return self.data_dir / "ca" / "abhaya-ca.pem"
