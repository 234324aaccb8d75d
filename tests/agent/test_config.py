"""Run-time settings refuse values that cannot be used, with the option named."""

from __future__ import annotations

from pathlib import Path

import pytest

from abhaya.agent.config import ConfigError, RunConfig


def _config(tmp_path: Path, **settings: object) -> RunConfig:
    return RunConfig(host="127.0.0.1", port=0, data_dir=tmp_path, policy_path=None, **settings)  # type: ignore[arg-type]


def test_local_ports_are_none_by_default(tmp_path: Path) -> None:
    assert _config(tmp_path).allow_local_ports == frozenset()


@pytest.mark.parametrize("port", [0, 65536, -1])
def test_an_impossible_local_port_is_refused(tmp_path: Path, port: int) -> None:
    with pytest.raises(ConfigError, match="--allow-local-port"):
        _config(tmp_path, allow_local_ports=frozenset({port}))


@pytest.mark.parametrize("timeout", [0.0, -1.0])
def test_the_upstream_timeout_must_be_positive(tmp_path: Path, timeout: float) -> None:
    with pytest.raises(ConfigError, match="timeout"):
        _config(tmp_path, upstream_timeout=timeout)
