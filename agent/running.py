"""Is an Abhaya agent already running here?  Asked before reinstalling the package under it.

`scripts/install-and-run.sh` installs the package into `.venv` and starts the agent.  Run a
second time while the first agent still runs, it would rewrite the installed files under that
agent, which then reloads its policy from them.  The script asks this module first and, if an
agent runs, stops with a message that says how to stop it instead.

An agent runs if the data folder's `api.json` names a live process that is Abhaya (a file left
behind by a crash, or naming a pid now reused by another program, does not count), or if
something already listens on the proxy's address (another agent with another data folder, or
another program: `abhaya run` could not listen there either).

    python -m abhaya.agent.running [abhaya run options]

reads `--data-dir` and `--listen` from the options `abhaya run` would get, and exits 0 when
nothing runs, or `EXIT_RUNNING` with the message on stderr.
"""

from __future__ import annotations

import argparse
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import psutil

from abhaya.agent.config import DEFAULT_LISTEN, ConfigError, default_data_dir, parse_listen
from abhaya.client.discovery import DiscoveryError, read_api_file

__all__ = ["EXIT_RUNNING", "find_running", "main"]

EXIT_RUNNING = 75
"""EX_TEMPFAIL: the same command works once the running agent has stopped."""


def find_running(data_dir: Path, listen: str = DEFAULT_LISTEN) -> str | None:
    """What runs already, as a sentence with how to stop it; None if nothing does."""
    try:
        address = read_api_file(data_dir)
    except DiscoveryError:
        address = None
    if address is not None and _is_abhaya(address.pid):
        return (
            f"an Abhaya agent is already running (pid {address.pid}, data folder {data_dir}, "
            f"control API {address.base_url}). Stop it with Ctrl+C in its terminal or "
            f"`kill {address.pid}`, then run this again."
        )
    try:
        host, port = parse_listen(listen, allow_lan=True)
    except ConfigError:
        return None  # `abhaya run` explains a bad --listen itself
    if port and _listening(host, port):
        return (
            f"something already listens on {listen} (another Abhaya agent, or another "
            f"program). Stop it first (`ss -ltnp` shows which process it is), or choose "
            f"another address with --listen."
        )
    return None


def _is_abhaya(pid: int) -> bool:
    """Whether `pid` is a live Abhaya process; one we may not inspect is assumed to be."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        return any("abhaya" in part for part in process.cmdline())
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m abhaya.agent.running",
        description="Exit 0 if no Abhaya agent runs for these `abhaya run` options.",
    )
    parser.add_argument("--data-dir", type=Path, metavar="DIR")
    parser.add_argument("--listen", default=DEFAULT_LISTEN, metavar="HOST:PORT")
    args, _ = parser.parse_known_args(argv)
    data_dir = (args.data_dir or default_data_dir()).expanduser().absolute()
    found = find_running(data_dir, args.listen)
    if found is None:
        return 0
    print(f"abhaya: {found}", file=sys.stderr)
    return EXIT_RUNNING


if __name__ == "__main__":
    sys.exit(main())
