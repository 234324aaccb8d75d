"""Detecting a running agent before `install-and-run.sh` reinstalls under it: real processes."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from abhaya.agent.running import EXIT_RUNNING, find_running
from tests.agent.test_cli import AgentProcess
from tests.conftest import write_policy

REPO = Path(__file__).resolve().parents[2]
RUNNING = [sys.executable, "-m", "abhaya.agent.running"]


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AgentProcess]:
    folder = tmp_path_factory.mktemp("agent")
    process = AgentProcess(folder, write_policy(folder / "policy"))
    yield process
    process.process.terminate()
    process.process.wait(timeout=30)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*RUNNING, *args], capture_output=True, text=True, timeout=60)


def test_a_running_agent_is_found_by_its_data_folder(agent: AgentProcess) -> None:
    data = agent.folder / "data"
    result = check("--data-dir", str(data), "--listen", f"127.0.0.1:{free_port()}")
    assert result.returncode == EXIT_RUNNING
    pid = agent.process.pid
    assert f"an Abhaya agent is already running (pid {pid}, data folder {data}" in result.stderr
    assert f"`kill {pid}`" in result.stderr


def test_a_running_agent_is_found_by_its_listen_address(
    agent: AgentProcess, tmp_path: Path
) -> None:
    result = check("--data-dir", str(tmp_path), "--listen", f"127.0.0.1:{agent.port}")
    assert result.returncode == EXIT_RUNNING
    assert f"something already listens on 127.0.0.1:{agent.port}" in result.stderr


def test_nothing_running(tmp_path: Path) -> None:
    result = check("--data-dir", str(tmp_path), "--listen", f"127.0.0.1:{free_port()}")
    assert (result.returncode, result.stderr) == (0, "")


def test_api_file_of_a_dead_or_foreign_process_does_not_count(tmp_path: Path) -> None:
    """A crash leaves api.json behind, and its pid may since belong to another program."""
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    foreign = subprocess.Popen(["sleep", "60"])
    try:
        for pid in (int(dead.stdout), foreign.pid):
            (tmp_path / "api.json").write_text(
                json.dumps({"host": "127.0.0.1", "port": free_port(), "pid": pid})
            )
            assert find_running(tmp_path, f"127.0.0.1:{free_port()}") is None
    finally:
        foreign.kill()
        foreign.wait()


def test_the_script_stops_before_reinstalling(agent: AgentProcess, tmp_path: Path) -> None:
    """`install-and-run.sh` run a second time says the agent runs and installs nothing.

    The script runs in a copy of its folder whose `.venv/bin/python` is this interpreter,
    except that pip is refused and recorded: a failing check must not reinstall the test's
    own environment."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO / "scripts" / "install-and-run.sh", tmp_path / "scripts")
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    pip_log = tmp_path / "pip.log"
    (bin_dir / "python").write_text(
        "#!/bin/sh\n"
        f'case "$*" in *pip*) echo "$*" >> {pip_log}; exit 1;; esac\n'
        f'exec {sys.executable} "$@"\n'
    )
    (bin_dir / "python").chmod(0o755)
    data = agent.folder / "data"
    result = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "install-and-run.sh"), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == EXIT_RUNNING, result.stderr
    assert f"already running (pid {agent.process.pid}" in result.stderr
    assert not pip_log.exists()
