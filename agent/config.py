"""Run-time settings of the agent, checked before anything starts.

The proxy filters a child's traffic, so exposing it beyond the machine is a deliberate act:
a non-loopback listen address is refused unless `--allow-lan` says so.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LISTEN = "127.0.0.1:8080"
DEFAULT_API_LISTEN = "127.0.0.1:0"
"""Port 0: a free port, recorded in the data dir's api.json for clients."""
DEFAULT_UPSTREAM_TIMEOUT = 30.0


class ConfigError(Exception):
    """A setting that cannot be used; the message says which and why."""


@dataclass(frozen=True, slots=True)
class RunConfig:
    host: str
    port: int
    data_dir: Path
    policy_path: Path | None
    """None means the policy embedded in the package."""
    upstream_ca: Path | None = None
    """Extra CA bundle for verifying upstream servers (a school's own TLS inspection)."""
    reload_interval: float = 2.0
    """Seconds between checks of the policy file for changes."""
    api_host: str = "127.0.0.1"
    api_port: int = 0
    """The control API's loopback address; port 0 takes a free port."""
    allow_local_ports: frozenset[int] = frozenset()
    """Ports on this machine that proxied traffic may reach (`--allow-local-port`).  Every
    other address of this machine is refused after name resolution, and the control API's port
    always is, so a name or a spelling of 127.0.0.1 cannot lead a child's browser to local
    services."""
    upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT
    """Seconds the proxy waits for an upstream server to connect and answer before it shows the
    child Abhaya's "the site did not answer" page."""

    relay_tunnels: bool = True
    """Relay the CONNECT tunnels that are passed through undecrypted in front of mitmproxy
    (`agent.tunnels`); False carries them through mitmproxy as well (`--no-tunnel-relay`: slower,
    for comparison)."""

    runtime_dir: Path | None = None
    """The service manager's runtime folder (systemd's `RUNTIME_DIRECTORY`, /run/abhaya):
    api.json is published there for every account to read; None outside a service."""

    model_dir: Path | None = None
    """Where the text encoder's ONNX file is built and kept; None means `data_dir/models`.
    Agents on one machine may share one folder (the tests do: the build takes seconds)."""

    trust_store: Path | None = None
    """The system trust bundle in which the status call looks for the agent's CA; None means
    OpenSSL's default here (`agent.catrust.system_bundle`).  Tests pass a bundle of their own
    rather than touch the real store (`abhaya run --trust-store`)."""

    def __post_init__(self) -> None:
        for port in self.allow_local_ports:
            if not 1 <= port <= 65535:
                raise ConfigError(f"--allow-local-port {port}: expected a port number 1-65535")
        if self.upstream_timeout <= 0:
            raise ConfigError(f"upstream timeout {self.upstream_timeout}: must be positive")

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def models_dir(self) -> Path:
        return self.model_dir if self.model_dir is not None else self.data_dir / "models"

    @property
    def ca_dir(self) -> Path:
        return self.data_dir / "ca"


def default_data_dir() -> Path:
    """Per-user data folder (XDG on Linux); a system service passes --data-dir."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "abhaya"


def runtime_dir_from(environ: Mapping[str, str]) -> Path | None:
    """The first folder of systemd's `RUNTIME_DIRECTORY` (a unit may name several, joined by
    ":"), when set."""
    first = environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(first) if first else None


def parse_listen(text: str, allow_lan: bool, option: str = "--listen") -> tuple[str, int]:
    """Parse HOST:PORT (IPv6 as [::1]:PORT); refuse non-loopback hosts without allow_lan.

    `option` names the command-line option in error messages.
    """
    host, sep, port_text = text.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"{option} {text!r}: expected HOST:PORT, for example {DEFAULT_LISTEN}")
    host = host.removeprefix("[").removesuffix("]")
    try:
        port = int(port_text)
    except ValueError:
        raise ConfigError(f"{option} {text!r}: port {port_text!r} is not a number") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{option} {text!r}: port must be 0-65535")
    if host == "localhost":
        host = "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ConfigError(f"{option} {text!r}: {host!r} is not an IP address") from None
    if not address.is_loopback and not allow_lan:
        raise ConfigError(
            f"{option} {text!r}: {host} is not a loopback address; the proxy would filter (and "
            "see) other machines' traffic. Pass --allow-lan if that is really intended."
        )
    return host, port
