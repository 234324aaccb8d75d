"""The proxy settings that make programs of the filtered accounts use the agent.

Two shell scripts with one test of who is asking (an account the rules filter: uid from
`first_human_uid` up, neither the agent's nor an unfiltered one), because a static file would
also send the parents' and the system's programs through the agent:
- `/etc/profile.d/abhaya-proxy.sh`, read by login shells;
- a user environment generator, run by each account's systemd user manager (a static file in
  `/etc/environment.d/` cannot say whom it is for; a generator can), so programs started from
  a desktop session see the variables too.
"""

from __future__ import annotations

import shlex
from pathlib import PurePosixPath

PROFILE_PATH = PurePosixPath("/etc/profile.d/abhaya-proxy.sh")
GENERATOR_PATH = PurePosixPath("/etc/systemd/user-environment-generators/60-abhaya-proxy")
NO_PROXY = "localhost,127.0.0.1,::1"


def proxy_variables(proxy_address: str) -> list[tuple[str, str]]:
    url = f"http://{proxy_address}"
    return [
        ("http_proxy", url),
        ("https_proxy", url),
        ("HTTP_PROXY", url),
        ("HTTPS_PROXY", url),
        ("no_proxy", NO_PROXY),
        ("NO_PROXY", NO_PROXY),
    ]


def _script(
    header: list[str],
    exempt: tuple[str, ...],
    first_human_uid: int,
    body: list[str],
) -> str:
    names = "|".join(shlex.quote(name) for name in sorted(set(exempt)))
    lines = [
        *header,
        "# Written by `abhaya install`: the accounts it filters reach the web only through the",
        "# agent (the firewall refuses their direct web traffic), so their programs are told",
        "# to use it.  The agent's own account and the unfiltered ones are left alone.",
        'case "$(id -un 2>/dev/null)" in',
        f"{names}) ;;",
        "*)",
        f'\tif [ "$(id -u)" -ge {first_human_uid} ]; then',
        *[f"\t\t{line}" for line in body],
        "\tfi",
        "\t;;",
        "esac",
    ]
    return "\n".join(lines) + "\n"


def profile_script(proxy_address: str, exempt: tuple[str, ...], first_human_uid: int) -> str:
    """Sourced by login shells (`sh` syntax, no shebang: profile.d files are not run)."""
    variables = proxy_variables(proxy_address)
    body = [f"export {name}={shlex.quote(value)}" for name, value in variables]
    return _script([], exempt, first_human_uid, body)


def generator_script(proxy_address: str, exempt: tuple[str, ...], first_human_uid: int) -> str:
    """Run by the user manager; prints the variables as KEY=VALUE lines."""
    variables = proxy_variables(proxy_address)
    body = [f"echo {shlex.quote(f'{name}={value}')}" for name, value in variables]
    return _script(["#!/bin/sh"], exempt, first_human_uid, body)
