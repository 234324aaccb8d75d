"""Running wrk (a separate process, pinned to its own core) and reading its results."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from procs import pinned

LUA = Path(__file__).resolve().with_name("mix.lua")


@dataclass(frozen=True)
class Sample:
    """One timed wrk run."""

    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    errors: int  # socket errors, timeouts and non-2xx/3xx responses


def wrk_binary() -> str:
    exe = shutil.which("wrk")
    if exe is None:
        raise FileNotFoundError("wrk is not installed (apt-get install -y wrk)")
    return exe


def run_wrk(
    port: int,
    targets_file: Path,
    host_header: str | None,
    seconds: float,
    connections: int,
    core: str | None,
) -> Sample:
    """Load 127.0.0.1:`port` for `seconds` with keep-alive connections on one thread."""
    command = [
        wrk_binary(),
        "-t1",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
        "-s",
        str(LUA),
        f"http://127.0.0.1:{port}/",
        "--",
        str(targets_file),
    ]
    if host_header is not None:
        command.append(host_header)
    done = subprocess.run(
        pinned(command, core), capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{done.stdout}\n{done.stderr}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    errors = sum(int(raw[k]) for k in ("connect", "read", "write", "status", "timeout"))
    return Sample(
        rps=raw["requests"] / (raw["duration_us"] / 1e6),
        p50_ms=raw["p50_us"] / 1000,
        p90_ms=raw["p90_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        requests=int(raw["requests"]),
        errors=errors,
    )
