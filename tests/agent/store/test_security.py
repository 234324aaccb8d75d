"""The sealed security settings beside the database (key-file mode: the marker is a file).

The keyring-mode marker is covered through the parent PIN in tests/agent/api/test_pin.py,
which runs on the real Secret Service.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from abhaya.agent.pause import PAUSED_UNTIL_KEY, PauseSwitch
from abhaya.agent.store import StoreError, open_store, reset_pin
from abhaya.agent.store.db import DB_FILE_NAME
from abhaya.agent.store.keys import KEY_FILE_NAME
from abhaya.agent.store.security import (
    PIN_HASH_KEY,
    PIN_MARKER_FILE_NAME,
    SECURITY_FILE_NAME,
    SecuritySettingsError,
)
from tests.agent.store.conftest import T0


def test_the_marker_beside_the_key_file_outlives_the_data_files(data_dir: Path) -> None:
    store = open_store(data_dir)
    store.security.update({PIN_HASH_KEY: "$argon2id$generated"})
    assert (data_dir / PIN_MARKER_FILE_NAME).exists()
    for path in data_dir.iterdir():
        if path.name not in (KEY_FILE_NAME, PIN_MARKER_FILE_NAME):
            path.unlink()

    reopened = open_store(data_dir)

    assert reopened.security_problem is not None and "missing" in reopened.security_problem
    with pytest.raises(SecuritySettingsError):
        reopened.security.update({PIN_HASH_KEY: "$argon2id$chosen-by-someone-else"})
    assert not (data_dir / SECURITY_FILE_NAME).exists()  # nothing was written


def test_without_a_pin_a_missing_file_is_simply_empty(data_dir: Path) -> None:
    store = open_store(data_dir)
    store.security.update({PAUSED_UNTIL_KEY: T0})
    (data_dir / SECURITY_FILE_NAME).unlink()
    assert open_store(data_dir).security_problem is None
    assert store.security.read() == {}


def test_an_edited_value_is_refused_and_the_pause_reads_as_off(data_dir: Path) -> None:
    store = open_store(data_dir)
    PauseSwitch(store).pause(T0 + timedelta(minutes=30))
    path = data_dir / SECURITY_FILE_NAME
    document = json.loads(path.read_text())
    document[PAUSED_UNTIL_KEY] = (T0 + timedelta(days=365)).isoformat()  # a longer pause
    path.write_text(json.dumps(document))

    reopened = open_store(data_dir)

    assert reopened.security_problem is not None and "HMAC" in reopened.security_problem
    assert PauseSwitch(reopened).paused_until(T0) is None  # protection stays on


def test_the_pause_end_survives_a_replaced_database(data_dir: Path) -> None:
    store = open_store(data_dir)
    until = T0 + timedelta(minutes=30)
    PauseSwitch(store).pause(until)
    (data_dir / DB_FILE_NAME).write_bytes(b"damaged" * 1000)
    reopened = open_store(data_dir)
    assert reopened.recovery is not None
    assert PauseSwitch(reopened).paused_until(T0) == until


def test_reset_needs_the_key(data_dir: Path) -> None:
    open_store(data_dir).security.update({PIN_HASH_KEY: "$argon2id$generated"})
    (data_dir / KEY_FILE_NAME).unlink()
    with pytest.raises(StoreError):
        reset_pin(data_dir)
    assert (data_dir / PIN_MARKER_FILE_NAME).exists()  # nothing was cleared
