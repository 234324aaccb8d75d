"""The writing side of api.json, where the control API listens (clients read it with
`abhaya.client.discovery`; the proxy's guard reads the port from `agent.endpoint`).

The agent writes `api.json` (host, port, pid) into its data dir, readable only by the agent's
user (the same user who may read the store's key file).  The file is replaced atomically, so a
reader never sees half of it, and removed when the API stops.

A system service's data dir (/var/lib/abhaya) is its own account's alone, so the parents'
programs could not find the API there.  Under systemd the agent also publishes the file in its
runtime folder (`RuntimeDirectory=abhaya`: /run/abhaya, made by systemd and removed when the
service stops), readable by every account: the address and pid are no secret, the API itself
asks for the parent PIN, and the runtime folder is writable only by the agent.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from abhaya.client.discovery import API_FILE_NAME, ApiAddress, DiscoveryError, read_api_file

__all__ = [
    "API_FILE_NAME",
    "PUBLISHED_MODE",
    "ApiAddress",
    "remove_api_file",
    "write_api_file",
]


PUBLISHED_MODE = 0o644
"""The mode of the copy in the runtime folder: every account may read where the API is."""


def write_api_file(data_dir: Path, address: ApiAddress, mode: int = 0o600) -> Path:
    """Write `api.json` (mode 0600 unless told) through a temporary file and an atomic rename."""
    path = data_dir / API_FILE_NAME
    temporary = data_dir / f".{API_FILE_NAME}.{os.getpid()}.tmp"
    text = json.dumps({"host": address.host, "port": address.port, "pid": address.pid})
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temporary, flags, mode)
    try:
        os.fchmod(fd, mode)  # the agent's umask (077) would narrow a published copy
        os.write(fd, text.encode("utf-8"))
    finally:
        os.close(fd)
    os.replace(temporary, path)
    return path


def remove_api_file(data_dir: Path, pid: int) -> None:
    """Remove `api.json` if it is still this process's (another agent may have replaced it)."""
    path = data_dir / API_FILE_NAME
    try:
        if read_api_file(data_dir).pid == pid:
            path.unlink()
    except (DiscoveryError, FileNotFoundError):
        return
