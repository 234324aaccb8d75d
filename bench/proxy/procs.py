"""Child processes of the benchmark: started pinned to a core, logged to files, always stopped.

Each child writes stdout and stderr to files in the run folder (a pipe nobody reads would
block it), is waited for by polling its port, and is stopped with SIGTERM and, after a grace
period, SIGKILL; e2guardian in particular does not always exit on SIGTERM.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import psutil

STOP_GRACE = 5.0


class ChildError(RuntimeError):
    """A child process failed to start or died; the message names it and points at its log."""


def free_port() -> int:
    """A free loopback port (tiny race until the child binds it; acceptable for a benchmark)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinning() -> tuple[str, str] | None:
    """(load-generator core, proxy core) when taskset and two cores exist, else None."""
    cores = sorted(os.sched_getaffinity(0))
    if shutil.which("taskset") is None or len(cores) < 2:
        return None
    return str(cores[0]), str(cores[1])


def pinned(command: Sequence[str], core: str | None) -> list[str]:
    return ["taskset", "-c", core, *command] if core is not None else list(command)


class Child:
    """One running child process with its log files."""

    def __init__(self, name: str, command: Sequence[str], folder: Path) -> None:
        self.name = name
        self.stdout_path = folder / f"{name}.stdout.log"
        self.stderr_path = folder / f"{name}.stderr.log"
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.popen = subprocess.Popen(
                list(command),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                cwd=folder,
                start_new_session=True,  # Ctrl+C reaches the benchmark, which stops children
            )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    def errors(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def check_alive(self) -> None:
        code = self.popen.poll()
        if code is not None:
            tail = "\n".join(self.errors().splitlines()[-15:])
            raise ChildError(f"{self.name} exited with code {code}; stderr tail:\n{tail}")

    def wait_until(self, ready: Callable[[], bool], timeout: float, what: str) -> float:
        """Poll `ready` until true; return the seconds it took.  Raises if the child dies."""
        start = time.monotonic()
        while not ready():
            self.check_alive()
            if time.monotonic() - start > timeout:
                raise ChildError(f"{self.name}: no {what} after {timeout:.0f} s")
            time.sleep(0.05)
        return time.monotonic() - start

    def wait_port(self, port: int, timeout: float) -> float:
        return self.wait_until(lambda: port_open(port), timeout, f"listener on port {port}")

    def rss(self) -> int:
        """Resident memory of the child and its descendants, in bytes."""
        proc = psutil.Process(self.pid)
        procs = [proc, *proc.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs)

    def stop(self) -> None:
        if self.popen.poll() is not None:
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(STOP_GRACE)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False
