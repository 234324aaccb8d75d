"""Exit statuses a service manager can act on: retry what may pass, stop on what cannot."""

from __future__ import annotations

import asyncio
import errno
import socket
from pathlib import Path

import pytest

from abhaya.agent.config import ConfigError, RunConfig
from abhaya.agent.exits import ExitStatus, FatalError, ListenError, exit_status
from abhaya.agent.proxy import Agent
from abhaya.agent.store import StoreError
from abhaya.agent.store.keys import KeyUnavailableError
from abhaya.filters.policy.load import PolicyError
from tests.conftest import TEST_MODEL_DIR, write_policy


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (ListenError("port in use", errno.EADDRINUSE), ExitStatus.TEMPFAIL),
        (ListenError("not this machine's address", errno.EADDRNOTAVAIL), ExitStatus.CONFIG),
        (ListenError("privileged port", errno.EACCES), ExitStatus.CONFIG),
        (KeyUnavailableError("keyring locked"), ExitStatus.TEMPFAIL),
        (StoreError("schema is newer"), ExitStatus.CONFIG),
        (PolicyError("policy.toml", ["bad"]), ExitStatus.CONFIG),
        (ConfigError("--listen refused"), ExitStatus.CONFIG),
        (PermissionError(errno.EACCES, "data folder"), ExitStatus.CONFIG),
        (FatalError("the event writer died"), ExitStatus.SOFTWARE),
        (RuntimeError("a bug"), ExitStatus.SOFTWARE),
    ],
)
def test_exit_status(error: BaseException, status: ExitStatus) -> None:
    assert exit_status(error) is status


def test_a_busy_port_stops_the_agent_with_a_temporary_listen_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = RunConfig(
            host="127.0.0.1",
            port=port,
            data_dir=tmp_path / "data",
            policy_path=write_policy(tmp_path / "policy"),
            model_dir=TEST_MODEL_DIR,
        )
        agent = Agent(config)
        with pytest.raises(ListenError) as caught:
            asyncio.run(asyncio.wait_for(agent.run(), 30))
    assert caught.value.temporary
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert not (tmp_path / "data" / "api.json").exists()  # everything was closed


def test_an_event_writer_that_gives_up_stops_the_agent_loudly(tmp_path: Path) -> None:
    """The writer calls back when it cannot be restarted; the agent must not filter on without
    a record: it stops, closes every part, and `run()` raises what `abhaya run` exits 70 for."""
    config = RunConfig(
        host="127.0.0.1",
        port=0,
        data_dir=tmp_path / "data",
        policy_path=write_policy(tmp_path / "policy"),
        model_dir=TEST_MODEL_DIR,
    )
    agent = Agent(config)

    async def main() -> None:
        ready = asyncio.Event()
        running = asyncio.create_task(agent.run(on_ready=lambda _agent: ready.set()))
        await asyncio.wait_for(ready.wait(), 30)
        # The writer's own thread makes this call when its restarts are used up.
        await asyncio.to_thread(agent._writer_gave_up, "the store cannot be reopened")
        await asyncio.wait_for(running, 30)

    with pytest.raises(FatalError, match="the store cannot be reopened") as caught:
        asyncio.run(main())
    assert exit_status(caught.value) is ExitStatus.SOFTWARE
    assert not (tmp_path / "data" / "api.json").exists()
