"""A local HTTPS upstream for the tests that run a real agent (`tests.agent.conftest`)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.agent.conftest import Upstream, local_upstream


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    with local_upstream(tmp_path_factory.mktemp("upstream")) as server:
        yield server
