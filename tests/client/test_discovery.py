"""Finding the agent's API: the user's own data folder first, then the installed service's
published api.json (/run/abhaya)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from abhaya.client.discovery import (
    API_FILE_NAME,
    ApiAddress,
    DiscoveryError,
    find_api_file,
)


def _write(folder: Path, port: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / API_FILE_NAME).write_text(json.dumps({"host": "127.0.0.1", "port": port, "pid": 7}))


def test_the_users_own_agent_comes_first(tmp_path: Path) -> None:
    _write(tmp_path / "own", 1111)
    _write(tmp_path / "run", 2222)
    assert find_api_file(tmp_path / "own", tmp_path / "run").port == 1111


def test_without_one_the_service_is_found(tmp_path: Path) -> None:
    _write(tmp_path / "run", 2222)
    found = find_api_file(tmp_path / "own", tmp_path / "run")
    assert found == ApiAddress("127.0.0.1", 2222, 7)


def test_a_damaged_own_file_is_reported_not_hidden(tmp_path: Path) -> None:
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / API_FILE_NAME).write_text("{not json")
    _write(tmp_path / "run", 2222)
    with pytest.raises(DiscoveryError, match="cannot read"):
        find_api_file(tmp_path / "own", tmp_path / "run")


def test_neither_names_both_places(tmp_path: Path) -> None:
    with pytest.raises(DiscoveryError) as caught:
        find_api_file(tmp_path / "own", tmp_path / "run")
    assert str(tmp_path / "own") in str(caught.value)
    assert str(tmp_path / "run") in str(caught.value)
    assert "systemctl start abhaya" in str(caught.value)
