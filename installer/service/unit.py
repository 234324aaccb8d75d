"""The systemd unit that runs `abhaya run`: its text, made from the install's settings.

Choices, and why:
- `Type=notify`: systemd counts the agent as started once it says READY=1, which it does when
  the proxy listens (`agent/sdnotify.py`), so `systemctl start` returns when filtering works.
- `Restart=always` with `RestartSec=100ms`: start-up itself takes ~1.8 s (imports, policy,
  models), so the wait is kept short to be back within 2 s of a SIGKILL (`bench/service/`).
  `StartLimitIntervalSec=0` never gives up: the statuses where retrying cannot help (an
  invalid policy, a wrong command line: `agent/exits.py`) are in `RestartPreventExitStatus=`
  instead, so only what may pass is retried.
- `WatchdogSec=30s`: the event loop pings every 15 s; a loop stuck for 30 s filters nothing,
  and is killed and restarted.
- `MemoryHigh=`/`MemoryMax=`: the agent with its image model is ~420 MiB (README); past the
  high mark the kernel reclaims, past the maximum the agent is killed and restarted.
- Sandboxing: the whole file system read-only (`ProtectSystem=strict`) but the data and
  policy folders; home folders hidden (`ProtectHome=yes`) unless the program or the policy
  lives in one (a virtual environment in a home folder), then read-only; no new privileges,
  no capabilities, a private /tmp, kernel and cgroup settings read-only, and only the address
  families the agent uses (AF_NETLINK: it asks the kernel's sock_diag which account opened a
  connection, `agent/who/sockdiag.py`).  `MemoryDenyWriteExecute=` is not set: Python's ctypes
  and the ONNX runtime may need writable code pages.
- `RuntimeDirectory=abhaya` (0755): /run/abhaya, where the agent publishes api.json for the
  parents' programs (`agent/api/discovery.py`); systemd removes it when the service stops.
  No `StateDirectory=`: the account concern makes /var/lib/abhaya (0700) and uninstall removes
  it; systemd would otherwise set its mode too.
- `PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring`: a system service has no Secret
  Service (no login session, no D-Bus session bus), so the store keeps its key in a 0600 file
  in the data folder (`agent/store/keys.py`: an unusable keyring backend chooses the file);
  naming the `fail` backend makes that choice at once instead of probing D-Bus.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from abhaya.agent.exits import ExitStatus
from abhaya.installer.settings import InstallSettings

UNIT_NAME = "abhaya.service"
UNIT_PATH = f"/etc/systemd/system/{UNIT_NAME}"
RESTART_SEC = "100ms"
WATCHDOG_SEC = "30s"
MEMORY_HIGH = "1G"
MEMORY_MAX = "1536M"
NO_RETRY = (ExitStatus.USAGE, ExitStatus.CONFIG)
"""Exit statuses that retrying cannot help (the command line, the policy, the data folder)."""
ENVIRONMENT = (
    ("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring"),
    ("PYTHONUNBUFFERED", "1"),
)
"""The service's environment: the store key in its file (no keyring probe), and output that
reaches the journal as it is written."""
HOME_ROOTS = ("/home/", "/root/", "/run/user/")

_PLAIN = re.compile(r"[A-Za-z0-9_./:@+=,-]+")


def quote(word: str, *, argument: bool = False) -> str:
    """One word as systemd reads it back: double-quoted when it has anything but plain
    characters, with `\\` and `"` escaped and `%` (specifiers) doubled so it stays literal.
    `argument`: an ExecStart= argument after the program, where `$` expands a variable, so it
    is doubled too (systemd does not expand the program's own path, nor paths in lists)."""
    if _PLAIN.fullmatch(word):
        return word
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    escaped = escaped.replace("%", "%%")
    if argument:
        escaped = escaped.replace("$", "$$")
    return f'"{escaped}"'


def exec_line(argv: Iterable[str]) -> str:
    """An ExecStart= value that systemd splits back into exactly `argv`."""
    program, *arguments = argv
    return " ".join([quote(program), *(quote(word, argument=True) for word in arguments)])


def quote_all(words: Iterable[str]) -> str:
    return " ".join(quote(word) for word in words)


def protect_home(settings: InstallSettings) -> str:
    """`yes` (home folders invisible) unless the program or a file the policy names lives
    under a home folder, as a virtual environment made by a user does: then `read-only`.
    The program's real files count, not only its path: a virtual environment's `bin/abhaya`
    starts an interpreter that may live in a home folder (pyenv's do), found through the
    script's first line and the venv's symlinks."""
    texts = [*settings.program, *_program_files(settings.program), settings.policy_text or ""]
    in_home = any(root in text for text in texts for root in HOME_ROOTS)
    return "read-only" if in_home else "yes"


def _program_files(program: Iterable[str]) -> list[str]:
    """The real paths behind the program's words that are files here, and the interpreter
    a script names on its `#!` line."""
    found: list[str] = []
    for word in program:
        if not os.path.isfile(word):
            continue
        found.append(os.path.realpath(word))
        try:
            with open(word, "rb") as handle:
                first = handle.readline(512)
        except OSError:
            continue
        if first.startswith(b"#!"):
            interpreter = first[2:].split()[0].decode("utf-8", errors="replace")
            found.append(os.path.realpath(interpreter))
    return found


def unit_text(settings: InstallSettings) -> str:
    user = settings.service_user
    # The policy's own folder only: the settings folder above it (the routing rules root
    # loads) stays read-only to the agent even if its account were misused.
    folders = [str(settings.data_dir)]
    if settings.policy_text is not None:
        folders.append(str(settings.policy_dir))
    writable = quote_all(folders)
    environment = "\n".join(f"Environment={quote(f'{k}={v}')}" for k, v in ENVIRONMENT)
    no_retry = " ".join(str(int(status)) for status in NO_RETRY)
    return f"""\
# Written by `abhaya install`; `abhaya uninstall` removes it.  Edits are lost on reinstall.
[Unit]
Description=Abhaya filtering agent (web filter for this computer's children)
After=network.target
StartLimitIntervalSec=0

[Service]
Type=notify
NotifyAccess=main
User={quote(user)}
Group={quote(user)}
ExecStart={exec_line(settings.run_command)}
# SIGHUP reloads the policy (an invalid one is refused and the running one stays).
ExecReload=/bin/kill -HUP $MAINPID
{environment}
UMask=0077
Restart=always
RestartSec={RESTART_SEC}
RestartPreventExitStatus={no_retry}
TimeoutStartSec=180s
TimeoutStopSec=30s
WatchdogSec={WATCHDOG_SEC}
MemoryHigh={MEMORY_HIGH}
MemoryMax={MEMORY_MAX}
RuntimeDirectory=abhaya
RuntimeDirectoryMode=0755
ProtectSystem=strict
ReadWritePaths={writable}
ProtectHome={protect_home(settings)}
NoNewPrivileges=yes
CapabilityBoundingSet=
PrivateTmp=yes
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
SystemCallArchitectures=native

[Install]
WantedBy=multi-user.target
"""
