"""Real SQLCipher stores in tmp_path for the store tests.

The OS keyring is switched to keyring's `fail` backend for every store test, so the key goes
to the 0600 key file in the test's data dir and nothing lands in a developer's real keyring.
The Secret Service tests in test_keys.py switch back to the detected backend themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import keyring
import keyring.backends.fail
import pytest

from abhaya.agent.store import Event, EventKind, Store, open_store

T0 = datetime(2026, 11, 30, 4, 30, tzinfo=UTC)


def make_event(**fields: Any) -> Event:
    """A verdict event with generated values; keyword arguments override any field."""
    values: dict[str, Any] = {
        "time": T0,
        "kind": EventKind.VERDICT,
        "profile": "child",
        "category": "adult",
        "action": "block",
        "domain": "adult.example",
        "url": "https://adult.example/page",
        "rule": "adult.example",
        "app": "",
        "detail": "domain is on the adult block list",
    }
    values.update(fields)
    return Event(**values)


@pytest.fixture(autouse=True)
def file_keyring() -> Iterator[None]:
    original = keyring.get_keyring()
    keyring.set_keyring(keyring.backends.fail.Keyring())
    yield
    keyring.set_keyring(original)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def store(data_dir: Path) -> Store:
    return open_store(data_dir)
