"""api.json published in the service's runtime folder for every account, beside the data dir's
own copy, and removed at stop; read through the fallback clients use."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from abhaya.agent.config import runtime_dir_from
from abhaya.client.discovery import API_FILE_NAME, find_api_file, read_api_file
from tests.agent.conftest import Upstream, start_agent


def test_the_runtime_folder_gets_a_world_readable_copy_removed_at_stop(
    tmp_path: Path, upstream: Upstream
) -> None:
    runtime = tmp_path / "run-abhaya"
    runtime.mkdir(mode=0o755)
    old_umask = os.umask(0o077)  # as `abhaya run` sets it
    try:
        running = start_agent(tmp_path, upstream, runtime_dir=runtime)
    finally:
        os.umask(old_umask)
    try:
        published = runtime / API_FILE_NAME
        assert stat.S_IMODE(published.stat().st_mode) == 0o644
        own = running.agent.config.data_dir / API_FILE_NAME
        assert stat.S_IMODE(own.stat().st_mode) == 0o600
        address = running.agent.api.address
        assert read_api_file(runtime) == address
        # A parent's program with a data folder of its own (no api.json) finds the service.
        assert find_api_file(tmp_path / "parent-data", service_dir=runtime) == address
    finally:
        running.stop()
    assert not (runtime / API_FILE_NAME).exists()
    assert not own.exists()


def test_runtime_directory_is_read_from_systemds_variable() -> None:
    assert runtime_dir_from({}) is None
    assert runtime_dir_from({"RUNTIME_DIRECTORY": ""}) is None
    assert runtime_dir_from({"RUNTIME_DIRECTORY": "/run/abhaya"}) == Path("/run/abhaya")
    assert runtime_dir_from({"RUNTIME_DIRECTORY": "/run/abhaya:/run/other"}) == Path("/run/abhaya")
