"""Finding the running agent's control API: the reading side of `api.json`.

The API takes a free loopback port by default, so clients cannot know it in advance.  The agent
writes `api.json` (host, port, pid) into its data folder, readable only by the agent's user,
and removes it when the API stops (`abhaya.agent.api.discovery`); clients read it here.

An agent installed as a system service keeps its data folder to its own account, and publishes
a world-readable copy in its runtime folder, /run/abhaya; `find_api_file` looks there when the
user's own data folder has no api.json.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from abhaya.filters.urlnorm import bracketed

API_FILE_NAME = "api.json"
SERVICE_RUNTIME_DIR = Path("/run/abhaya")
"""Where the installed service publishes api.json (its unit's RuntimeDirectory=abhaya)."""


class DiscoveryError(Exception):
    """api.json is missing or unreadable: the agent is not running for this data dir."""


@dataclass(frozen=True, slots=True)
class ApiAddress:
    host: str
    port: int
    pid: int

    @property
    def base_url(self) -> str:
        shown = bracketed(self.host)
        return f"http://{shown}:{self.port}"


def read_api_file(data_dir: Path) -> ApiAddress:
    """The address in `data_dir/api.json`; DiscoveryError saying what is wrong otherwise."""
    path = data_dir / API_FILE_NAME
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DiscoveryError(
            f"the Abhaya agent is not running for {data_dir} (no {API_FILE_NAME}); "
            "start it with `abhaya run`"
        ) from None
    except (OSError, ValueError) as error:
        raise DiscoveryError(f"cannot read {path}: {error}") from None
    host, port, pid = (
        record.get(name) if isinstance(record, dict) else None for name in ("host", "port", "pid")
    )
    if not isinstance(host, str) or not isinstance(port, int) or not isinstance(pid, int):
        raise DiscoveryError(f"{path} does not hold an API address")
    return ApiAddress(host, port, pid)


def find_api_file(data_dir: Path, service_dir: Path = SERVICE_RUNTIME_DIR) -> ApiAddress:
    """The address in `data_dir`'s api.json, else in the service's published one.

    Only a missing file falls back: an unreadable or damaged one in `data_dir` is reported,
    not hidden behind another agent's address.  With neither, the error names both places.
    """
    try:
        return read_api_file(data_dir)
    except DiscoveryError:
        if (data_dir / API_FILE_NAME).exists() or data_dir == service_dir:
            raise
    try:
        return read_api_file(service_dir)
    except DiscoveryError as error:
        if (service_dir / API_FILE_NAME).exists():
            raise
        raise DiscoveryError(
            f"the Abhaya agent is not running for {data_dir} (no {API_FILE_NAME}), and no "
            f"installed service publishes one in {service_dir}; start it with `abhaya run` "
            "or `sudo systemctl start abhaya`"
        ) from error
